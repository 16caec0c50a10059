//! `normalize_identifier`: canonical forms of emails, phone numbers, ids and names, so that the
//! same identifier written two ways compares equal.

use std::str::FromStr;

use phonenumber::country;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

/// What an identifier is, which decides how it is normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    /// An email address: trimmed, lower-cased, display name and `mailto:` dropped, plus-address
    /// tag (`+tag`) removed.
    Email,
    /// As `Email`, then the provider's own equivalences: Gmail ignores dots in the local part and
    /// `googlemail.com` is `gmail.com`.
    EmailProvider,
    /// A phone number in E.164 (`+14155550123`), validated with libphonenumber's metadata.
    Phone,
    /// A customer, account or order id: trimmed, inner whitespace removed, upper-cased.
    Id,
    /// A person's or place's name: Unicode-folded (accents removed, `ß` to `ss`), lower-cased,
    /// punctuation to spaces, whitespace collapsed.
    Name,
}

impl FromStr for IdentifierKind {
    type Err = Error;

    fn from_str(kind: &str) -> Result<Self> {
        const KINDS: [(&str, IdentifierKind); 8] = [
            ("email", IdentifierKind::Email),
            ("email_provider", IdentifierKind::EmailProvider),
            ("phone", IdentifierKind::Phone),
            ("id", IdentifierKind::Id),
            ("customer_id", IdentifierKind::Id),
            ("account_id", IdentifierKind::Id),
            ("order_id", IdentifierKind::Id),
            ("name", IdentifierKind::Name),
        ];
        let wanted = kind.trim();
        KINDS.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, k)| *k).ok_or_else(|| {
            Error::UnknownValue {
                what: "identifier kind",
                value: kind.to_string(),
                expected: "one of email, email_provider, phone, id, name",
            }
        })
    }
}

/// The region national phone numbers are read in (ISO 3166-1 alpha-2, e.g. `GB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id);

impl FromStr for Region {
    type Err = Error;

    fn from_str(code: &str) -> Result<Self> {
        let trimmed = code.trim();
        let parsed = if trimmed.bytes().all(|b| !b.is_ascii_lowercase()) {
            country::Id::from_str(trimmed)
        } else {
            country::Id::from_str(&trimmed.to_ascii_uppercase())
        };
        parsed.map(Region).map_err(|_| Error::UnknownValue {
            what: "phone region",
            value: code.to_string(),
            expected: "an ISO 3166-1 alpha-2 code such as US, GB or DE",
        })
    }
}

/// The canonical form of `value` as an identifier of `kind`, or `None` when it is not a valid
/// identifier of that kind (an email without a domain, a phone number libphonenumber rejects,
/// a blank value). National phone numbers need `region`; without it only `+` numbers are read.
pub fn normalize_identifier(kind: IdentifierKind, value: &str, region: Option<Region>) -> Option<String> {
    match kind {
        IdentifierKind::Email => email(value, false),
        IdentifierKind::EmailProvider => email(value, true),
        IdentifierKind::Phone => phone(value, region),
        IdentifierKind::Id => id(value),
        IdentifierKind::Name => name(value),
    }
}

/// [`normalize_identifier`] with the kind and region as SQL passes them: text, parsed here so
/// that both engines accept and reject exactly the same spellings.
pub fn normalize_identifier_text(kind: &str, value: &str, region: Option<&str>) -> Result<Option<String>> {
    let kind: IdentifierKind = kind.parse()?;
    let region = region.map(str::parse::<Region>).transpose()?;
    Ok(normalize_identifier(kind, value, region))
}

fn email(value: &str, provider_rules: bool) -> Option<String> {
    let mut address = value.trim();
    if let (Some(open), Some(close)) = (address.rfind('<'), address.rfind('>')) {
        if open < close {
            address = &address[open + 1..close];
        }
    }
    let address = address.trim().to_lowercase();
    let address = address.strip_prefix("mailto:").unwrap_or(&address);
    let (local, domain) = address.split_once('@')?;
    let local = local.split('+').next().unwrap_or_default();
    let domain = domain.trim_end_matches('.');
    let valid_local = !local.is_empty() && !local.contains(|c: char| c.is_whitespace() || c == '"');
    let valid_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.contains("..")
        && !domain.contains(|c: char| c.is_whitespace() || c == '@');
    if !valid_local || !valid_domain {
        return None;
    }
    if provider_rules && (domain == "gmail.com" || domain == "googlemail.com") {
        return Some(format!("{}@gmail.com", local.replace('.', "")));
    }
    Some(format!("{local}@{domain}"))
}

