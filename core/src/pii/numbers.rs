//! Numbers: one linear scan finds runs of digits with their separators, and each run is tried,
//! most specific first, as an IPv4 address, a date, a card, an SSN, a phone number and a postal
//! code.

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use super::checksum::{card_issuer, luhn, us_ssn};
use super::{Method, Span};
use crate::identity::{valid_phone, Region};

/// Runs longer than this are no single identifier; they are skipped whole.
const MAX_RUN: usize = 40;

/// A digit run: its byte range, its digits, and the separators it uses.
struct Run<'t> {
    text: &'t str,
    start: usize,
    end: usize,
    digits: [u8; MAX_RUN],
    len: usize,
}

impl Run<'_> {
    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    fn raw(&self) -> &str {
        &self.text[self.start..self.end]
    }

    fn only_separators(&self, allowed: &[u8]) -> bool {
        self.raw().bytes().all(|b| b.is_ascii_digit() || allowed.contains(&b))
    }

    /// The lengths of the digit groups between separators.
    fn groups(&self) -> impl Iterator<Item = usize> + '_ {
        self.raw().split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).map(str::len)
    }
}

/// Finds every number-shaped identifier in `text`.
pub(super) fn scan<'a>(text: &'a str, region: Region, out: &mut Vec<Span<'a>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(u8::is_ascii_digit) {
        let first = i + offset;
        let mut end = first;
        let mut j = first;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                j += 1;
                end = j;
                continue;
            }
            // Up to two separators, then a digit: "555-1234", "(415) 555", "4111 1111".
            let seps =
                bytes[j..].iter().take(2).take_while(|b| matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')')).count();
            if seps > 0
                && bytes.get(j + seps).is_some_and(u8::is_ascii_digit)
                && !(seps == 2 && bytes[j] == bytes[j + 1])
            {
                j += seps;
            } else {
                break;
            }
        }
        i = end.max(first + 1);
        let extension = phone_extension(&bytes[end..]);
        let mut start = first;
        if start > 0 && matches!(bytes[start - 1], b'+' | b'(') {
            start -= 1;
        }
        let glued_before = start > 0
            && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'_' | b'@' | b'/' | b'#'));
        let glued_after =
            extension == 0 && bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'@');
        if glued_before || glued_after || end - start > MAX_RUN {
            continue;
        }
        let Some(run) = make_run(text, start, end) else { continue };
        let spaced = run.raw().contains(' ');
        let has_date_part = || {
            split_spaces(run.raw())
                .any(|(at, part)| make_run(text, start + at, start + at + part.len()).is_some_and(|p| is_date(&p)))
        };
        let found = out.len();
        if (spaced && has_date_part()) || !classify(&run, region, out) {
            for (part_start, part) in split_spaces(run.raw()).filter(|_| spaced) {
                if let Some(part) = make_run(text, start + part_start, start + part_start + part.len()) {
                    classify(&part, region, out);
                }
            }
        }
        if let Some(phone) = out[found..].last_mut().filter(|s| s.entity == "PHONE_NUMBER" && s.end == end) {
            phone.end += extension;
        }
        i = i.max(end + extension);
    }
}

/// The length of a phone extension (`x123`) at the start of `rest`, or 0.
fn phone_extension(rest: &[u8]) -> usize {
    match rest {
        [b'x' | b'X', d, ..] if d.is_ascii_digit() => {
            let digits = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            let glued = rest.get(1 + digits).is_some_and(|b| b.is_ascii_alphanumeric());
            if digits <= 6 && !glued {
                1 + digits
            } else {
                0
            }
        }
        _ => 0,
    }
}

fn make_run(text: &str, start: usize, end: usize) -> Option<Run<'_>> {
    let mut digits = [0u8; MAX_RUN];
    let mut len = 0;
    for b in text[start..end].bytes().filter(u8::is_ascii_digit) {
        digits[len] = b;
        len += 1;
    }
    (len > 0).then_some(Run { text, start, end, digits, len })
}

/// The space-separated parts of a run, with their byte offsets.
fn split_spaces(raw: &str) -> impl Iterator<Item = (usize, &str)> {
    raw.split(' ')
        .scan(0, |at, part| {
            let start = *at;
            *at += part.len() + 1;
            Some((start, part))
        })
        .filter(|(_, p)| !p.is_empty())
}

