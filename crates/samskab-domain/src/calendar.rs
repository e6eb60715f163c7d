//! The calendar the rules use: Denmark's. Times are stored in UTC, but a rule about a *date*
//! ("not assessed in the future", "the need's last day has passed", "hours for a month not yet
//! begun") asks what day it is in Denmark. In UTC it is still yesterday until 01:00 or 02:00
//! Danish time, so a caseworker entering today's date just after midnight would be refused.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

/// Hours Denmark is ahead of UTC at `at`: 2 in summer time (CEST), from the last Sunday of
/// March 01:00 UTC to the last Sunday of October 01:00 UTC, and 1 (CET) otherwise. That is the
/// EU's rule (Directive 2000/84/EC), Denmark's since 1996; it is written out here rather than
/// taken from a time zone database because it is all the rules need, and it is tested at its
/// edges below.
pub fn hours_ahead_of_utc(at: DateTime<Utc>) -> i64 {
    let year = at.year();
    let summer_from = last_sunday_at_one_utc(year, 3);
    let summer_until = last_sunday_at_one_utc(year, 10);
    match (summer_from, summer_until) {
        (Some(from), Some(until)) if at >= from && at < until => 2,
        _ => 1,
    }
}

/// The date in Denmark at `at`.
pub fn danish_date(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(hours_ahead_of_utc(at))).date_naive()
}

/// 01:00 UTC on the last Sunday of `month` in `year`.
fn last_sunday_at_one_utc(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let first_of_next = NaiveDate::from_ymd_opt(year, month + 1, 1)?;
    let last_day = first_of_next.pred_opt()?;
    let back = i64::from(last_day.weekday().num_days_from_sunday());
    let sunday = last_day - Duration::days(back);
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    Utc.from_local_datetime(&sunday.and_hms_opt(1, 0, 0)?)
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("a valid time")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    #[test]
    fn just_after_danish_midnight_it_is_already_the_next_day() {
        // Winter: 23:30 UTC is 00:30 in Copenhagen.
        assert_eq!(danish_date(utc(2026, 11, 30, 23, 30)), date(2026, 12, 1));
        // Summer: 22:30 UTC is 00:30 in Copenhagen.
        assert_eq!(danish_date(utc(2026, 6, 30, 22, 30)), date(2026, 7, 1));
        // New Year comes an hour before it does in UTC.
        assert_eq!(danish_date(utc(2025, 12, 31, 23, 0)), date(2026, 1, 1));
        assert_eq!(danish_date(utc(2025, 12, 31, 22, 59)), date(2025, 12, 31));
    }

    #[test]
    fn summer_time_starts_and_ends_at_one_utc_on_the_last_sundays() {
        // 2026: 29 March and 25 October.
        assert_eq!(hours_ahead_of_utc(utc(2026, 3, 29, 0, 59)), 1);
        assert_eq!(hours_ahead_of_utc(utc(2026, 3, 29, 1, 0)), 2);
        assert_eq!(hours_ahead_of_utc(utc(2026, 10, 25, 0, 59)), 2);
        assert_eq!(hours_ahead_of_utc(utc(2026, 10, 25, 1, 0)), 1);
        // 2027: 28 March and 31 October (the month's last day is the Sunday).
        assert_eq!(hours_ahead_of_utc(utc(2027, 3, 28, 1, 0)), 2);
        assert_eq!(hours_ahead_of_utc(utc(2027, 3, 27, 12, 0)), 1);
        assert_eq!(hours_ahead_of_utc(utc(2027, 10, 31, 0, 59)), 2);
        assert_eq!(hours_ahead_of_utc(utc(2027, 10, 31, 1, 0)), 1);
        assert_eq!(hours_ahead_of_utc(utc(2027, 1, 15, 12, 0)), 1);
        assert_eq!(hours_ahead_of_utc(utc(2027, 7, 15, 12, 0)), 2);
    }
}
