//! Column kinds: how an attribute is normalized and how two values of it are compared.

use serde::{Deserialize, Serialize};

use super::normalize::{normalize_identifier, IdentifierKind, Region};
use super::similarity::{edits_up_to, jaro_winkler};

/// What a record attribute holds. Decides normalization and the comparison levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Email address, normalized as `normalize_identifier('email', ...)`.
    Email,
    /// Phone number, normalized to E.164 in the settings' `default_region`.
    Phone,
    /// An id (customer, account, social security): exact, one edit, two edits, different.
    Identifier,
    /// A name (person, suburb, city): exact, Jaro-Winkler >= 0.92, >= 0.80, different.
    Name,
    /// A date: digits only, then exact, one edit, two edits, different.
    Date,
    /// A street address: exact, Jaro-Winkler >= 0.90, >= 0.80, different.
    Address,
    /// A postal code: upper case without spaces; exact, one edit, different.
    Postcode,
    /// Anything else: trimmed and lower-cased; exact or different.
    Text,
}

impl ColumnKind {
    /// The kind a column's name suggests (`given_name` is a name, `dob` a date, `zip` a postcode).
    pub fn infer(column: &str) -> Self {
        let lower = column.to_ascii_lowercase();
        let tokens: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
        let has = |words: &[&str]| tokens.iter().any(|t| words.contains(t));
        if has(&["email", "mail", "emailaddress"]) {
            Self::Email
        } else if has(&["phone", "mobile", "msisdn", "tel", "telephone", "cell", "phonenumber"]) {
            Self::Phone
        } else if has(&["dob", "birth", "birthday", "birthdate", "born", "date"]) {
            Self::Date
        } else if has(&["postcode", "postal", "zip", "zipcode", "postalcode", "plz"]) {
            Self::Postcode
        } else if has(&["number", "no", "num", "nr", "state", "country", "gender", "sex"])
            || has(&["at", "time", "timestamp", "created", "updated", "seen", "count", "amount", "total"])
        {
            Self::Text
        } else if has(&["id", "ssn", "sec", "nin", "passport", "licence", "license", "uuid", "guid", "ref"])
            || has(&["userid", "customerid", "accountid", "clientid", "memberid"])
        {
            Self::Identifier
        } else if has(&["name", "given", "first", "surname", "last", "middle", "forename", "suburb", "city", "town"]) {
            Self::Name
        } else if has(&["address", "street", "addr", "line", "address1", "address2"]) {
            Self::Address
        } else {
            Self::Text
        }
    }

    /// Whether a column of this kind with this name holds a person's name (used for default
    /// blocking rules).
    pub(crate) fn is_person_name(self, column: &str) -> bool {
        let lower = column.to_ascii_lowercase();
        self == Self::Name && !["suburb", "city", "town", "locality"].iter().any(|p| lower.contains(p))
    }

