//! Street addresses: a house number and a street type ("12 Crown Street", "31 rue Tachkent",
//! "Pfarrgasse 91", "PO Box 12"), extended over the unit, city, region and postcode that follow on
//! the same line after a comma or on the next lines.

use std::sync::OnceLock;

use regex::Regex;

use super::patterns::{Gate, Open};
use super::{Method, Span};

struct Patterns {
    street: Regex,
    unit: Regex,
    continuation: Regex,
}

/// Street types that follow the street name ("Main Street").
const SUFFIX: &str = r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|square|sq|squares|terrace|ter|way|parkway|pkwy|highway|hwy|freeway|circle|cir|trail|trl|crescent|cres|close|row|hill|hills|alley|plaza|loop|pike|path|walk|mews|gardens|gdns|grove|park|view|ridge|point|pt|crossing|xing|estates?|heights|hts|manor|meadows?|mill|mills|port|ports|harbor|harbour|landing|junction|jct|pass|run|turnpike|tpke|route|rte|streets|avenues|roads|lanes|drives|courts|ways|parkways)";

/// Street types that come before the street name ("rue du Centre", "Avenida Paulista").
const PREFIX: &str = r"(?i:rue|avenue|allée|allee|chemin|impasse|quai|place|via|viale|piazza|corso|largo|calle|avenida|av\.|rua|travessa|paseo|carrer|plaza|ulica|ul\.|strada|aleja|bulevar|camino)";

/// Street names written as one word with their type ("Pfarrgasse", "Laukaantie").
const COMPOUND: &str = r"(?i:strasse|straße|gasse|weg|platz|allee|ring|damm|ufer|laan|straat|gracht|plein|singel|kade|vej|gade|gatan|vägen|väg|veien|vei|gata|tie|katu|polku|kuja|utca|körút|ulica|ulice|cesta|iela|gatve|tänav)";

const UNIT: &str =
    r"(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|building|bldg)\.?[ \t]*#?[ \t]*\d{1,5}[A-Za-z]?(?-u:\b)";

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let word = r"(?:\p{Lu}[\p{L}'’.\-]*|\d{1,3}(?:st|nd|rd|th)|of|de|du|la|le|des|van|von|der|del|da|do|dos)";
        let street = format!(
            r"(?-u:\b)\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?,?(?:[ \t]+[NSEW]\.?)?(?:[ \t]+{word}){{1,5}}[ \t]+{SUFFIX}(?-u:\b)\.?|(?-u:\b)\d{{1,5}}[A-Za-z]?,?[ \t]+{PREFIX}(?:[ \t]+[\p{{L}}'’\-]+){{1,3}}|(?-u:\b){PREFIX}(?:[ \t]+[\p{{L}}'’\-]+){{1,4}}?[ \t]+\d{{1,5}}[A-Za-z]?(?-u:\b)|\p{{Lu}}[\p{{L}}\-]*{COMPOUND}[ \t]+\d{{1,5}}[A-Za-z]?(?-u:\b)|(?-u:\b)\d{{1,6}}[ \t]+\p{{Lu}}\p{{Ll}}+(?:[ \t]+\p{{Lu}}\p{{Ll}}+)?[ \t]+\d{{1,5}}(?-u:\b)|(?-u:\b)(?i:p\.?[ \t]?o\.?[ \t]+box)[ \t]+\d{{1,6}}(?-u:\b)"
        );
        let city = r"\p{Lu}[\p{L}'’.\-]+(?:[ \t]+\p{Lu}[\p{L}'’.\-]+){0,3}";
        let continuation = format!(
            r"^(?:[ \t]*,[ \t]*|[ \t]*\r?\n[ \t]*|[ \t]+)(?:{UNIT}|(?:{city})?(?:,?[ \t]+[A-Z]{{2}})?(?:[ \t]+\d{{4,6}}(?:-\d{{4}})?)?|\d{{4,6}}(?:-\d{{4}})?)"
        );
        let re = |p: &str| Regex::new(p).expect("built-in address pattern compiles");
        Patterns { street: re(&street), unit: re(&format!(r"(?-u:\b){UNIT}")), continuation: re(&continuation) }
    })
}

