//! The demo shop's world: its customers (CRM accounts and prospects not yet in the CRM), their
//! orders, and the marketing campaigns that bring them in.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use fastrand::Rng;

use super::phrases::{CITIES, FIRST_NAMES, LAST_NAMES, PLANS, STREETS};

/// A person who contacts support: an account holder, or a prospect the CRM does not know yet.
#[derive(Clone)]
pub(super) struct Person {
    /// The ground truth's person key.
    pub key: String,
    /// The CRM account, for account holders.
    pub account_id: Option<String>,
    /// Given name.
    pub first: String,
    /// Full name.
    pub full_name: String,
    /// The email the CRM has (or the prospect uses).
    pub email: String,
    /// The phone number in E.164.
    pub phone: String,
    /// ISO country.
    pub country: &'static str,
    /// The language the person writes in.
    pub language: &'static str,
    /// The plan, for account holders.
    pub plan: &'static str,
    /// A street address.
    pub address: String,
    /// When the account was opened.
    pub created_at: NaiveDate,
}

/// A marketing campaign.
pub(super) struct Campaign {
    /// Its id in the marketing tool.
    pub id: String,
    /// The utm_campaign its links carry.
    pub utm: &'static str,
    /// What it was.
    pub name: &'static str,
    /// Where it ran.
    pub channel: &'static str,
    /// Whether its offer confused the leads it brought (the ground truth of campaign friction).
    pub confusing: bool,
    /// When it started.
    pub started_at: NaiveDate,
}

/// One order in the shop.
pub(super) struct Order {
    /// The order's id.
    pub order_id: String,
    /// The account that placed it.
    pub account_id: String,
    /// When.
    pub ordered_at: DateTime<Utc>,
    /// Total in USD.
    pub amount: f64,
    /// processing, shipped, delivered, cancelled or refunded.
    pub status: &'static str,
}

const CAMPAIGNS: &[(&str, &str, &str, bool)] = &[
    ("spring_sale", "Spring sale", "email", false),
    ("black_friday", "Black Friday early access", "paid_social", true),
    ("newsletter_nov", "November newsletter", "email", false),
    ("summer_free_shipping", "Free shipping summer", "paid_search", true),
    ("family_bundle_launch", "Family bundle launch", "paid_social", false),
    ("referral_friends", "Refer a friend", "referral", false),
    ("tiktok_creator", "Creator partnership", "influencer", false),
    ("winback_q4", "Win-back offer", "email", false),
];

/// The demo's campaigns, started before `start` or during the window.
pub(super) fn campaigns(start: NaiveDate, days: i64) -> Vec<Campaign> {
    CAMPAIGNS
        .iter()
        .enumerate()
        .map(|(i, (utm, name, channel, confusing))| Campaign {
            id: format!("CMP-{:02}", i + 1),
            utm,
            name,
            channel,
            confusing: *confusing,
            started_at: start + Duration::days((i as i64 * days / CAMPAIGNS.len() as i64) - 30),
        })
        .collect()
}

fn pick<'a, T: ?Sized>(rng: &mut Rng, items: &'a [&'a T]) -> &'a T {
    items[rng.usize(..items.len())]
}

/// A phone number of the person's country, in E.164.
fn phone(rng: &mut Rng, country: &str) -> String {
    match country {
        "ES" => format!("+346{:08}", rng.u32(10_000_000..99_999_999)),
        "FR" => format!("+336{:08}", rng.u32(10_000_000..99_999_999)),
        "DE" => format!("+49151{:08}", rng.u32(10_000_000..99_999_999)),
        "PT" => format!("+3519{:08}", rng.u32(10_000_000..99_999_999)),
        _ => {
            let area = pick(rng, &["212", "312", "415", "617", "646", "718", "202", "305", "512", "206"]);
            format!("+1{area}{}{:04}", rng.u32(200..1000), rng.u32(0..10_000))
        }
    }
}

/// A person: `key` names them in the ground truth, `account` is their CRM id when they have one.
pub(super) fn person(rng: &mut Rng, key: String, account: Option<String>, start: NaiveDate) -> Person {
    let language = match rng.u32(0..100) {
        0..=87 => "en",
        88..=90 => "es",
        91..=93 => "fr",
        94..=96 => "de",
        _ => "pt",
    };
    let country = match language {
        "es" => "ES",
        "fr" => "FR",
        "de" => "DE",
        "pt" => "PT",
        _ => "US",
    };
    let firsts = FIRST_NAMES.iter().find(|(l, _)| *l == language).map(|(_, names)| *names).unwrap_or(&[]);
    let first = pick(rng, firsts).to_string();
    let last = pick(rng, LAST_NAMES);
    let domain = pick(rng, &["example.com", "example.org", "mail.example.net", "example.co"]);
    let email = format!("{}.{}{}@{domain}", ascii(&first), ascii(last), rng.u32(1..999));
    Person {
        key,
        account_id: account,
        full_name: format!("{first} {last}"),
        first,
        email,
        phone: phone(rng, country),
        country,
        language,
        plan: pick(rng, PLANS),
        address: format!("{} {}, {}", rng.u32(2..980), pick(rng, STREETS), pick(rng, CITIES)),
        created_at: start - Duration::days(rng.i64(30..900)),
    }
}

/// The name folded to lowercase ASCII letters, for email addresses.
fn ascii(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' => 'a',
            'é' | 'è' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'ã' => 'o',
            'ú' | 'ü' => 'u',
            c => c,
        })
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase()
}

