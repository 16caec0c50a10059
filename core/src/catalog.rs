//! The function catalogue: every SQL function convlytics offers, once, for both engines.
//!
//! Each entry gives a function's name, its arguments, what it returns (a value, or the columns
//! of its rows), its volatility and strictness, and a one-line summary. The DataFusion adapter
//! builds its signatures, return types and output columns from here; the PostgreSQL extension's
//! declarations are checked against it on a live server; `docs/functions/` is checked against
//! it; `convlytics_functions()` lists it in SQL on both engines.

use std::fmt::Write;

/// The SQL type of an argument, a result or an output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `text`.
    Text,
    /// `text` naming a taxonomy registered in the session, or holding a taxonomy's YAML or JSON.
    /// Reading the session's registered taxonomies makes a call STABLE.
    Taxonomy,
    /// `text[]`: a conversation's roles or texts in turn order, or a batch of texts.
    TextArray,
    /// `integer` (32 bits).
    Integer,
    /// `bigint` (64 bits).
    BigInt,
    /// `double precision`.
    Double,
    /// `boolean`.
    Boolean,
    /// `uuid` on PostgreSQL; its canonical hyphenated text on DataFusion.
    Uuid,
    /// `jsonb` on PostgreSQL; JSON text on DataFusion.
    Json,
}

impl Kind {
    /// The PostgreSQL type name (what `convlytics_functions()` prints on both engines).
    pub fn sql_name(self) -> &'static str {
        match self {
            Kind::Text | Kind::Taxonomy => "text",
            Kind::TextArray => "text[]",
            Kind::Integer => "integer",
            Kind::BigInt => "bigint",
            Kind::Double => "double precision",
            Kind::Boolean => "boolean",
            Kind::Uuid => "uuid",
            Kind::Json => "jsonb",
        }
    }
}

/// Whether a function's result depends only on its arguments (as PostgreSQL and DataFusion mean
/// the words), in increasing order of what it may depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Volatility {
    /// The same arguments always give the same result.
    Immutable,
    /// The same arguments give the same result within one statement (it reads the session's
    /// registered taxonomies, or the server's environment).
    Stable,
    /// It has side effects or reads data that can change at any time.
    Volatile,
}

impl Volatility {
    /// `immutable`, `stable` or `volatile`.
    pub fn as_str(self) -> &'static str {
        match self {
            Volatility::Immutable => "immutable",
            Volatility::Stable => "stable",
            Volatility::Volatile => "volatile",
        }
    }
}

/// One argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// Its name (PostgreSQL's named-argument notation uses it).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it may be left out; optional arguments come last.
    pub optional: bool,
}

/// One output column of a function that returns rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it can be NULL in a row the function returns.
    pub nullable: bool,
    /// What it keeps of the function's text, when that differs from the function's own
    /// [`TextFlow`] (a transcript's `platform` is metadata, its `text` carries the payload's).
    pub text: Option<TextFlow>,
}

/// What a call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// One value; `nullable` when a call without NULL arguments can still give NULL.
    Value {
        /// Its type.
        kind: Kind,
        /// Whether non-NULL arguments can give NULL.
        nullable: bool,
    },
    /// Exactly one row per call. PostgreSQL: a set-returning function in `from`. DataFusion: a
    /// scalar function giving a struct of these fields per row, and a table function over
    /// constants giving the row.
    Row(&'static [Column]),
    /// Zero or more rows per call. PostgreSQL: a set-returning function. DataFusion: a scalar
    /// function giving a list of structs per row (for `unnest`), and a table function over
    /// constants giving the rows.
    Rows(&'static [Column]),
    /// Rows of a table function only: its arguments are not per-row values (a query to run, or
    /// a definition to store).
    Table(&'static [Column]),
}

/// One SQL function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The name, the same on both engines (schema `convlytics` on PostgreSQL).
    pub name: &'static str,
    /// The arguments in order; optional ones last.
    pub args: &'static [Arg],
    /// What a call returns.
    pub returns: Returns,
    /// The volatility of the function itself; a form with a [`Kind::Taxonomy`] argument is at
    /// least STABLE (see [`Form::volatility`]).
    pub volatility: Volatility,
    /// STRICT: a NULL argument gives NULL (no rows for the row forms) without a call.
    pub strict: bool,
    /// What its result keeps of the text it reads: how the compiler classes the columns it
    /// computes (see [`TextFlow`]).
    pub text: TextFlow,
    /// What it does, in one line.
    pub summary: &'static str,
}

/// What a function's result keeps of the text it is given, from most to least: the compiler's
/// column lineage uses it to class a computed column (`docs/governance.md`), so a function that
/// carries raw text through makes raw text, and one that sanitises it makes redacted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextFlow {
    /// The result holds words of its input (a summary, a turn's text, kept lines, an entity's
    /// value, a canonical email): as sensitive as the input.
    Carries,
    /// The result is the input with its personal data replaced: at most redacted text.
    Sanitises,
    /// The result is a stable key derived from identifiers: at most a pseudonym.
    Pseudonymises,
    /// A label, score or explanation decided from the input that repeats none of it beyond the
    /// taxonomy's own cues and offsets: at most a label.
    Labels,
    /// A count, time or other fact about the input or the call (a turn count, a taxonomy's
    /// version), none of its words: at most a metric.
    Metadata,
}