/// Finds street addresses and, reported below the default threshold, units alone.
pub(super) fn scan<'a>(text: &'a str, open: Open, out: &mut Vec<Span<'a>>) {
    let p = patterns();
    let mut last_end = 0;
    for m in p.street.find_iter(text) {
        if m.start() < last_end {
            continue;
        }
        let end = extend(text, m.end());
        last_end = end;
        out.push(Span {
            entity: "STREET_ADDRESS",
            start: m.start(),
            end,
            score: 0.85,
            method: Method::Pattern,
            evidence: "street",
        });
    }
    for m in open.has(Gate::Unit).then(|| p.unit.find_iter(text)).into_iter().flatten() {
        if !out.iter().any(|s| s.entity == "STREET_ADDRESS" && s.start <= m.start() && m.end() <= s.end) {
            out.push(Span {
                entity: "STREET_ADDRESS",
                start: m.start(),
                end: m.end(),
                score: 0.45,
                method: Method::Pattern,
                evidence: "unit",
            });
        }
    }
}

/// Extends an address over the lines or comma-separated parts that continue it: a unit, a city,
/// a region code, a postcode. A part is taken when it fills its line, ends in a number, or is
/// followed by punctuation; at most four parts.
fn extend(text: &str, mut end: usize) -> usize {
    let p = patterns();
    for _ in 0..4 {
        let rest = &text[end..];
        if rest.starts_with("\n\n") || rest.starts_with("\r\n\r\n") {
            break;
        }
        let Some(m) = p.continuation.find(rest) else { break };
        let part = m.as_str().trim();
        if part.is_empty() || part.chars().all(|c| !c.is_alphanumeric()) {
            break;
        }
        let after = &rest[m.end()..];
        let ends_line = after.trim_start_matches([' ', '\t']).is_empty()
            || after.starts_with(['\n', '\r', ',', '.', '?', '!', ';', ')']);
        let new_line = rest[..m.end()].contains('\n');
        let same_line_ok = rest.trim_start_matches([' ', '\t']).starts_with(',');
        if !(ends_line || part.ends_with(|c: char| c.is_ascii_digit())) || !(new_line || same_line_ok) {
            break;
        }
        end += m.end();
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scan(text, Open::of(text), &mut out);
        out.iter().filter(|s| s.score >= 0.5).map(|s| &text[s.start..s.end]).collect()
    }

    #[test]
    fn street_shapes() {
        assert_eq!(found("send it to 12 Crown Street please"), vec!["12 Crown Street"]);
        assert_eq!(
            found("I live at 4500 N. Lake Shore Dr., Chicago, IL 60640."),
            vec!["4500 N. Lake Shore Dr., Chicago, IL 60640"]
        );
        assert_eq!(found("meet at 31 rue Tachkent"), vec!["31 rue Tachkent"]);
        assert_eq!(
            found("Pfarrgasse 91\n Suite 170\n MITTERLOBMING\n Austria 26759 after"),
            vec!["Pfarrgasse 91\n Suite 170\n MITTERLOBMING\n Austria 26759"]
        );
        assert_eq!(found("PO Box 1234"), vec!["PO Box 1234"]);
    }

    /// Every text the unit pattern matches opens the unit gate.
    #[test]
    fn a_unit_opens_its_gate() {
        for text in ["Apt. 4B", "Suite #12", "unit 7", "Floor 3", "fl. 2", "Room\t101", "bldg#4", "rm 9", "Flat ٣B"] {
            assert!(patterns().unit.is_match(text), "{text}");
            assert!(Open::of(text).has(Gate::Unit), "{text}");
        }
    }

    #[test]
    fn sentences_after_an_address_are_not_part_of_it() {
        assert_eq!(found("Bill to:\n12 Main St\nThanks for your help"), vec!["12 Main St"]);
        assert!(found("I waited 3 hours on the road").is_empty());
    }
}
