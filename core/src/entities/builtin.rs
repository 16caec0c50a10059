//! Built-in entity types: `MONEY` (amount and ISO 4217 currency), `DATE` (ISO 8601) and
//! `DURATION` (ISO 8601 duration).

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Currency symbols, codes and words, to ISO 4217.
const CURRENCIES: [(&str, &str); 24] = [
    ("$", "USD"),
    ("us$", "USD"),
    ("usd", "USD"),
    ("dollars", "USD"),
    ("dollar", "USD"),
    ("bucks", "USD"),
    ("€", "EUR"),
    ("eur", "EUR"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("£", "GBP"),
    ("gbp", "GBP"),
    ("pounds", "GBP"),
    ("¥", "JPY"),
    ("jpy", "JPY"),
    ("yen", "JPY"),
    ("₹", "INR"),
    ("inr", "INR"),
    ("rupees", "INR"),
    ("cad", "CAD"),
    ("aud", "AUD"),
    ("chf", "CHF"),
    ("r$", "BRL"),
    ("brl", "BRL"),
];

const CURRENCY: &str = r"(?i:us\$|r\$|\$|€|£|¥|₹|usd|eur|gbp|jpy|inr|cad|aud|chf|brl)";
const CURRENCY_AFTER: &str =
    r"(?i:\$|€|£|¥|₹|usd|eur|gbp|jpy|inr|cad|aud|chf|brl|dollars?|euros?|pounds|bucks|yen|rupees)";
const AMOUNT: &str = r"\d{1,3}(?:[.,  ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<c1>{CURRENCY})\s?(?P<a1>{AMOUNT})|\b(?P<a2>{AMOUNT})\s?(?P<c2>{CURRENCY_AFTER})(?:\b|$|\s)"
    ))
    .expect("money pattern")
});

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const MONTH: &str = r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})\b|\b(?P<n1>\d{{1,2}})[/.](?P<n2>\d{{1,2}})[/.](?P<ny>\d{{4}})\b|\b(?P<m1>{MONTH})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>\d{{4}}))?\b|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{MONTH})\.?(?:,?\s+(?P<y2>\d{{4}}))?\b"
    ))
    .expect("date pattern")
});

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a couple of)\s+(?P<u>minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b",
    )
    .expect("duration pattern")
});

/// Every built-in entity in `text`: byte start, byte end, type, value. Overlaps are left to the
/// caller.
pub(super) fn find(text: &str) -> Vec<(usize, usize, &'static str, String)> {
    let mut out = Vec::new();
    for caps in MONEY.captures_iter(text) {
        let whole = caps.get(0).expect("group 0");
        let (amount, currency) = match (caps.name("a1"), caps.name("c1")) {
            (Some(a), Some(c)) => (a.as_str(), c.as_str()),
            _ => (caps.name("a2").map_or("", |m| m.as_str()), caps.name("c2").map_or("", |m| m.as_str())),
        };
        if let (Some(amount), Some(code)) = (parse_amount(amount), currency_code(currency)) {
            let end = whole.start() + whole.as_str().trim_end().len();
            out.push((whole.start(), end, "MONEY", format!("{amount:.2} {code}")));
        }
    }
    for caps in DATE.captures_iter(text) {
        if let Some(value) = date_value(&caps) {
            let whole = caps.get(0).expect("group 0");
            out.push((whole.start(), whole.end(), "DATE", value));
        }
    }
    for caps in DURATION.captures_iter(text) {
        let whole = caps.get(0).expect("group 0");
        let n = number(&caps["n"]);
        let unit = caps["u"].to_ascii_lowercase();
        let value = match unit.chars().next() {
            Some('m') if unit.starts_with("mi") => format!("PT{n}M"),
            Some('h') => format!("PT{n}H"),
            Some('d') => format!("P{n}D"),
            Some('w') => format!("P{n}W"),
            Some('m') => format!("P{n}M"),
            _ => format!("P{n}Y"),
        };
        out.push((whole.start(), whole.end(), "DURATION", value));
    }
    out
}

fn currency_code(written: &str) -> Option<&'static str> {
    let lower = written.to_lowercase();
    CURRENCIES.iter().find(|(w, _)| *w == lower).map(|(_, code)| *code)
}