impl TextFlow {
    /// `carries`, `sanitises`, `pseudonymises`, `labels` or `metadata`, as the docs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            TextFlow::Carries => "carries",
            TextFlow::Sanitises => "sanitises",
            TextFlow::Pseudonymises => "pseudonymises",
            TextFlow::Labels => "labels",
            TextFlow::Metadata => "metadata",
        }
    }
}

/// One way of calling a function: its required arguments and the first few optional ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    /// The function.
    pub function: &'static Function,
    /// The arguments this form takes.
    pub args: &'static [Arg],
}

impl Form {
    /// The function's volatility, raised to STABLE when an argument names a taxonomy (the
    /// session's registered taxonomies can change between statements).
    pub fn volatility(&self) -> Volatility {
        let reads_taxonomies = self.args.iter().any(|a| a.kind == Kind::Taxonomy);
        let floor = if reads_taxonomies { Volatility::Stable } else { Volatility::Immutable };
        self.function.volatility.max(floor)
    }

    /// PARALLEL SAFE on PostgreSQL: everything but the volatile functions, which run queries or
    /// write.
    pub fn parallel_safe(&self) -> bool {
        self.volatility() != Volatility::Volatile
    }

    /// The arguments as PostgreSQL lists them: `text text, policy text`.
    pub fn arguments(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| format!("{} {}", a.name, a.kind.sql_name())).collect();
        args.join(", ")
    }
}

impl Function {
    /// Every form, fewest arguments first.
    pub fn forms(&'static self) -> impl Iterator<Item = Form> {
        let required = self.args.iter().take_while(|a| !a.optional).count();
        (required..=self.args.len()).map(move |n| Form { function: self, args: &self.args[..n] })
    }

    /// The volatility of its most volatile form: what an engine that registers one function per
    /// name (DataFusion) declares.
    pub fn most_volatile(&'static self) -> Volatility {
        self.forms().map(|f| f.volatility()).max().unwrap_or(self.volatility)
    }

    /// How many arguments it takes: the fewest and the most.
    pub fn arity(&self) -> (usize, usize) {
        (self.args.iter().take_while(|a| !a.optional).count(), self.args.len())
    }

    /// How to call it: `redact_pii(text [, policy])`.
    pub fn usage(&self) -> String {
        let (required, _) = self.arity();
        let names: Vec<&str> = self.args[..required].iter().map(|a| a.name).collect();
        let mut out = format!("{}({}", self.name, names.join(", "));
        for (i, arg) in self.args[required..].iter().enumerate() {
            let open = if required == 0 && i == 0 { "[" } else { " [, " };
            let _ = write!(out, "{open}{}", arg.name);
        }
        out.push_str(&"]".repeat(self.args.len() - required));
        out.push(')');
        out
    }

    /// The output columns of the row forms; empty for a function that returns a value.
    pub fn columns(&self) -> &'static [Column] {
        match self.returns {
            Returns::Value { .. } => &[],
            Returns::Row(c) | Returns::Rows(c) | Returns::Table(c) => c,
        }
    }

    /// What it returns as PostgreSQL writes it: `text`, or `table(name text, version text)`.
    pub fn returns_sql(&self) -> String {
        match self.returns {
            Returns::Value { kind, .. } => kind.sql_name().to_owned(),
            Returns::Row(c) | Returns::Rows(c) | Returns::Table(c) => {
                let columns: Vec<String> = c.iter().map(|c| format!("{} {}", c.name, c.kind.sql_name())).collect();
                format!("table({})", columns.join(", "))
            }
        }
    }
}

