//! Times as payloads write them: clock offsets in transcripts (`01:02:03.500`) and timestamps
//! in exports (RFC 3339, RFC 2822, `YYYY-MM-DD HH:MM:SS`, epoch seconds or milliseconds), all
//! turned into UTC.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// Milliseconds of a clock offset: `hh:mm:ss.fff`, `mm:ss`, `hh:mm:ss,fff` (SRT); `None` when
/// it is not one.
pub(crate) fn offset_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (clock, fraction) = match text.find(['.', ',']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 3) {
        return None;
    }
    let mut total: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let value: i64 = part.parse().ok().filter(|_| part.bytes().all(|b| b.is_ascii_digit()))?;
        if i > 0 && value >= 60 {
            return None;
        }
        total = total * 60 + value;
    }
    let millis = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<3}");
            padded[..3].parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    Some(total * 1000 + millis)
}

/// A chat export's date (`2026-03-12`, `12/03/2026`, `12.03.26`) and time of day
/// (`10:02:33`, with `pm` for a 12-hour clock) as a UTC time; slash and dot dates are day first
/// when `day_first`, else month first.
pub(crate) fn dated(date: &str, clock: &str, pm: Option<bool>, day_first: bool) -> Option<DateTime<Utc>> {
    let parts: Vec<u32> = date.split(['-', '/', '.']).map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [a, b, c] = parts[..] else { return None };
    let (year, month, day) = if date.contains('-') {
        (a as i32, b, c)
    } else {
        let year = if c < 100 { 2000 + c as i32 } else { c as i32 };
        if day_first {
            (year, b, a)
        } else {
            (year, a, b)
        }
    };
    let time: Vec<u32> = clock.split([':', '.', ',']).take(3).map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let mut hour = *time.first()?;
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let day = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let at = day.and_hms_opt(hour, *time.get(1)?, time.get(2).copied().unwrap_or(0))?;
    Some(at.and_utc())
}

/// A timestamp as a UTC time; naive times are taken as UTC. Numbers are epoch seconds, or
/// milliseconds when larger than 10^11.
pub(crate) fn parse_timestamp(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    match value {
        serde_json::Value::Number(n) => {
            let v = n.as_f64()?;
            let ms = if v.abs() > 1e11 { v } else { v * 1000.0 };
            Utc.timestamp_millis_opt(ms as i64).single()
        }
        serde_json::Value::String(s) => parse_time_text(s),
        _ => None,
    }
}

/// A timestamp written as text.
pub(crate) fn parse_time_text(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && text.len() <= 15 {
        return parse_timestamp(&serde_json::Value::Number(text.parse::<i64>().ok()?.into()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(offset_ms("00:01:23"), Some(83_000));
        assert_eq!(offset_ms("01:02:03.5"), Some(3_723_500));
        assert_eq!(offset_ms("00:00:01,250"), Some(1_250));
        assert_eq!(offset_ms("1:05"), Some(65_000));
        assert_eq!(offset_ms("1:75"), None);
        assert_eq!(offset_ms("a:05"), None);
        assert_eq!(offset_ms("12"), None);
    }

    #[test]
    fn timestamps_become_utc() {
        let t = |s: &str| parse_time_text(s).map(|t| super::super::format_time(&t));
        assert_eq!(t("2026-11-02T10:14:00+01:00").as_deref(), Some("2026-11-02T09:14:00Z"));
        assert_eq!(t("2026-11-02 09:14:00").as_deref(), Some("2026-11-02T09:14:00Z"));
        assert_eq!(t("Mon, 2 Nov 2026 04:14:00 -0500").as_deref(), Some("2026-11-02T09:14:00Z"));
        assert_eq!(t("1793610840").as_deref(), Some("2026-11-02T09:14:00Z"));
        assert_eq!(
            parse_timestamp(&serde_json::json!(1_793_610_840_000_i64))
                .map(|t| super::super::format_time(&t))
                .as_deref(),
            Some("2026-11-02T09:14:00Z")
        );
        assert_eq!(t("next tuesday"), None);
    }
}
