//! Files as the embedded engine reads them: the format from `meta.format` or the extension, CSV
//! as helpdesk exports write it (quoted values spanning lines, another delimiter, quote or
//! escape, no header, a BOM, a legacy encoding), and JSON lines under `.json`, `.jsonl` or
//! `.ndjson`, by path in `convlytics sql` too.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::csv as arrow_csv;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{GetExt, Result as DfResult, Statistics};
use datafusion::datasource::file_format::csv::{CsvFormat, CsvFormatFactory};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormatFactory;
use datafusion::datasource::file_format::{FileFormat as DfFileFormat, FileFormatFactory};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::object_store::{ObjectMeta, ObjectStore};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The formats a source file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated (or another delimiter), with a header row unless `header: false`.
    Csv,
    /// JSON lines: one object per line.
    Json,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The format named `declared`, or else the one `path`'s extension implies.
    pub fn of(path: &Path, declared: Option<&str>) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        match declared.unwrap_or(&ext) {
            "csv" | "tsv" => Ok(Self::Csv),
            "json" | "jsonl" | "ndjson" => Ok(Self::Json),
            "parquet" => Ok(Self::Parquet),
            other => Err(Error::Project(format!(
                "{}: cannot tell the file format from '{other}': expected csv, json (JSON lines) or parquet; set meta.format",
                path.display()
            ))),
        }
    }
}

/// How a CSV source is read: `meta.csv` in a property file. Quoted values may always span lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// The field separator (default `,`; `\t` for tabs).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// The quote character (default `"`).
    #[serde(default)]
    pub quote: Option<String>,
    /// The character that escapes a quote inside a quoted value (default: none, a quote is
    /// doubled).
    #[serde(default)]
    pub escape: Option<String>,
    /// Whether the first row names the columns (default true; without one they are `column_1`,
    /// `column_2`, ...).
    #[serde(default)]
    pub header: Option<bool>,
    /// The text encoding: `utf-8` (default; a byte-order mark is skipped), `utf-16` (by its
    /// byte-order mark), `latin1` / `iso-8859-1` or `windows-1252`.
    #[serde(default)]
    pub encoding: Option<String>,
}

/// One ASCII character of a CSV option, as the reader takes it.
fn single_byte(key: &str, value: &Option<String>) -> std::result::Result<Option<u8>, String> {
    let Some(value) = value else { return Ok(None) };
    let value = if value == "\\t" { "\t" } else { value.as_str() };
    match value.as_bytes() {
        [b] if b.is_ascii() => Ok(Some(*b)),
        _ => Err(format!("csv.{key}: '{value}' is not one ASCII character")),
    }
}

/// A text encoding other than UTF-8 that CSV sources may be in.
fn encoding(name: &str) -> std::result::Result<Option<&'static encoding_rs::Encoding>, String> {
    match name.to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" | "utf-8-sig" => Ok(None),
        "utf-16" | "utf-16le" => Ok(Some(encoding_rs::UTF_16LE)),
        "utf-16be" => Ok(Some(encoding_rs::UTF_16BE)),
        "latin1" | "latin-1" | "iso-8859-1" | "windows-1252" | "cp1252" => Ok(Some(encoding_rs::WINDOWS_1252)),
        other => Err(format!("csv.encoding: '{other}' is not one of utf-8, utf-16, utf-16be, latin1, windows-1252")),
    }
}

impl CsvOptions {
    /// Checks the options; the message names the key at fault.
    pub fn check(&self) -> std::result::Result<(), String> {
        for (key, value) in [("delimiter", &self.delimiter), ("quote", &self.quote), ("escape", &self.escape)] {
            single_byte(key, value)?;
        }
        self.encoding.as_deref().map(encoding).transpose()?;
        Ok(())
    }