/// The function called `name`.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

const fn arg(name: &'static str, kind: Kind) -> Arg {
    Arg { name, kind, optional: false }
}

const fn optional(name: &'static str, kind: Kind) -> Arg {
    Arg { name, kind, optional: true }
}

const fn column(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, nullable: true, text: None }
}

const fn not_null(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, nullable: false, text: None }
}

/// A column that keeps what `text` says of the function's input, not what the function does.
const fn flows(column: Column, text: TextFlow) -> Column {
    Column { text: Some(text), ..column }
}

const fn value(kind: Kind) -> Returns {
    Returns::Value { kind, nullable: false }
}

const fn value_or_null(kind: Kind) -> Returns {
    Returns::Value { kind, nullable: true }
}

use Kind::{BigInt, Boolean, Double, Integer, Json, Taxonomy, Text, TextArray, Uuid};
use TextFlow::{Carries, Labels, Metadata, Pseudonymises, Sanitises};
use Volatility::{Immutable, Stable, Volatile};

const TEXT: Arg = arg("text", Text);
const TAXONOMY: Arg = arg("taxonomy", Taxonomy);
const ROLES: Arg = arg("roles", TextArray);
const TEXTS: Arg = arg("texts", TextArray);
const TRANSCRIPT_ARGS: &[Arg] = &[arg("payload", Text), arg("format", Text), optional("settings", Text)];

/// `parse_transcript`'s columns: one row per turn.
pub const TURN_COLUMNS: &[Column] = &[
    flows(not_null("turn_index", Integer), Metadata),
    flows(not_null("role", Text), Labels),
    column("speaker", Text),
    not_null("text", Text),
    flows(column("start_ms", BigInt), Metadata),
    flows(column("end_ms", BigInt), Metadata),
    flows(column("sent_at", Text), Metadata),
];

/// `transcript_info`'s columns: counts, times and metadata, voice metrics, and the reason a
/// payload could not be read.
pub const INFO_COLUMNS: &[Column] = &[
    flows(column("turn_count", Integer), Metadata),
    flows(column("customer_turns", Integer), Metadata),
    flows(column("agent_turns", Integer), Metadata),
    flows(column("bot_turns", Integer), Metadata),
    flows(column("started_at", Text), Metadata),
    flows(column("ended_at", Text), Metadata),
    flows(column("duration_ms", BigInt), Metadata),
    column("subject", Text),
    flows(column("agent", Text), Labels),
    flows(column("queue", Text), Labels),
    flows(column("platform", Text), Labels),
    flows(column("campaign", Text), Labels),
    flows(column("thread_id", Text), Pseudonymises),
    flows(column("message_id", Text), Pseudonymises),
    flows(column("customer_talk_ms", BigInt), Metadata),
    flows(column("agent_talk_ms", BigInt), Metadata),
    flows(column("talk_ratio", Double), Metadata),
    flows(column("silence_ms", BigInt), Metadata),
    flows(column("silences", BigInt), Metadata),
    flows(column("overlap_ms", BigInt), Metadata),
    flows(column("interruptions", BigInt), Metadata),
    flows(column("longest_monologue_ms", BigInt), Metadata),
    flows(column("quarantine_reason", Text), Labels),
];

/// `classify_intent_explain`'s columns.
pub const EXPLAIN_COLUMNS: &[Column] = &[
    column("label", Text),
    column("confidence", Double),
    column("runner_up", Text),
    column("runner_up_confidence", Double),
    column("method", Text),
    column("evidence", Json),
    column("taxonomy_version", Text),
];

/// `stitch_identity`'s columns: one row per record.
pub const STITCH_COLUMNS: &[Column] = &[
    not_null("record_id", Text),
    not_null("cluster_key", Text),
    column("linked_to", Text),
    column("rule", Text),
    column("match_weight", Double),
    column("match_probability", Double),
];

/// `register_taxonomy`'s columns: one row per taxonomy stored.
pub const REGISTER_COLUMNS: &[Column] = &[not_null("name", Text), not_null("version", Text)];

/// `convlytics_functions()`'s columns: one row per form of every function.
pub const FUNCTION_COLUMNS: &[Column] = &[
    not_null("name", Text),
    not_null("arguments", Text),
    not_null("returns", Text),
    not_null("volatility", Text),
    not_null("strict", Boolean),
    not_null("parallel_safe", Boolean),
    not_null("summary", Text),
];

