//! `convlytics sql`: ad-hoc SQL on the embedded engine, printed as a table, CSV or JSON.

use std::io::Write;

use datafusion::arrow::json::writer::{JsonArray, WriterBuilder};
use datafusion::arrow::record_batch::RecordBatch;

use crate::engine::EmbeddedEngine;
use crate::error::{Error, Result};

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects (NULLs kept as `null`).
    Json,
}

/// The most operators one ad-hoc statement may have. DataFusion plans an expression level by
/// level, and a chain of thousands of operators (`1+1+...+1`) costs it time quadratic in its
/// length; past this the statement is refused before planning, with what to do instead.
pub const MAX_OPERATORS: usize = 1_000;

/// Counts the operators of `sql` (arithmetic, comparison, concatenation, `AND`, `OR`) with
/// sqlparser's tokenizer, in one pass; a statement with more than [`MAX_OPERATORS`] is an error.
fn check_operators(sql: &str) -> Result<()> {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Ok(()); // DataFusion's parser reports the syntax error with its position
    };
    let operators = tokens
        .iter()
        .filter(|t| match t {
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq => true,
            Token::Word(w) => matches!(w.keyword, Keyword::AND | Keyword::OR),
            _ => false,
        })
        .count();
    if operators > MAX_OPERATORS {
        return Err(Error::Project(format!(
            "query: the statement has {operators} operators, over the limit of {MAX_OPERATORS}: DataFusion plans long operator chains slowly and deeply; aggregate over rows (sum, bool_and) or split the expression"
        )));
    }
    Ok(())
}

/// Runs one SQL statement on `engine` and writes its result to `out` in `format`.
pub async fn query(engine: &EmbeddedEngine, sql: &str, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    check_operators(sql)?;
    let df = engine.context().sql(sql).await.map_err(|e| Error::datafusion("query", e))?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await.map_err(|e| Error::datafusion("query", e))?;
    write_batches(&schema, &batches, format, out).map_err(|e| Error::io("<stdout>", e))
}

fn write_batches(
    schema: &datafusion::arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
    format: OutputFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let other = |e: datafusion::arrow::error::ArrowError| std::io::Error::other(e.to_string());
    match format {
        OutputFormat::Table => {
            let table = if batches.is_empty() {
                datafusion::arrow::util::pretty::pretty_format_batches(&[RecordBatch::new_empty(schema.clone())])
            } else {
                datafusion::arrow::util::pretty::pretty_format_batches(batches)
            }
            .map_err(other)?;
            writeln!(out, "{table}")
        }
        OutputFormat::Csv => {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(&mut *out);
            if batches.is_empty() {
                writer.write(&RecordBatch::new_empty(schema.clone())).map_err(other)?;
            }
            for batch in batches {
                writer.write(batch).map_err(other)?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let mut writer = WriterBuilder::new().with_explicit_nulls(true).build::<_, JsonArray>(&mut *out);
            for batch in batches {
                writer.write(batch).map_err(other)?;
            }
            writer.finish().map_err(other)?;
            drop(writer);
            writeln!(out)
        }
    }
}

/// Runs `sql` on PostgreSQL and prints its rows: a header of column names, then one
/// tab-separated line per row, each value as PostgreSQL writes it as text (NULL empty).
pub async fn print_rows(client: &tokio_postgres::Client, sql: &str, out: &mut dyn Write) -> Result<()> {
    use tokio_postgres::SimpleQueryMessage;
    let messages = client.simple_query(sql).await.map_err(|e| Error::postgres(sql, &e))?;
    let mut header = false;
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else { continue };
        if !header {
            let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
            writeln!(out, "{}", names.join("\t")).map_err(|e| Error::io("stdout", e))?;
            header = true;
        }
        let cells: Vec<&str> = (0..row.len()).map(|i| row.get(i).unwrap_or("")).collect();
        writeln!(out, "{}", cells.join("\t")).map_err(|e| Error::io("stdout", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(sql: &str, format: OutputFormat) -> String {
        let engine = EmbeddedEngine::new(std::env::temp_dir().join("convlytics-query-test"));
        let mut out = Vec::new();
        query(&engine, sql, format, &mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn formats_agree_on_one_result() {
        let sql = "select detect_language('Bonjour, je voudrais annuler ma commande') as l, \
                   detect_language('ok') as unsure";
        insta::assert_snapshot!(run(sql, OutputFormat::Table).await, @"
        +----+--------+
        | l  | unsure |
        +----+--------+
        | fr |        |
        +----+--------+
        ");
        insta::assert_snapshot!(run(sql, OutputFormat::Csv).await, @"
        l,unsure
        fr,
        ");
        insta::assert_snapshot!(run(sql, OutputFormat::Json).await, @r#"[{"l":"fr","unsure":null}]"#);
    }
}