    /// The files to read for `location`: itself when it is UTF-8, else a UTF-8 copy under
    /// `cache` (made once per file version).
    pub(crate) fn utf8_location(&self, location: &Path, cache: &Path) -> Result<PathBuf> {
        let Some(encoding) = self.encoding.as_deref().map(encoding).transpose().map_err(Error::Project)?.flatten()
        else {
            return Ok(location.to_path_buf());
        };
        let files: Vec<PathBuf> = if location.is_dir() {
            let entries = std::fs::read_dir(location).map_err(|e| Error::io(location, e))?;
            let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            files.sort();
            files
        } else {
            vec![location.to_path_buf()]
        };
        // The copy's directory is named for the location, the encoding and every file's length
        // and modification time: a changed file (also one inside a directory) gets a new copy.
        let mut key = DefaultHasher::new();
        (location, encoding.name()).hash(&mut key);
        for file in &files {
            let meta = std::fs::metadata(file).map_err(|e| Error::io(file, e))?;
            let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            (file, meta.len(), modified).hash(&mut key);
        }
        let dir = cache.join(format!("{:016x}", key.finish()));
        for file in &files {
            let name = file.file_name().map(PathBuf::from).unwrap_or_default();
            let out = dir.join(&name);
            if out.is_file() {
                continue;
            }
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let aside = dir.join(format!(".{}.part", name.display()));
            decode_file(encoding, file, &aside)?;
            std::fs::rename(&aside, &out).map_err(|e| Error::io(&out, e))?;
        }
        Ok(if location.is_dir() { dir } else { dir.join(location.file_name().unwrap_or_default()) })
    }
}

/// Writes `file`, in `encoding`, to `out` as UTF-8, a chunk at a time (a large export never
/// sits in memory whole).
fn decode_file(encoding: &'static encoding_rs::Encoding, file: &Path, out: &Path) -> Result<()> {
    use std::io::{Read, Write};
    let mut reader = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
    let mut writer = std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| Error::io(out, e))?);
    let mut decoder = encoding.new_decoder();
    let (mut bytes, mut text) = (vec![0u8; 64 << 10], String::new());
    loop {
        let read = reader.read(&mut bytes).map_err(|e| Error::io(file, e))?;
        text.clear();
        text.reserve(decoder.max_utf8_buffer_length(read).unwrap_or(4 * read + 4));
        let (_, _, _) = decoder.decode_to_string(&bytes[..read], &mut text, read == 0);
        writer.write_all(text.as_bytes()).map_err(|e| Error::io(out, e))?;
        if read == 0 {
            break;
        }
    }
    writer.flush().map_err(|e| Error::io(out, e))
}

/// DataFusion's CSV format with a schema inference that reads records as the scan does.
///
/// DataFusion infers a CSV schema from the file split into "lines" by object_store's
/// `LineDelimiter`, which also walks each chunk backwards with its quote state, so a quoted
/// value spanning lines can end a chunk inside the quotes and inference fails ("unequal lengths
/// between records"). This format infers from the local file with arrow's reader (the `csv`
/// crate, which follows the quotes) and leaves everything else to DataFusion's.
#[derive(Debug)]
pub(crate) struct QuotedCsv {
    inner: CsvFormat,
    format: arrow_csv::reader::Format,
}

impl QuotedCsv {
    /// The format of files read with `options`.
    pub(crate) fn new(options: &CsvOptions) -> std::result::Result<Self, String> {
        let mut inner = CsvFormat::default().with_has_header(options.header.unwrap_or(true));
        if let Some(d) = single_byte("delimiter", &options.delimiter)? {
            inner = inner.with_delimiter(d);
        }
        if let Some(q) = single_byte("quote", &options.quote)? {
            inner = inner.with_quote(q);
        }
        if let Some(e) = single_byte("escape", &options.escape)? {
            inner = inner.with_escape(Some(e));
        }
        Ok(Self::from_inner(inner))
    }

    /// DataFusion's CSV format with the same options (quoted values across lines on), for reading
    /// with a schema this format inferred.
    pub(crate) fn plain(&self) -> CsvFormat {
        CsvFormat::default().with_options(self.inner.options().clone())
    }