/// Every SQL function, by capability.
pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "conversation_id",
        args: &[arg("source", Text), arg("source_id", Text)],
        returns: value(Uuid),
        volatility: Immutable,
        strict: true,
        text: Pseudonymises,
        summary: "The canonical UUIDv5 of a conversation from its source system and that system's id.",
    },
    Function {
        name: "detect_language",
        args: &[TEXT],
        returns: value_or_null(Text),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The ISO 639-1 code of the text's language, or NULL when unsure.",
    },
    Function {
        name: "normalize_identifier",
        args: &[arg("kind", Text), arg("value", Text), optional("region", Text)],
        returns: value_or_null(Text),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "The canonical email, E.164 phone number, id or name for joins; NULL when invalid.",
    },
    Function {
        name: "stitch_identity",
        args: &[arg("query", Text), optional("settings", Text)],
        returns: Returns::Table(STITCH_COLUMNS),
        volatility: Volatile,
        strict: true,
        text: Pseudonymises,
        summary: "Clusters the records a query returns into customers: each record's stable cluster key and the link that placed it.",
    },
    Function {
        name: "detect_pii",
        args: &[TEXT, optional("policy", Text)],
        returns: value(Json),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The PII spans found in a text: type, character offsets, score and how each was found.",
    },
    Function {
        name: "redact_pii",
        args: &[TEXT, optional("policy", Text)],
        returns: value(Text),
        volatility: Stable,
        strict: true,
        text: Sanitises,
        summary: "The text with its PII replaced per policy (placeholder, mask, keyed hash, drop); the hash key comes from the server's environment.",
    },
    Function {
        name: "parse_transcript",
        args: TRANSCRIPT_ARGS,
        returns: Returns::Rows(TURN_COLUMNS),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "The turns of a chat, email, call, ticket or bot-log payload: index, role, speaker, text and times.",
    },
    Function {
        name: "transcript_info",
        args: TRANSCRIPT_ARGS,
        returns: Returns::Row(INFO_COLUMNS),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "One row per payload: turn counts, times, metadata, voice metrics, or the reason it could not be read.",
    },
    Function {
        name: "remove_lines",
        args: &[TEXT, arg("lines", Text)],
        returns: value(Text),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "The text without its lines that equal one of the given lines (boilerplate removal).",
    },
    Function {
        name: "register_taxonomy",
        args: &[arg("definition", Text)],
        returns: Returns::Table(REGISTER_COLUMNS),
        volatility: Volatile,
        strict: true,
        text: Metadata,
        summary: "Validates a taxonomy document and makes each of its taxonomies known by name in the session (PostgreSQL: stored in convlytics.taxonomies).",
    },
    Function {
        name: "taxonomy_version",
        args: &[TAXONOMY],
        returns: value(Text),
        volatility: Immutable,
        strict: true,
        text: Metadata,
        summary: "The version (content hash) of a taxonomy, without compiling it.",
    },
    Function {
        name: "classify_intent",
        args: &[TEXT, TAXONOMY],
        returns: value(Text),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The intent of a text under a taxonomy, or 'unknown' below its threshold.",
    },
    Function {
        name: "classify_intents",
        args: &[TEXTS, TAXONOMY],
        returns: value(TextArray),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The intents of an array of texts in one call; NULL elements stay NULL.",
    },
    Function {
        name: "classify_intent_explain",
        args: &[TEXT, TAXONOMY],
        returns: Returns::Row(EXPLAIN_COLUMNS),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The intent with its confidence, runner-up, method, evidence and taxonomy version.",
    },
    Function {
        name: "tag_topics",
        args: &[TEXT, TAXONOMY],
        returns: value(TextArray),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The topics of a text under a taxonomy, in taxonomy order (empty when none).",
    },
    Function {
        name: "sentiment",
        args: &[TEXT],
        returns: value(Double),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The sentiment of a text in [-1, 1].",
    },
    Function {
        name: "sentiment_explain",
        args: &[TEXT],
        returns: value(Json),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "The sentiment with the cues and rules that decided it.",
    },
    Function {
        name: "tones",
        args: &[TEXT],
        returns: value(Json),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "Frustration, urgency, confusion and satisfaction in [0, 1], with their cues.",
    },
    Function {
        name: "extract_entities",
        args: &[TEXT, optional("taxonomy", Taxonomy)],
        returns: value(Json),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "Typed entities of a text: built-in money, dates and durations, and a taxonomy's gazetteers and patterns.",
    },
    Function {
        name: "summarize",
        args: &[TEXT, optional("sentences", BigInt)],
        returns: value(Text),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "An extractive summary: the text's most telling sentences (two unless given).",
    },
    Function {
        name: "summarize_turns",
        args: &[ROLES, TEXTS, optional("sentences", BigInt)],
        returns: value(Text),
        volatility: Immutable,
        strict: true,
        text: Carries,
        summary: "A conversation's problem and outcome from its turns' roles and texts.",
    },
    Function {
        name: "resolution_status",
        args: &[ROLES, TEXTS, optional("taxonomy", Taxonomy)],
        returns: value(Text),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "How a conversation ended: solved, escalated, handoff, abandoned or unresolved.",
    },
    Function {
        name: "resolution_explain",
        args: &[ROLES, TEXTS, optional("taxonomy", Taxonomy)],
        returns: value(Json),
        volatility: Immutable,
        strict: true,
        text: Labels,
        summary: "How a conversation ended, with the turn and phrase that decided it and every signal.",
    },
    Function {
        name: "convlytics_functions",
        args: &[],
        returns: Returns::Table(FUNCTION_COLUMNS),
        volatility: Immutable,
        strict: true,
        text: Metadata,
        summary: "This catalogue: one row per form of every convlytics function.",
    },
];