fn phone(value: &str, region: Option<Region>) -> Option<String> {
    valid_phone(value, region).map(|number| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// `value` as a phone number, when it is a valid one in `region`'s numbering (or its own `+`
/// country code).
pub(crate) fn valid_phone(value: &str, region: Option<Region>) -> Option<phonenumber::PhoneNumber> {
    let number = phonenumber::parse(region.map(|r| r.0), value.trim()).ok()?;
    super::phone::is_valid(&number).then_some(number)
}

fn id(value: &str) -> Option<String> {
    let id: String = value.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
    (!id.is_empty()).then_some(id)
}

/// Folds a name: accents off, letters Unicode does not decompose mapped by hand, lower case,
/// apostrophes dropped (`O'Brien` = `obrien`), other punctuation to spaces.
pub(crate) fn name(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut pending_space = false;
    for c in value.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
        let folded = match c {
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            'ø' => "o",
            'đ' | 'ð' => "d",
            'ł' => "l",
            'þ' => "th",
            'ı' => "i",
            '\'' | '’' | '`' | 'ʼ' => continue,
            c if c.is_alphanumeric() => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
                continue;
            }
            _ => {
                pending_space = true;
                continue;
            }
        };
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push_str(folded);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(kind: &str, value: &str, region: Option<&str>) -> Option<String> {
        let kind = kind.parse().unwrap();
        normalize_identifier(kind, value, region.map(|r| r.parse().unwrap()))
    }

    #[test]
    fn emails() {
        assert_eq!(n("email", "  Jane.Doe+promo@Example.COM ", None).as_deref(), Some("jane.doe@example.com"));
        assert_eq!(n("email", "Jane Doe <jane@example.com>", None).as_deref(), Some("jane@example.com"));
        assert_eq!(n("email", "mailto:JANE@example.com", None).as_deref(), Some("jane@example.com"));
        assert_eq!(n("email_provider", "J.a.n.e+x@googlemail.com", None).as_deref(), Some("jane@gmail.com"));
        assert_eq!(n("email_provider", "j.ane@example.com", None).as_deref(), Some("j.ane@example.com"));
        for bad in ["", "jane", "jane@", "@example.com", "jane@localhost", "ja ne@example.com", "a@b..com"] {
            assert_eq!(n("email", bad, None), None, "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(n("phone", "+1 (415) 555-2671", None).as_deref(), Some("+14155552671"));
        assert_eq!(n("phone", "(415) 555-2671", Some("US")).as_deref(), Some("+14155552671"));
        assert_eq!(n("phone", "020 7946 0018", Some("gb")).as_deref(), Some("+442079460018"));
        assert_eq!(n("phone", "0044 20 7946 0018", Some("DE")).as_deref(), Some("+442079460018"));
        assert_eq!(n("phone", "(415) 555-2671", None), None, "a national number needs a region");
        assert_eq!(n("phone", "12", Some("US")), None);
        assert_eq!(n("phone", "call me", Some("US")), None);
    }

    #[test]
    fn ids_and_names() {
        assert_eq!(n("id", "  ac-00 12 ", None).as_deref(), Some("AC-0012"));
        assert_eq!(n("customer_id", "   ", None), None);
        assert_eq!(n("name", "  José  Ñúñez-García ", None).as_deref(), Some("jose nunez garcia"));
        assert_eq!(n("name", "O'Brien, Straße", None).as_deref(), Some("obrien strasse"));
        assert_eq!(n("name", "Łukasz Søren", None).as_deref(), Some("lukasz soren"));
        assert_eq!(n("name", "--", None), None);
    }

    #[test]
    fn text_form_parses_kind_and_region_in_any_case() {
        let phone = normalize_identifier_text(" Phone ", "020 7946 0018", Some("gb"));
        assert_eq!(phone.unwrap().as_deref(), Some("+442079460018"));
        assert_eq!(normalize_identifier_text("EMAIL", "A@B.co", None).unwrap().as_deref(), Some("a@b.co"));
        assert!(normalize_identifier_text("email", "a@b.co", Some("zz")).is_err());
    }

    #[test]
    fn unknown_kinds_and_regions_are_errors() {
        assert!(matches!(
            "passport".parse::<IdentifierKind>(),
            Err(Error::UnknownValue { what: "identifier kind", .. })
        ));
        assert!(matches!("XX".parse::<Region>(), Err(Error::UnknownValue { what: "phone region", .. })));
    }
}