    fn from_inner(inner: CsvFormat) -> Self {
        let o = inner.options();
        let mut format = arrow_csv::reader::Format::default()
            .with_header(o.has_header.unwrap_or(true))
            .with_delimiter(o.delimiter)
            .with_quote(o.quote);
        if let Some(e) = o.escape {
            format = format.with_escape(e);
        }
        Self { inner: inner.with_newlines_in_values(true), format }
    }
}

/// How many records schema inference reads (DataFusion's default).
const INFER_RECORDS: usize = 1000;

#[async_trait::async_trait]
impl DfFileFormat for QuotedCsv {
    fn get_ext(&self) -> String {
        self.inner.get_ext()
    }

    fn get_ext_with_compression(&self, compression: &FileCompressionType) -> DfResult<String> {
        self.inner.get_ext_with_compression(compression)
    }

    fn compression_type(&self) -> Option<FileCompressionType> {
        self.inner.compression_type()
    }

    async fn infer_schema(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        objects: &[ObjectMeta],
    ) -> DfResult<SchemaRef> {
        let compressed = self.inner.compression_type().is_some_and(|c| c.is_compressed());
        let local: Option<Vec<PathBuf>> = objects
            .iter()
            .map(|o| Some(Path::new("/").join(o.location.as_ref())))
            .filter(|p| p.as_ref().is_some_and(|p| p.is_file()))
            .collect();
        let Some(files) = local.filter(|files| !compressed && files.len() == objects.len()) else {
            return self.inner.infer_schema(state, store, objects).await;
        };
        let mut schemas = Vec::with_capacity(files.len());
        for file in &files {
            let reader = std::io::BufReader::new(std::fs::File::open(file)?);
            let (schema, _) = self.format.infer_schema(reader, Some(INFER_RECORDS))?;
            schemas.push(schema);
        }
        Ok(Arc::new(Schema::try_merge(schemas)?))
    }

    async fn infer_stats(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        object: &ObjectMeta,
    ) -> DfResult<Statistics> {
        self.inner.infer_stats(state, store, table_schema, object).await
    }

    async fn create_physical_plan(
        &self,
        state: &dyn Session,
        conf: FileScanConfig,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.inner.create_physical_plan(state, conf).await
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        self.inner.file_source(table_schema)
    }
}

/// [`QuotedCsv`] for tables read by path (`select * from 'export.csv'`).
#[derive(Debug)]
struct QuotedCsvFactory;

impl GetExt for QuotedCsvFactory {
    fn get_ext(&self) -> String {
        CsvFormatFactory::new().get_ext()
    }
}

impl FileFormatFactory for QuotedCsvFactory {
    fn create(
        &self,
        state: &dyn Session,
        options: &std::collections::HashMap<String, String>,
    ) -> DfResult<Arc<dyn DfFileFormat>> {
        let created = CsvFormatFactory::new().create(state, options)?;
        match created.downcast_ref::<CsvFormat>() {
            Some(csv) => Ok(Arc::new(QuotedCsv::from_inner(CsvFormat::default().with_options(csv.options().clone())))),
            None => Ok(created),
        }
    }

    fn default(&self) -> Arc<dyn DfFileFormat> {
        Arc::new(QuotedCsv::from_inner(CsvFormat::default()))
    }
}