/// One row of `convlytics_functions()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRow {
    /// The function's name.
    pub name: &'static str,
    /// Its arguments, as [`Form::arguments`] writes them.
    pub arguments: String,
    /// What it returns, as [`Function::returns_sql`] writes it.
    pub returns: String,
    /// `immutable`, `stable` or `volatile`.
    pub volatility: &'static str,
    /// STRICT.
    pub strict: bool,
    /// PARALLEL SAFE on PostgreSQL.
    pub parallel_safe: bool,
    /// The one-line summary.
    pub summary: &'static str,
}

/// The rows of `convlytics_functions()`: every form of every function, in catalogue order.
pub fn rows() -> Vec<FormRow> {
    FUNCTIONS
        .iter()
        .flat_map(Function::forms)
        .map(|form| FormRow {
            name: form.function.name,
            arguments: form.arguments(),
            returns: form.function.returns_sql(),
            volatility: form.volatility().as_str(),
            strict: form.function.strict,
            parallel_safe: form.parallel_safe(),
            summary: form.function.summary,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_optional_arguments_come_last() {
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert!(FUNCTIONS[..i].iter().all(|g| g.name != f.name), "{} is listed twice", f.name);
            let required = f.args.iter().take_while(|a| !a.optional).count();
            assert!(
                f.args[required..].iter().all(|a| a.optional),
                "{}: a required argument after an optional one",
                f.name
            );
            assert!(!f.summary.is_empty() && f.summary.ends_with('.'), "{}: summary", f.name);
        }
    }

    #[test]
    fn a_taxonomy_argument_makes_a_form_stable() {
        let forms: Vec<Volatility> = function("extract_entities").unwrap().forms().map(|f| f.volatility()).collect();
        assert_eq!(forms, [Immutable, Stable]);
        assert_eq!(function("extract_entities").unwrap().most_volatile(), Stable);
        assert_eq!(function("classify_intent").unwrap().most_volatile(), Stable);
        assert!(!function("stitch_identity").unwrap().forms().any(|f| f.parallel_safe()));
    }

    #[test]
    fn usage_and_rows_read_as_sql() {
        assert_eq!(function("redact_pii").unwrap().usage(), "redact_pii(text [, policy])");
        assert_eq!(function("summarize_turns").unwrap().usage(), "summarize_turns(roles, texts [, sentences])");
        assert_eq!(function("convlytics_functions").unwrap().usage(), "convlytics_functions()");
        let rows = rows();
        let redact: Vec<&FormRow> = rows.iter().filter(|r| r.name == "redact_pii").collect();
        assert_eq!(redact.len(), 2);
        assert_eq!((redact[1].arguments.as_str(), redact[1].returns.as_str()), ("text text, policy text", "text"));
        let register = rows.iter().find(|r| r.name == "register_taxonomy").unwrap();
        assert_eq!(register.returns, "table(name text, version text)");
        assert!(!register.parallel_safe);
    }
}
