//! Loading seeds: a seed's CSV is read as text, each column's type is the declared one
//! (`column_types`) or inferred from every value, and the same casting SELECT loads it on both
//! engines, so a seed has the same types and values on DataFusion and PostgreSQL.

use std::path::Path;

use crate::error::{Error, Result};
use crate::project::Seed;
use crate::render::quote_ident;

/// A seed's rows as text, with each column's SQL type.
#[derive(Debug)]
pub struct SeedData {
    /// Column names, from the header.
    pub columns: Vec<String>,
    /// Each column's SQL type (`bigint`, `double precision`, `boolean`, `date`, `timestamp`,
    /// `varchar`, or the declared one).
    pub types: Vec<String>,
    /// The rows, one string per column; empty strings are NULL.
    pub rows: Vec<Vec<String>>,
}

impl SeedData {
    /// Reads `seed`'s CSV under `root`.
    pub fn read(root: &Path, seed: &Seed) -> Result<Self> {
        let path = root.join(&seed.path);
        let input = |message: String| Error::Input { path: path.clone(), message };
        // Quoted values may span lines; a UTF-8 byte-order mark is skipped.
        let mut reader =
            csv::ReaderBuilder::new().delimiter(seed.delimiter).from_path(&path).map_err(|e| input(e.to_string()))?;
        let columns: Vec<String> =
            reader.headers().map_err(|e| input(e.to_string()))?.iter().map(str::to_owned).collect();
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| input(format!("row {}: {e}", i + 2)))?;
            rows.push(record.iter().map(str::to_owned).collect());
        }
        if let Some(unknown) = seed.column_types.keys().find(|k| !columns.contains(k)) {
            return Err(input(format!(
                "column_types names '{unknown}', which is not a column (columns: {})",
                columns.join(", ")
            )));
        }
        let types = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                seed.column_types
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| infer(rows.iter().map(|r: &Vec<String>| r[i].as_str())))
            })
            .collect();
        Ok(Self { columns, types, rows })
    }

    /// The SELECT that turns the text columns of `staging` into typed columns.
    pub fn select(&self, staging: &str) -> String {
        let casts: Vec<String> = self
            .columns
            .iter()
            .zip(&self.types)
            .map(|(c, t)| format!("cast(nullif({q}, '') as {t}) as {q}", q = quote_ident(c)))
            .collect();
        format!("select {} from {staging}", casts.join(", "))
    }
}

/// The narrowest type every non-empty value fits: bigint, double precision, boolean, date,
/// timestamp, else varchar (and varchar when there are no values).
pub fn infer<'a>(values: impl Iterator<Item = &'a str> + Clone) -> String {
    let present = || values.clone().filter(|v| !v.is_empty());
    let all = |f: fn(&str) -> bool| present().next().is_some() && present().all(f);
    let ty = if all(|v| v.parse::<i64>().is_ok()) {
        "bigint"
    } else if all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)) {
        "double precision"
    } else if all(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "false")) {
        "boolean"
    } else if all(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()) {
        "date"
    } else if all(is_timestamp) {
        "timestamp"
    } else {
        "varchar"
    };
    ty.to_owned()
}

fn is_timestamp(v: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(v).is_ok()
        || ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .any(|f| chrono::NaiveDateTime::parse_from_str(v, f).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_across_lines_a_bom_and_another_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tickets.csv"), "\u{feff}id;body\n1;\"Hi\nit's \"\"broken\"\"\"\n2;fine\n")
            .unwrap();
        let mut seed = Seed {
            name: "tickets".into(),
            path: "tickets.csv".into(),
            column_types: Default::default(),
            tags: Vec::new(),
            enabled: true,
            delimiter: b',',
            description: None,
            columns: Vec::new(),
            templated: Vec::new(),
        };
        seed.set("delimiter", &serde_yaml::Value::from(";")).unwrap();
        let data = SeedData::read(dir.path(), &seed).unwrap();
        assert_eq!(data.columns, ["id", "body"]);
        assert_eq!(data.rows, [["1", "Hi\nit's \"broken\""], ["2", "fine"]]);
        assert_eq!(data.types, ["bigint", "varchar"]);
        let bad = seed.set("delimiter", &serde_yaml::Value::from(";;")).unwrap_err();
        assert!(bad.contains("one ASCII character"), "{bad}");
    }

    #[test]
    fn types_are_the_narrowest_that_fit_every_value() {
        let t = |v: &[&str]| infer(v.iter().copied());
        assert_eq!(t(&["1", "", "-20"]), "bigint");
        assert_eq!(t(&["1", "2.5"]), "double precision");
        assert_eq!(t(&["true", "FALSE"]), "boolean");
        assert_eq!(t(&["2024-01-31", ""]), "date");
        assert_eq!(t(&["2024-01-31T10:00:00Z", "2024-02-01 08:30:00"]), "timestamp");
        assert_eq!(t(&["2024-01-31", "soon"]), "varchar");
        assert_eq!(t(&["", ""]), "varchar");
        assert_eq!(t(&["NaN"]), "varchar");
    }
}
