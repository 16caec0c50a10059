//! Validators: Luhn and card issuer ranges, IBAN mod-97 and lengths, US SSN rules.

/// Whether the digits pass the Luhn check.
pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The card network whose issuer range and length fit the digits, if any.
pub(super) fn card_issuer(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    let prefix = |n: usize| -> u32 { digits[..n.min(len)].iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')) };
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    let issuer = if p1 == 4 && matches!(len, 13 | 16 | 19) {
        "visa"
    } else if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        "mastercard"
    } else if matches!(p2, 34 | 37) && len == 15 {
        "amex"
    } else if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
        && (16..=19).contains(&len)
    {
        "discover"
    } else if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        "jcb"
    } else if ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39) || p4 == 3095) && (14..=19).contains(&len) {
        "diners"
    } else if p2 == 62 && (16..=19).contains(&len) {
        "unionpay"
    } else if (p2 == 50 || (56..=69).contains(&p2)) && (12..=19).contains(&len) {
        "maestro"
    } else if p4 == 2200 || p4 == 2201 || p4 == 2202 || p4 == 2203 || p4 == 2204 {
        "mir"
    } else {
        return None;
    };
    Some(issuer)
}

/// IBAN lengths by country (SWIFT IBAN registry).
const IBAN_LENGTHS: [(&str, usize); 78] = [
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("LY", 25),
];

/// Whether `compact` (upper-case letters and digits, no spaces) is a valid IBAN: a known
/// country, that country's length, and the mod-97 check.
pub(super) fn iban(compact: &[u8]) -> bool {
    let Some(country) = compact.get(..2) else { return false };
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| c.as_bytes() == country) else {
        return false;
    };
    if compact.len() != len || !compact.iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
        return false;
    }
    let mut remainder = 0u32;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let value = if b.is_ascii_digit() { u32::from(b - b'0') } else { u32::from(b - b'A') + 10 };
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

/// Whether nine digits are an SSN the SSA could have issued: area not 000, 666 or 9xx, group not
/// 00, serial not 0000, and not one of the numbers published in advertising.
pub(super) fn us_ssn(digits: &[u8]) -> bool {
    if digits.len() != 9 {
        return false;
    }
    let area = &digits[..3];
    let ok_area = area != b"000" && area != b"666" && area[0] != b'9';
    let published = [b"078051120".as_slice(), b"219099999", b"123456789"];
    ok_area
        && &digits[3..5] != b"00"
        && &digits[5..] != b"0000"
        && !published.contains(&digits)
        && !digits.iter().all(|&d| d == digits[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert_eq!(card_issuer(b"4111111111111111"), Some("visa"));
        assert_eq!(card_issuer(b"378282246310005"), Some("amex"));
        assert_eq!(card_issuer(b"5555555555554444"), Some("mastercard"));
        assert_eq!(card_issuer(b"3530111333300000"), Some("jcb"));
        assert_eq!(card_issuer(b"1234567812345670"), None);
    }

    #[test]
    fn iban_mod_97() {
        assert!(iban(b"DE89370400440532013000"));
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(!iban(b"DE89370400440532013001"));
        assert!(!iban(b"DE8937040044053201300"));
        assert!(!iban(b"XX89370400440532013000"));
    }

    #[test]
    fn ssn_rules() {
        assert!(us_ssn(b"536905871"));
        for bad in [b"000123456", b"666123456", b"912345678", b"123006789", b"123450000", b"123456789", b"111111111"] {
            assert!(!us_ssn(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
