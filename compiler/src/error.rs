//! The compiler's error type: every variant says where the problem is and what was expected.

use std::path::PathBuf;

/// Everything that can go wrong loading, compiling or running a project.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A YAML file does not have the expected shape.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A Jinja template (model, macro or YAML value) failed to render.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Template {
        /// The file (the macro's, when the error is inside a macro).
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What went wrong.
        message: String,
    },
    /// A model's SQL does not parse, or reads a relation without `ref()` or `source()`; the
    /// position is in the model file, mapped back through its Jinja.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Sql {
        /// The model file.
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// An input file (records, labels) cannot be used.
    #[error("{}: {message}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The project itself is inconsistent (unknown ref, duplicate model, bad profile...).
    #[error("{0}")]
    Project(String),
    /// Models depend on each other in a circle.
    #[error("dependency cycle: {0}")]
    Cycle(String),
    /// DataFusion rejected or failed a query.
    #[error("{context}: {source}")]
    DataFusion {
        /// The model or statement.
        context: String,
        /// DataFusion's error.
        source: datafusion::error::DataFusionError,
    },
    /// A query needed more memory than the embedded engine's limit, even spilling to disk.
    #[error(
        "{context}: {source}\nThe embedded engine's memory limit was reached, even spilling to disk: raise \
         --memory-limit (or memory_limit: of the profile's output)"
    )]
    MemoryLimit {
        /// The model or statement.
        context: String,
        /// DataFusion's error.
        source: datafusion::error::DataFusionError,
    },
    /// PostgreSQL rejected or failed a statement.
    #[error("{context}: {message}")]
    Postgres {
        /// The model or statement.
        context: String,
        /// The server's message, with its detail and hint when given.
        message: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// A serde_yaml error on `path`, with its line and column.
    pub fn yaml(path: impl Into<PathBuf>, err: &serde_yaml::Error) -> Self {
        let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
        let message = err.to_string();
        let message = match message.split_once(" at line ") {
            Some((head, _)) => head.to_owned(),
            None => message,
        };
        Self::Yaml { path: path.into(), line, column, message }
    }

    /// A taxonomy problem in the YAML file `path`, with its line and column.
    pub fn taxonomy(path: impl Into<PathBuf>, err: convlytics_core::taxonomy::TaxonomyError) -> Self {
        Self::Yaml { path: path.into(), line: err.line, column: err.column, message: err.message }
    }

    /// A minijinja error in the template rendered from `path`, with its line and column. An
    /// error inside another template of the project (a macro file, named relative to `root`) is
    /// reported in that file, naming the one being rendered.
    pub fn template(root: &std::path::Path, path: impl Into<PathBuf>, err: &minijinja::Error) -> Self {
        let mut message = err.kind().to_string();
        if let Some(detail) = err.detail() {
            message = format!("{message}: {detail}");
        }
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            message = format!("{message}: {inner}");
            source = inner.source();
        }
        let mut path = path.into();
        if let Some(other) = err.name().map(|n| root.join(n)).filter(|p| p.is_file() && *p != path) {
            let rendering = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            message = format!("{message} (rendering {rendering})");
            path = other;
        }
        let line = err.line().unwrap_or(0);
        let column = match (err.range(), std::fs::read_to_string(&path)) {
            (Some(range), Ok(text)) if range.start <= text.len() => {
                let (at_line, column) = crate::analysis::source_map::line_column(&text, range.start);
                if at_line == line {
                    column
                } else {
                    0
                }
            }
            _ => 0,
        };
        Self::Template { path, line, column, message }
    }

    /// The error as a person reads it: the message, then for a located problem the file's line
    /// with a caret under the column (as rustc shows errors).
    pub fn report(&self) -> String {
        let (path, line, column, message) = match self {
            Self::Yaml { path, line, column, message }
            | Self::Sql { path, line, column, message }
            | Self::Template { path, line, column, message } => (path, *line, *column, message),
            other => return format!("error: {other}"),
        };
        match std::fs::read_to_string(path).ok().filter(|_| line > 0) {
            Some(text) => crate::diagnostic::render(path, &text, line, column, message),
            None => format!("error: {self}"),
        }
    }

    /// A DataFusion error while working on `context`.
    pub fn datafusion(context: impl Into<String>, source: datafusion::error::DataFusionError) -> Self {
        if matches!(source.find_root(), datafusion::error::DataFusionError::ResourcesExhausted(_)) {
            return Self::MemoryLimit { context: context.into(), source };
        }
        Self::DataFusion { context: context.into(), source }
    }

    /// A PostgreSQL error while working on `context`.
    pub fn postgres(context: impl Into<String>, err: &tokio_postgres::Error) -> Self {
        let message = match err.as_db_error() {
            Some(db) => {
                let mut m = format!("{}: {}", db.severity(), db.message());
                if let Some(d) = db.detail() {
                    m.push_str(&format!(" (detail: {d})"));
                }
                if let Some(h) = db.hint() {
                    m.push_str(&format!(" (hint: {h})"));
                }
                m
            }
            None => err.to_string(),
        };
        Self::Postgres { context: context.into(), message }
    }
}

/// The compiler's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
