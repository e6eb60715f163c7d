//! Figures as they are written in Danish: `12.345` for a count, `1.234.567,50 kr.` for an
//! amount (kept in øre everywhere else), `45 %` for a share, and times in Copenhagen.

use chrono::{DateTime, Utc};

/// A whole number with `.` between thousands.
pub fn count(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

/// An amount in øre, in kroner: whole kroner without øre, or with `,` and two digits.
pub fn kroner(ore: i64) -> String {
    let whole = count(ore / 100);
    let sign = if ore < 0 && ore / 100 == 0 { "-" } else { "" };
    match (ore % 100).unsigned_abs() {
        0 => format!("{sign}{whole} kr."),
        rest => format!("{sign}{whole},{rest:02} kr."),
    }
}

/// A share (0.0 to 1.0 or beyond) as a whole percentage.
pub fn percent(share: f64) -> String {
    format!("{} %", count((share * 100.0).round() as i64))
}

/// Minutes as hours and minutes: `12 t 5 min`.
pub fn hours(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{} t", count(h)),
        (h, m) => format!("{} t {m} min", count(h)),
    }
}

/// An instant as a Dane reads it in Copenhagen: `3. december 2026 kl. 07.05`.
pub fn moment(at: DateTime<Utc>) -> String {
    samskab_domain::calendar::danish_written(at)
}

/// The same instant for a `<time datetime>`: RFC 3339 in UTC.
pub fn machine_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counts_and_amounts_are_written_the_danish_way() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1.000");
        assert_eq!(count(1_234_567), "1.234.567");
        assert_eq!(count(-1_234), "-1.234");
        assert_eq!(kroner(0), "0 kr.");
        assert_eq!(kroner(123_456_700), "1.234.567 kr.");
        assert_eq!(kroner(123_456_750), "1.234.567,50 kr.");
        assert_eq!(kroner(5), "0,05 kr.");
        assert_eq!(kroner(-5), "-0,05 kr.");
        assert_eq!(kroner(-12_345), "-123,45 kr.");
        assert_eq!(percent(0.456), "46 %");
        assert_eq!(hours(0), "0 min");
        assert_eq!(hours(125), "2 t 5 min");
        assert_eq!(hours(60 * 1200), "1.200 t");
    }

    #[test]
    fn a_moment_is_shown_in_copenhagen_time() {
        // Winter: UTC+1; summer: UTC+2.
        let winter = Utc
            .with_ymd_and_hms(2026, 12, 3, 6, 5, 0)
            .single()
            .expect("time");
        assert_eq!(moment(winter), "3. december 2026 kl. 07.05");
        let summer = Utc
            .with_ymd_and_hms(2026, 6, 30, 22, 30, 0)
            .single()
            .expect("time");
        assert_eq!(moment(summer), "1. juli 2026 kl. 00.30");
    }
}