/// Tries each number type on the run; true when one claimed it.
fn classify<'a>(run: &Run<'a>, region: Region, out: &mut Vec<Span<'a>>) -> bool {
    let digits = run.digits();
    let mut push = |entity, score, method, evidence| {
        out.push(Span { entity, start: run.start, end: run.end, score, method, evidence });
        true
    };
    if run.only_separators(b".") && run.raw().matches('.').count() == 3 && run.raw().parse::<Ipv4Addr>().is_ok() {
        return push("IP_ADDRESS", 0.9, Method::Checksum, "ipv4");
    }
    if is_date(run) {
        return push("DATE_TIME", 0.3, Method::Pattern, "date");
    }
    if run.only_separators(b" -") && (12..=19).contains(&digits.len()) && luhn(digits) {
        return match card_issuer(digits) {
            Some(issuer) => push("CREDIT_CARD", 1.0, Method::Checksum, issuer),
            None => push("CREDIT_CARD", 0.4, Method::Checksum, "luhn"),
        };
    }
    if digits.len() == 9 && us_ssn(digits) {
        let groups: Vec<usize> = run.groups().collect();
        let raw = run.raw().as_bytes();
        if groups == [3, 2, 4] && run.only_separators(b" -") && raw[3] == raw[6] {
            return push("US_SSN", 0.85, Method::Checksum, "ssa rules");
        }
        if groups == [9] {
            return push("US_SSN", 0.3, Method::Pattern, "nine digits");
        }
    }
    if (7..=15).contains(&digits.len()) && !run.raw().contains('/') {
        if phone_valid(run.raw(), region) {
            return push("PHONE_NUMBER", 0.85, Method::Checksum, "libphonenumber");
        }
        let separated = run.raw().bytes().any(|b| !b.is_ascii_digit());
        let north_american_shape =
            [&[3, 3, 4][..], &[3, 4], &[1, 3, 3, 4]].iter().any(|g| run.groups().eq(g.iter().copied()));
        if separated
            && !north_american_shape
            && other_regions().iter().any(|r| valid_phone(run.raw(), Some(*r)).is_some())
        {
            return push("PHONE_NUMBER", 0.55, Method::Checksum, "libphonenumber, another region");
        }
        if separated || digits.len() >= 10 {
            return push("PHONE_NUMBER", 0.4, Method::Pattern, "phone shape");
        }
    }
    if (4..=6).contains(&digits.len()) && run.groups().count() <= 2 && run.only_separators(b" -")
        || run.groups().eq([5, 4]) && run.only_separators(b"-")
    {
        return push("POSTAL_CODE", 0.2, Method::Pattern, "postcode shape");
    }
    false
}

/// Whether libphonenumber takes `raw` as a valid number in `region`.
fn phone_valid(raw: &str, region: Region) -> bool {
    valid_phone(raw, Some(region)).is_some()
}

/// Regions a grouped number is also tried in when the default region rejects it: the ones
/// customer conversations most often come from.
fn other_regions() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| ["GB", "DE", "FR", "IN"].iter().map(|r| r.parse().expect("known region")).collect())
}

/// `2024-03-01`, `01/03/2024`, `3.1.24`: three groups with one kind of separator, a plausible
/// month and day in either order, and a two- or four-digit year.
fn is_date(run: &Run<'_>) -> bool {
    let raw = run.raw();
    let Some(sep) = raw.bytes().find(|b| !b.is_ascii_digit()) else { return false };
    if !matches!(sep, b'/' | b'-' | b'.') || !run.only_separators(&[sep]) {
        return false;
    }
    let parts: Vec<u32> = raw.split(sep as char).filter_map(|p| p.parse().ok()).collect();
    let lens: Vec<usize> = raw.split(sep as char).map(str::len).collect();
    if parts.len() != 3 || lens.len() != 3 {
        return false;
    }
    let day_month = |a: u32, b: u32| {
        (1..=12).contains(&a) && (1..=31).contains(&b) || (1..=31).contains(&a) && (1..=12).contains(&b)
    };
    if lens[0] == 4 {
        (1..=12).contains(&parts[1]) && (1..=31).contains(&parts[2]) && lens[1] <= 2 && lens[2] <= 2
    } else {
        lens[0] <= 2 && lens[1] <= 2 && matches!(lens[2], 2 | 4) && day_month(parts[0], parts[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, &str, f64)> {
        let mut out = Vec::new();
        scan(text, "US".parse().unwrap(), &mut out);
        out.iter().map(|s| (s.entity, &text[s.start..s.end], s.score)).collect()
    }

    #[test]
    fn each_number_type() {
        assert_eq!(found("card 4111 1111 1111 1111 ok"), vec![("CREDIT_CARD", "4111 1111 1111 1111", 1.0)]);
        assert_eq!(found("ssn 536-90-5871."), vec![("US_SSN", "536-90-5871", 0.85)]);
        assert_eq!(found("call (415) 555-2671 now"), vec![("PHONE_NUMBER", "(415) 555-2671", 0.85)]);
        assert_eq!(found("call +44 20 7946 0958"), vec![("PHONE_NUMBER", "+44 20 7946 0958", 0.85)]);
        assert_eq!(found("fax 259.735.7502x459."), vec![("PHONE_NUMBER", "259.735.7502x459", 0.4)]);
        assert_eq!(found("from 10.0.0.1 at"), vec![("IP_ADDRESS", "10.0.0.1", 0.9)]);
        assert_eq!(found("on 2024-03-01"), vec![("DATE_TIME", "2024-03-01", 0.3)]);
        assert_eq!(found("zip 94107"), vec![("POSTAL_CODE", "94107", 0.2)]);
        assert_eq!(found("at 2015-12-22 04:34"), vec![("DATE_TIME", "2015-12-22", 0.3)]);
    }

    #[test]
    fn glued_and_overlong_runs_are_not_identifiers() {
        assert!(found("ORD-12345678 and A1234567 and x_5551234567").is_empty());
        assert!(found(&"9".repeat(100_000)).is_empty());
    }

    #[test]
    fn a_run_that_is_nothing_whole_is_tried_in_parts() {
        assert_eq!(found("order 12 then 4111111111111111"), vec![("CREDIT_CARD", "4111111111111111", 1.0)]);
        assert_eq!(found("ids 77 4111111111111111"), vec![("CREDIT_CARD", "4111111111111111", 1.0)]);
    }
}
