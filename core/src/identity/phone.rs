//! Phone number validity from libphonenumber's metadata, with every pattern compiled once per
//! process, the first time it is needed, and kept.
//!
//! The `phonenumber` crate answers the same question, but its patterns live in one
//! process-wide least-recently-used cache of 100 compiled regexes behind a mutex: numbers from
//! a few countries (the 25 regions sharing +1 alone) evict each other's patterns and every call
//! compiles them again, about 20 times the cost of the match itself. This module follows the
//! crate's own rules (`validator::is_valid_with`: the region from the country code and leading
//! digits, then the general pattern and one of the number types) on its metadata, so the
//! answer is the crate's; the unit test below compares the two on every region's examples.

use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use phonenumber::{PhoneNumber, Type};
use regex::{Regex, RegexBuilder};

/// The number types a valid number must match one of, in the crate's order.
const TYPES: [Type; 10] = [
    Type::PremiumRate,
    Type::TollFree,
    Type::SharedCost,
    Type::Voip,
    Type::PersonalNumber,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
    Type::FixedLine,
    Type::Mobile,
];

/// A metadata pattern, matched from the first digit as the crate matches it (whitespace in the
/// pattern is layout), compiled the first time it is tried and kept.
struct Lazy {
    source: &'static str,
    regex: OnceLock<Regex>,
}

impl Lazy {
    fn new(source: &'static str) -> Self {
        Self { source, regex: OnceLock::new() }
    }

    fn is_match(&self, text: &str) -> bool {
        let regex = self.regex.get_or_init(|| {
            RegexBuilder::new(&format!("^(?:{})", self.source))
                .ignore_whitespace(true)
                .build()
                .expect("libphonenumber metadata patterns compile (the phonenumber crate compiles them too)")
        });
        regex.is_match(text)
    }
}

/// One descriptor: its lengths, and its national number pattern, tried only on numbers of one
/// of those lengths.
struct Pattern {
    lengths: &'static [u16],
    regex: Lazy,
}

impl Pattern {
    fn new(descriptor: &'static Descriptor) -> Self {
        Self { lengths: descriptor.possible_length(), regex: Lazy::new(descriptor.national_number().as_str()) }
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16))) && self.regex.is_match(national)
    }
}

/// One region's patterns.
struct Region {
    general: Pattern,
    types: Vec<Pattern>,
    leading_digits: Option<Lazy>,
}

impl Region {
    fn new(meta: &'static Metadata) -> Self {
        let descriptors = meta.descriptors();
        Self {
            general: Pattern::new(descriptors.general()),
            types: TYPES.iter().filter_map(|t| descriptors.get(*t)).map(Pattern::new).collect(),
            leading_digits: meta.leading_digits().map(|p| Lazy::new(p.as_str())),
        }
    }

    fn valid(&self, national: &str) -> bool {
        self.general.matches(national) && self.types.iter().any(|p| p.matches(national))
    }
}

/// The regions of a country code, in the order the crate tries them (a non-geographic code,
/// `001`, has its one entity), built once per process without compiling a pattern.
fn regions(code: u16) -> &'static [Region] {
    static BY_CODE: OnceLock<HashMap<u16, Vec<Region>>> = OnceLock::new();
    let by_code = BY_CODE.get_or_init(|| {
        let codes: std::collections::BTreeSet<u16> = DATABASE.iter().map(Metadata::country_code).collect();
        let of = |code: u16| -> Vec<&'static Metadata> {
            match DATABASE.region(&code).unwrap_or_default().as_slice() {
                ["001"] => DATABASE.by_code(&code).and_then(|all| all.into_iter().next()).into_iter().collect(),
                ids => ids.iter().filter_map(|id| DATABASE.by_id(*id)).collect(),
            }
        };
        codes.into_iter().map(|code| (code, of(code).into_iter().map(Region::new).collect())).collect()
    });
    by_code.get(&code).map_or(&[], Vec::as_slice)
}

/// Whether libphonenumber's metadata takes `number` as a valid number (what
/// `PhoneNumber::is_valid` answers).
pub(crate) fn is_valid(number: &PhoneNumber) -> bool {
    let national = number.national().to_string();
    let region = match regions(number.code().value()) {
        [only] => Some(only),
        shared => shared.iter().find(|region| match &region.leading_digits {
            Some(leading) => leading.is_match(&national),
            None => region.valid(&national),
        }),
    };
    region.is_some_and(|region| region.valid(&national))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every region's example numbers, in international and national form, one digit longer,
    /// one shorter and with a digit changed, parsed in five default regions: the answers are
    /// the crate's.
    #[test]
    fn the_same_answers_as_the_crate() {
        let mut inputs = vec!["+1 917-409-0800".to_owned(), "(415) 555-2671".to_owned(), "1 40 62 05 00".to_owned()];
        for meta in DATABASE.iter() {
            let code = meta.country_code();
            for example in TYPES.iter().chain([&Type::Unknown]).filter_map(|t| meta.descriptors().get(*t)?.example()) {
                let mut changed: Vec<char> = example.chars().collect();
                if let Some(c) = changed.get_mut(2) {
                    *c = if *c == '9' { '0' } else { '9' };
                }
                inputs.push(format!("+{code} {example}"));
                inputs.push(example.to_owned());
                inputs.push(format!("+{code} {example}7"));
                inputs.push(format!("+{code} {}", &example[..example.len().saturating_sub(1)]));
                inputs.push(format!("+{code} {}", changed.into_iter().collect::<String>()));
            }
        }
        let regions: Vec<phonenumber::country::Id> =
            ["US", "GB", "DE", "FR", "IN"].iter().map(|r| r.parse().unwrap()).collect();
        let (mut checked, mut valid) = (0, 0);
        for input in &inputs {
            for region in &regions {
                let Ok(number) = phonenumber::parse(Some(*region), input) else { continue };
                assert_eq!(is_valid(&number), number.is_valid(), "{input} in {region:?}");
                checked += 1;
                valid += usize::from(number.is_valid());
            }
        }
        assert!(checked > 20_000 && valid > 5_000 && checked - valid > 5_000, "{checked} checked, {valid} valid");
    }
}