    /// The canonical form of a raw value, or `None` when it holds nothing usable.
    pub(crate) fn normalize(self, value: &str, region: Option<Region>) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        match self {
            Self::Email => normalize_identifier(IdentifierKind::Email, value, None),
            Self::Phone => normalize_identifier(IdentifierKind::Phone, value, region),
            Self::Identifier => normalize_identifier(IdentifierKind::Id, value, None),
            Self::Name | Self::Address => normalize_identifier(IdentifierKind::Name, value, None),
            Self::Date => {
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                (!digits.is_empty()).then_some(digits)
            }
            Self::Postcode => {
                let code: String = value.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
                Some(code)
            }
            Self::Text => Some(value.to_lowercase()),
        }
    }

    /// The names of this kind's comparison levels, best first; the last is "different".
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Self::Name => &["exact", "jaro_winkler>=0.92", "jaro_winkler>=0.80", "different"],
            Self::Address => &["exact", "jaro_winkler>=0.90", "jaro_winkler>=0.80", "different"],
            Self::Identifier | Self::Date => &["exact", "one_edit", "two_edits", "different"],
            Self::Email | Self::Phone | Self::Postcode => &["exact", "one_edit", "different"],
            Self::Text => &["exact", "different"],
        }
    }

    /// The level (index into [`levels`](Self::levels)) of two different, non-null normalized
    /// values; equal values are level 0 and are not passed here.
    pub(crate) fn compare_different(self, a: &str, b: &str) -> u8 {
        match self {
            Self::Name => jaro_winkler_level(a, b, 0.92, 0.80),
            Self::Address => jaro_winkler_level(a, b, 0.90, 0.80),
            Self::Identifier | Self::Date => edits_up_to(a, b, 2).min(3) as u8,
            Self::Email | Self::Phone | Self::Postcode => edits_up_to(a, b, 1).min(2) as u8,
            Self::Text => 1,
        }
    }

    /// The default probability that two records of one person agree at each level, used when
    /// there are too few pairs to estimate it.
    pub(crate) fn default_m(self) -> &'static [f64] {
        match self.levels().len() {
            4 => &[0.85, 0.08, 0.03, 0.04],
            3 => &[0.9, 0.05, 0.05],
            _ => &[0.9, 0.1],
        }
    }
}

fn jaro_winkler_level(a: &str, b: &str, high: f64, low: f64) -> u8 {
    let score = jaro_winkler(a, b);
    if score >= high {
        1
    } else if score >= low {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_inferred_from_names() {
        let cases = [
            ("given_name", ColumnKind::Name),
            ("surname", ColumnKind::Name),
            ("street_number", ColumnKind::Text),
            ("address_1", ColumnKind::Address),
            ("suburb", ColumnKind::Name),
            ("postcode", ColumnKind::Postcode),
            ("state", ColumnKind::Text),
            ("date_of_birth", ColumnKind::Date),
            ("soc_sec_id", ColumnKind::Identifier),
            ("customer_id", ColumnKind::Identifier),
            ("contact_email", ColumnKind::Email),
            ("mobile_phone", ColumnKind::Phone),
            ("zip", ColumnKind::Postcode),
            ("notes", ColumnKind::Text),
            ("first_seen_at", ColumnKind::Text),
            ("is_paid", ColumnKind::Text),
            ("CustomerID", ColumnKind::Identifier),
            ("account_ref", ColumnKind::Identifier),
        ];
        for (column, kind) in cases {
            assert_eq!(ColumnKind::infer(column), kind, "{column}");
        }
    }

    #[test]
    fn levels_grade_similarity() {
        assert_eq!(ColumnKind::Name.compare_different("jonathan", "jonathon"), 1);
        assert_eq!(ColumnKind::Name.compare_different("smith", "smyth"), 2);
        assert_eq!(ColumnKind::Name.compare_different("smith", "nguyen"), 3);
        assert_eq!(ColumnKind::Date.compare_different("19800312", "19800321"), 1);
        assert_eq!(ColumnKind::Date.compare_different("19800312", "19710101"), 3);
        assert_eq!(ColumnKind::Postcode.compare_different("2602", "2620"), 1);
        assert_eq!(ColumnKind::Text.compare_different("nsw", "vic"), 1);
        for kind in [ColumnKind::Name, ColumnKind::Date, ColumnKind::Postcode, ColumnKind::Text] {
            assert_eq!(kind.default_m().len(), kind.levels().len());
        }
    }

    #[test]
    fn values_are_normalized_per_kind() {
        assert_eq!(ColumnKind::Date.normalize("1980-03-12", None).as_deref(), Some("19800312"));
        assert_eq!(ColumnKind::Postcode.normalize(" sw1a 1aa", None).as_deref(), Some("SW1A1AA"));
        assert_eq!(ColumnKind::Name.normalize("  ", None), None);
        assert_eq!(ColumnKind::Text.normalize("NSW", None).as_deref(), Some("nsw"));
    }
}
