//! A calendar month, the period volunteer hours are logged for.

use crate::InvalidValue;
use crate::volunteer::EARLIEST_YEAR;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A calendar month, written `YYYY-MM` ("2025-09"), in [`EARLIEST_YEAR`] or later.
///
/// Hours are logged per month rather than per week because a month is what the municipality's
/// reports count (hours of volunteer work per month and per year), and a week straddles two
/// months (and, at New Year, two years), so weekly figures could not be added up into them.
/// Ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth(
    /// The month's first day: compares in time, and is always a date.
    NaiveDate,
);

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Result<Self, InvalidValue> {
        if !(EARLIEST_YEAR..=9999).contains(&year) {
            return Err(InvalidValue::new(format!(
                "the year must be between {EARLIEST_YEAR} and 9999"
            )));
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Self)
            .ok_or_else(|| InvalidValue::new("the month must be between 01 and 12"))
    }

    /// Exactly `YYYY-MM`, as a month input field sends it.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let bytes = input.as_bytes();
        let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 7 || bytes[4] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(InvalidValue::new("must be a month written YYYY-MM"));
        }
        let year = input[..4].parse::<i32>();
        let month = input[5..].parse::<u32>();
        match (year, month) {
            (Ok(year), Ok(month)) => Self::new(year, month),
            _ => Err(InvalidValue::new("must be a month written YYYY-MM")),
        }
    }

    /// The month's first day.
    pub fn first_day(&self) -> NaiveDate {
        self.0
    }

    pub fn year(&self) -> i32 {
        self.0.year()
    }

    /// 1..=12.
    pub fn month(&self) -> u32 {
        self.0.month()
    }

    /// Whether `date` falls in this month.
    pub fn contains(&self, date: NaiveDate) -> bool {
        date.year() == self.year() && date.month() == self.month()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl TryFrom<String> for YearMonth {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        YearMonth::parse(&value)
    }
}

impl From<YearMonth> for String {
    fn from(value: YearMonth) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_written_year_dash_month() {
        let september = YearMonth::parse("2025-09").expect("valid");
        assert_eq!(september.to_string(), "2025-09");
        assert_eq!((september.year(), september.month()), (2025, 9));
        assert_eq!(
            september.first_day(),
            NaiveDate::from_ymd_opt(2025, 9, 1).expect("a date")
        );
        assert_eq!(YearMonth::new(2025, 9), Ok(september));
        assert!(YearMonth::parse("1900-01").is_ok());
        assert!(YearMonth::parse("9999-12").is_ok());
        for bad in [
            "",
            "2025-9",
            "2025-13",
            "2025-00",
            "1899-12",
            "25-09",
            "2025/09",
            "2025-09-01",
            " 2025-09",
            "+025-09",
            "2025--9",
            "２０２５-09",
        ] {
            assert!(YearMonth::parse(bad).is_err(), "{bad}");
        }
        assert!(YearMonth::new(2025, 0).is_err());
        assert!(YearMonth::new(10_000, 1).is_err());
    }

    #[test]
    fn months_are_ordered_in_time_and_contain_their_days() {
        let month = |text| YearMonth::parse(text).expect("valid");
        assert!(month("2024-12") < month("2025-01"));
        assert!(month("2025-01") < month("2025-10"));
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).expect("a date");
        assert!(month("2025-02").contains(day(2, 28)));
        assert!(!month("2025-02").contains(day(3, 1)));
    }

    #[test]
    fn json_is_the_written_form_and_revalidates() {
        let month = YearMonth::parse("2026-01").expect("valid");
        assert_eq!(
            serde_json::to_value(month).ok(),
            Some(serde_json::json!("2026-01"))
        );
        assert_eq!(
            serde_json::from_value::<YearMonth>(serde_json::json!("2026-01")).ok(),
            Some(month)
        );
        assert!(serde_json::from_value::<YearMonth>(serde_json::json!("2026-13")).is_err());
        // As a map key, as a match's state keeps the minutes per month.
        let map = std::collections::BTreeMap::from([(month, 90u32)]);
        let json = serde_json::to_string(&map).expect("serialise");
        assert_eq!(json, r#"{"2026-01":90}"#);
        assert_eq!(
            serde_json::from_str::<std::collections::BTreeMap<YearMonth, u32>>(&json).ok(),
            Some(map)
        );
    }
}