/// JSON lines under another extension, for tables read by path (`select * from 'x.jsonl'`).
#[derive(Debug)]
struct JsonLines(&'static str);

impl GetExt for JsonLines {
    fn get_ext(&self) -> String {
        self.0.to_owned()
    }
}

impl FileFormatFactory for JsonLines {
    fn create(
        &self,
        state: &dyn Session,
        options: &std::collections::HashMap<String, String>,
    ) -> DfResult<Arc<dyn DfFileFormat>> {
        JsonFormatFactory::new().create(state, options)
    }

    fn default(&self) -> Arc<dyn DfFileFormat> {
        JsonFormatFactory::new().default()
    }
}

/// Makes `ctx` read files by path as sources are read: CSV quoted values across lines, and
/// `.jsonl` / `.ndjson` as JSON lines.
pub(crate) fn configure(ctx: &SessionContext) {
    let state = ctx.state_ref();
    let mut state = state.write();
    state.config_mut().options_mut().catalog.newlines_in_values = true;
    // Each factory is new for its extension or replaces DataFusion's own, so registering
    // cannot fail.
    let _ = state.register_file_format(Arc::new(QuotedCsvFactory), true);
    for ext in ["jsonl", "ndjson"] {
        let _ = state.register_file_format(Arc::new(JsonLines(ext)), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EmbeddedEngine;

    #[test]
    fn options_name_the_key_at_fault() {
        let bad = CsvOptions { delimiter: Some(";;".into()), ..CsvOptions::default() };
        assert_eq!(bad.check().unwrap_err(), "csv.delimiter: ';;' is not one ASCII character");
        let bad = CsvOptions { encoding: Some("ebcdic".into()), ..CsvOptions::default() };
        assert!(bad.check().unwrap_err().starts_with("csv.encoding: 'ebcdic' is not one of"));
        let tabs =
            CsvOptions { delimiter: Some("\\t".into()), encoding: Some("Latin1".into()), ..CsvOptions::default() };
        assert_eq!(tabs.check(), Ok(()));
    }

    #[test]
    fn a_latin1_file_is_read_from_a_utf8_copy() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.csv");
        std::fs::write(&file, b"id,name\n1,Jos\xe9\n").unwrap();
        let options = CsvOptions { encoding: Some("latin1".into()), ..CsvOptions::default() };
        let copy = options.utf8_location(&file, &dir.path().join("cache")).unwrap();
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "id,name\n1,José\n");
        std::fs::write(&copy, "marked").unwrap();
        assert_eq!(options.utf8_location(&file, &dir.path().join("cache")).unwrap(), copy);
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "marked", "made once, not again for the same file");
        std::fs::write(&file, b"id,name\n1,Ren\xe9e\n").unwrap();
        let changed = options.utf8_location(&file, &dir.path().join("cache")).unwrap();
        assert_eq!(std::fs::read_to_string(&changed).unwrap(), "id,name\n1,Renée\n", "a changed file is copied anew");
        assert_eq!(CsvOptions::default().utf8_location(&file, dir.path()).unwrap(), file);
    }

    async fn rows(engine: &EmbeddedEngine, sql: &str) -> String {
        let batches = engine.context().sql(sql).await.expect(sql).collect().await.expect(sql);
        datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
    }

    #[tokio::test]
    async fn csv_options_and_json_lines_by_any_extension() {
        let dir = tempfile::tempdir().unwrap();
        let engine = EmbeddedEngine::new(dir.path().join("warehouse"));
        let semicolons = dir.path().join("export.txt");
        std::fs::write(&semicolons, b"1;'Caf\xe9; open\nlate';x\n2;'it''s';y\n").unwrap();
        let options = CsvOptions {
            delimiter: Some(";".into()),
            quote: Some("'".into()),
            header: Some(false),
            encoding: Some("windows-1252".into()),
            ..CsvOptions::default()
        };
        engine.register_file("raw", "export", &semicolons, FileFormat::Csv, &options).await.unwrap();
        let out = rows(&engine, "select column_1, column_2 from raw.export order by column_1").await;
        assert!(out.contains("| 1        | Café; open |") && out.contains("| 2        | it's       |"), "{out}");
        for ext in ["jsonl", "ndjson", "json"] {
            let file = dir.path().join(format!("bot.{ext}"));
            std::fs::write(&file, "{\"a\": 1}\n{\"a\": 2}\n").unwrap();
            let out = rows(&engine, &format!("select sum(a) as s from '{}'", file.display())).await;
            assert!(out.contains("| 3 |"), "{ext}: {out}");
        }
    }
}
