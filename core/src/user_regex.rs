//! Regexes that users write (PII policy patterns, transcript boilerplate): compiled with size
//! limits, so a hostile pattern is an error instead of a memory blow-up. Matching is linear time
//! whatever the pattern (the `regex` crate has no backtracking).

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::Error;

/// Compiled size limit of one user pattern (or one set of them), NFA and lazy DFA alike.
const SIZE_LIMIT: usize = 1 << 20;

/// `pattern` compiled within the size limit.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).size_limit(SIZE_LIMIT).dfa_size_limit(SIZE_LIMIT).build()
}

/// `patterns` compiled as one set within the size limit; the error names the pattern that does
/// not compile, or says the set as a whole is too large.
pub(crate) fn compile_set(patterns: &[String]) -> Result<RegexSet, Error> {
    for p in patterns {
        compile(p).map_err(|e| pattern_error(p, &e))?;
    }
    RegexSetBuilder::new(patterns)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| pattern_error(&format!("the {} patterns together", patterns.len()), &e))
}

/// The [`Error::Pattern`] of `pattern`, with the last line of the regex crate's message (the
/// reason, without the caret drawing) or what to do about a pattern that compiles too large.
pub(crate) fn pattern_error(pattern: &str, e: &regex::Error) -> Error {
    let problem = match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("it would compile to more than {limit} bytes (nested or huge repetitions); simplify it")
        }
        other => other.to_string().lines().last().unwrap_or_default().trim().trim_start_matches("error: ").to_owned(),
    };
    Error::Pattern { pattern: pattern.to_owned(), problem }
}