/// An amount written `1,234.56`, `1.234,56`, `1 234,5` or `12,50`: the last `.` or `,` followed
/// by one or two digits is the decimal mark.
fn parse_amount(written: &str) -> Option<f64> {
    let digits: String = written.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let decimal = digits.rfind(['.', ',']).filter(|&at| (1..=2).contains(&(digits.len() - at - 1)));
    let normalized: String = digits
        .char_indices()
        .filter_map(|(i, c)| match c {
            '.' | ',' if Some(i) == decimal => Some('.'),
            '.' | ',' => None,
            c => Some(c),
        })
        .collect();
    normalized.parse().ok()
}

fn number(written: &str) -> u32 {
    match written.to_ascii_lowercase().as_str() {
        "a" | "an" | "one" => 1,
        "two" | "a couple of" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "twelve" => 12,
        digits => digits.parse().unwrap_or(0),
    }
}

fn month(written: &str) -> Option<u32> {
    let lower = written.to_lowercase();
    MONTHS.iter().position(|m| m.starts_with(&lower[..lower.len().min(3)])).map(|i| i as u32 + 1)
}

/// A date as ISO 8601: numeric dates are read day-first when the first number cannot be a month,
/// month-first otherwise (as in the US); without a year, `--MM-DD`.
fn date_value(caps: &Captures<'_>) -> Option<String> {
    let (year, month, day) = if let Some(y) = caps.name("iy") {
        (Some(y.as_str().parse().ok()?), caps["im"].parse().ok()?, caps["id"].parse().ok()?)
    } else if let Some(y) = caps.name("ny") {
        let (a, b): (u32, u32) = (caps["n1"].parse().ok()?, caps["n2"].parse().ok()?);
        let (m, d) = if a > 12 { (b, a) } else { (a, b) };
        (Some(y.as_str().parse().ok()?), m, d)
    } else if let Some(m) = caps.name("m1") {
        (caps.name("y1").and_then(|y| y.as_str().parse().ok()), month(m.as_str())?, caps["d1"].parse().ok()?)
    } else {
        let m = caps.name("m2")?;
        (caps.name("y2").and_then(|y| y.as_str().parse().ok()), month(m.as_str())?, caps["d2"].parse().ok()?)
    };
    let year: Option<i32> = year;
    let valid = match year {
        Some(y) => chrono::NaiveDate::from_ymd_opt(y, month, day).is_some(),
        None => chrono::NaiveDate::from_ymd_opt(2000, month, day).is_some(),
    };
    valid.then(|| match year {
        Some(y) => format!("{y:04}-{month:02}-{day:02}"),
        None => format!("--{month:02}-{day:02}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(&'static str, String)> {
        find(text).into_iter().map(|(_, _, k, v)| (k, v)).collect()
    }

    #[test]
    fn money_in_many_notations() {
        assert_eq!(values("It was $1,234.50"), [("MONEY", "1234.50 USD".to_string())]);
        assert_eq!(values("zahlte 1.234,56 € gestern"), [("MONEY", "1234.56 EUR".to_string())]);
        assert_eq!(values("refund 40 dollars"), [("MONEY", "40.00 USD".to_string())]);
        assert_eq!(values("GBP 12"), [("MONEY", "12.00 GBP".to_string())]);
        assert!(values("order 12345").is_empty());
    }

    #[test]
    fn dates_and_durations() {
        assert_eq!(values("on 2024-03-05"), [("DATE", "2024-03-05".to_string())]);
        assert_eq!(values("on 25/12/2024"), [("DATE", "2024-12-25".to_string())]);
        assert_eq!(values("by March 5th, 2024"), [("DATE", "2024-03-05".to_string())]);
        assert_eq!(values("the 3rd of June"), [("DATE", "--06-03".to_string())]);
        assert!(values("on 2024-02-30").is_empty());
        assert_eq!(values("waited two weeks"), [("DURATION", "P2W".to_string())]);
        assert_eq!(values("45 minutes on hold"), [("DURATION", "PT45M".to_string())]);
    }
}