/// How the person's email shows up on a platform: as in the CRM, in other case, or plus-addressed.
pub(super) fn email_variant(rng: &mut Rng, email: &str) -> String {
    match rng.u32(0..10) {
        0..=5 => email.to_string(),
        6 | 7 => email.to_uppercase(),
        _ => email.replacen('@', "+shop@", 1),
    }
}

/// How the person's phone shows up as written: E.164, spaced, or US national formats.
pub(super) fn phone_variant(rng: &mut Rng, e164: &str) -> String {
    match (e164.strip_prefix("+1"), rng.u32(0..3)) {
        (Some(n), 0) => format!("({}) {}-{}", &n[..3], &n[3..6], &n[6..]),
        (Some(n), 1) => format!("{}-{}-{}", &n[..3], &n[3..6], &n[6..]),
        (Some(n), _) => format!("+1 {} {} {}", &n[..3], &n[3..6], &n[6..]),
        (None, 0) => e164.to_string(),
        (None, _) => format!("{} {} {}", &e164[..3], &e164[3..6], &e164[6..]),
    }
}

/// The accounts' orders before the window opens, oldest first.
pub(super) fn orders(rng: &mut Rng, accounts: &[Person], start: NaiveDate, days: i64) -> Vec<Order> {
    let mut orders = Vec::new();
    for account in accounts {
        let id = account.account_id.as_deref().unwrap_or_default();
        for _ in 0..rng.usize(0..4) {
            let day = start + Duration::days(rng.i64(-60..days.max(1)));
            orders.push(Order {
                order_id: String::new(),
                account_id: id.to_string(),
                ordered_at: at(day, rng.u32(7 * 3600..22 * 3600)),
                amount: (rng.u32(900..25_000) as f64) / 100.0,
                status: pick(rng, &["delivered", "delivered", "delivered", "shipped", "processing", "cancelled"]),
            });
        }
    }
    orders
}

/// `day` at `seconds` after midnight, UTC.
pub(super) fn at(day: NaiveDate, seconds: u32) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() + Duration::seconds(seconds as i64)
}

/// A card number (Luhn-valid, Visa range) for planted PII.
pub(super) fn card(rng: &mut Rng) -> String {
    let mut digits: Vec<u32> = std::iter::once(4).chain((0..14).map(|_| rng.u32(0..10))).collect();
    let sum: u32 = digits.iter().rev().enumerate().map(|(i, &d)| if i % 2 == 0 { luhn_double(d) } else { d }).sum();
    digits.push((10 - sum % 10) % 10);
    let s: String = digits.iter().map(|d| char::from_digit(*d, 10).expect("digit")).collect();
    format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
}

/// A Luhn digit doubled, its digits summed.
fn luhn_double(d: u32) -> u32 {
    if d * 2 > 9 {
        d * 2 - 9
    } else {
        d * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_pass_luhn() {
        let mut rng = Rng::with_seed(7);
        for _ in 0..200 {
            let digits: Vec<u32> = card(&mut rng).chars().filter_map(|c| c.to_digit(10)).collect();
            let sum: u32 =
                digits.iter().rev().enumerate().map(|(i, &d)| if i % 2 == 1 { luhn_double(d) } else { d }).sum();
            assert_eq!(sum % 10, 0, "{digits:?}");
        }
    }

    #[test]
    fn phone_variants_keep_the_digits() {
        let mut rng = Rng::with_seed(3);
        for country in ["US", "FR", "DE"] {
            let e164 = phone(&mut rng, country);
            for _ in 0..5 {
                let shown = phone_variant(&mut rng, &e164);
                let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
                assert!(e164.ends_with(&digits) || digits.ends_with(&e164[1..]), "{shown} vs {e164}");
            }
        }
    }
}
