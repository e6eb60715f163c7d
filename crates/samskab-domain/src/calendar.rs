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

/// The instant a Danish day begins: its midnight in Copenhagen, in UTC (23:00 or 22:00 UTC
/// the day before). Midnight is never inside a change of clocks (those are at 02:00 and 03:00
/// local time), so it is one instant.
pub fn danish_midnight(day: NaiveDate) -> DateTime<Utc> {
    let utc_midnight = Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN));
    // Winter: an hour before UTC midnight; summer: two hours.
    let winter = utc_midnight - Duration::hours(1);
    if hours_ahead_of_utc(winter) == 1 {
        winter
    } else {
        utc_midnight - Duration::hours(2)
    }
}

/// A period a report covers: a month, a quarter or a year, of Danish days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    kind: PeriodKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeriodKind {
    Year,
    Quarter(u32),
    Month,
}

impl Period {
    /// `2026` (a year), `2026-Q4` (a quarter) or `2026-11` (a month).
    pub fn parse(text: &str) -> Result<Period, &'static str> {
        const FORM: &str = "must be a year (2026), a quarter (2026-Q4) or a month (2026-11)";
        let (year, rest) = match text.split_once('-') {
            Some((year, rest)) => (year, Some(rest)),
            None => (text, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FORM);
        }
        let year: i32 = year.parse().map_err(|_| FORM)?;
        let (first_month, months, kind) = match rest {
            None => (1, 12, PeriodKind::Year),
            Some(q) if q.len() == 2 && q.starts_with('Q') => match q.as_bytes()[1] {
                n @ b'1'..=b'4' => {
                    let quarter = u32::from(n - b'0');
                    (3 * quarter - 2, 3, PeriodKind::Quarter(quarter))
                }
                _ => return Err(FORM),
            },
            Some(m) if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => {
                match m.parse::<u32>() {
                    Ok(month @ 1..=12) => (month, 1, PeriodKind::Month),
                    _ => return Err(FORM),
                }
            }
            Some(_) => return Err(FORM),
        };
        let first_day = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or(FORM)?;
        let last_day = first_day
            .checked_add_months(chrono::Months::new(months))
            .and_then(|next| next.pred_opt())
            .ok_or(FORM)?;
        Ok(Period {
            first_day,
            last_day,
            kind,
        })
    }

    /// The year `day` falls in.
    pub fn year_of(day: NaiveDate) -> Period {
        // Every year a `NaiveDate` can hold has its 1 January and its 31 December.
        let first_day = day.with_ordinal(1).unwrap_or(day);
        let last_day = NaiveDate::from_ymd_opt(day.year(), 12, 31).unwrap_or(day);
        Period {
            first_day,
            last_day,
            kind: PeriodKind::Year,
        }
    }

    /// As [`parse`](Self::parse) reads it.
    pub fn label(&self) -> String {
        let year = self.first_day.year();
        match self.kind {
            PeriodKind::Year => format!("{year:04}"),
            PeriodKind::Quarter(q) => format!("{year:04}-Q{q}"),
            PeriodKind::Month => format!("{year:04}-{:02}", self.first_day.month()),
        }
    }

    /// The period's first instant (its first day's Danish midnight).
    pub fn start(&self) -> DateTime<Utc> {
        danish_midnight(self.first_day)
    }

    /// The first instant after the period (the next day's Danish midnight).
    pub fn end(&self) -> DateTime<Utc> {
        danish_midnight(self.last_day + Duration::days(1))
    }
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

const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

/// `at` in Danish local time, written the Danish way: `1. december 2026 kl. 18.05`. What an
/// audit case file and a dashboard show a person.
pub fn danish_written(at: DateTime<Utc>) -> String {
    use chrono::Timelike;
    let local = (at + Duration::hours(hours_ahead_of_utc(at))).naive_utc();
    format!(
        "{}. {} {} kl. {:02}.{:02}",
        local.day(),
        MONTHS[local.month0() as usize],
        local.year(),
        local.hour(),
        local.minute()
    )
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

    #[test]
    fn a_danish_day_begins_at_its_midnight_in_copenhagen() {
        // Winter (CET): 23:00 UTC the day before; summer (CEST): 22:00.
        assert_eq!(danish_midnight(date(2026, 12, 1)), utc(2026, 11, 30, 23, 0));
        assert_eq!(danish_midnight(date(2026, 7, 1)), utc(2026, 6, 30, 22, 0));
        // The days the clocks change begin on the old time.
        assert_eq!(danish_midnight(date(2026, 3, 29)), utc(2026, 3, 28, 23, 0));
        assert_eq!(
            danish_midnight(date(2026, 10, 25)),
            utc(2026, 10, 24, 22, 0)
        );
        for day in [
            date(2026, 3, 29),
            date(2026, 3, 30),
            date(2026, 10, 25),
            date(2026, 10, 26),
        ] {
            let midnight = danish_midnight(day);
            assert_eq!(danish_date(midnight), day);
            assert_eq!(
                danish_date(midnight - Duration::seconds(1)),
                day.pred_opt().expect("day")
            );
        }
    }

    #[test]
    fn a_period_is_a_year_a_quarter_or_a_month_of_danish_days() {
        let year = Period::parse("2026").expect("a year");
        assert_eq!(
            (year.first_day, year.last_day),
            (date(2026, 1, 1), date(2026, 12, 31))
        );
        assert_eq!(year.start(), utc(2025, 12, 31, 23, 0));
        assert_eq!(year.end(), utc(2026, 12, 31, 23, 0));
        let quarter = Period::parse("2026-Q1").expect("a quarter");
        assert_eq!(
            (quarter.first_day, quarter.last_day),
            (date(2026, 1, 1), date(2026, 3, 31))
        );
        // The quarter ends on summer time: its end is 22:00 UTC.
        assert_eq!(quarter.end(), utc(2026, 3, 31, 22, 0));
        let february = Period::parse("2028-02").expect("a month");
        assert_eq!(february.last_day, date(2028, 2, 29));
        assert_eq!(Period::year_of(date(2026, 7, 14)), year);
        for text in ["2026", "2026-Q4", "2026-11"] {
            assert_eq!(Period::parse(text).map(|p| p.label()), Ok(text.to_string()));
        }
        for bad in [
            "", "26", "2026-", "2026-Q0", "2026-Q5", "2026-13", "2026-00", "2026-1", "+2026",
            "2026-Q1x", "2026-W3",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?}");
        }
    }
}
