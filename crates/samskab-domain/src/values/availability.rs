//! When a volunteer can help.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};

string_enum! {
    pub enum Weekday {
        Mon => "mon",
        Tue => "tue",
        Wed => "wed",
        Thu => "thu",
        Fri => "fri",
        Sat => "sat",
        Sun => "sun",
    }
}

string_enum! {
    pub enum DayPart {
        Morning => "morning",
        Afternoon => "afternoon",
        Evening => "evening",
    }
}

impl Weekday {
    /// The calendar's weekday (of a one-off need's date).
    pub fn from_chrono(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Weekday::Mon,
            chrono::Weekday::Tue => Weekday::Tue,
            chrono::Weekday::Wed => Weekday::Wed,
            chrono::Weekday::Thu => Weekday::Thu,
            chrono::Weekday::Fri => Weekday::Fri,
            chrono::Weekday::Sat => Weekday::Sat,
            chrono::Weekday::Sun => Weekday::Sun,
        }
    }
}

/// One part of one weekday, e.g. Tuesday evening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AvailabilitySlot {
    pub weekday: Weekday,
    pub part: DayPart,
}

/// Weekly availability: at least one slot, and 1..=60 hours a week. Slots are stored sorted
/// (Monday morning first) and without duplicates, so the same availability always compares
/// equal and an update that only reorders slots changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "AvailabilityFields", into = "AvailabilityFields")]
pub struct Availability {
    slots: Vec<AvailabilitySlot>,
    hours_per_week: u8,
}

impl Availability {
    pub const MAX_HOURS_PER_WEEK: u8 = 60;

    pub fn parse(
        slots: impl IntoIterator<Item = AvailabilitySlot>,
        hours_per_week: u8,
    ) -> Result<Self, InvalidValue> {
        let mut slots: Vec<AvailabilitySlot> = slots.into_iter().collect();
        slots.sort();
        slots.dedup();
        if slots.is_empty() {
            return Err(InvalidValue::new("must have at least one time slot"));
        }
        if !(1..=Self::MAX_HOURS_PER_WEEK).contains(&hours_per_week) {
            return Err(InvalidValue::new(format!(
                "hours per week must be between 1 and {}",
                Self::MAX_HOURS_PER_WEEK
            )));
        }
        Ok(Self {
            slots,
            hours_per_week,
        })
    }

    pub fn slots(&self) -> &[AvailabilitySlot] {
        &self.slots
    }

    pub fn hours_per_week(&self) -> u8 {
        self.hours_per_week
    }
}

/// The wire shape of [`Availability`]; deserialising goes through [`Availability::parse`].
#[derive(Serialize, Deserialize)]
struct AvailabilityFields {
    slots: Vec<AvailabilitySlot>,
    hours_per_week: u8,
}

impl TryFrom<AvailabilityFields> for Availability {
    type Error = InvalidValue;
    fn try_from(fields: AvailabilityFields) -> Result<Self, Self::Error> {
        Availability::parse(fields.slots, fields.hours_per_week)
    }
}

impl From<Availability> for AvailabilityFields {
    fn from(availability: Availability) -> Self {
        AvailabilityFields {
            slots: availability.slots,
            hours_per_week: availability.hours_per_week,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(weekday: Weekday, part: DayPart) -> AvailabilitySlot {
        AvailabilitySlot { weekday, part }
    }

    #[test]
    fn slots_are_sorted_and_deduplicated() {
        let a = Availability::parse(
            [
                slot(Weekday::Thu, DayPart::Evening),
                slot(Weekday::Mon, DayPart::Morning),
                slot(Weekday::Thu, DayPart::Evening),
            ],
            4,
        )
        .expect("valid");
        assert_eq!(
            a.slots(),
            [
                slot(Weekday::Mon, DayPart::Morning),
                slot(Weekday::Thu, DayPart::Evening)
            ]
        );
        assert_eq!(
            serde_json::to_value(&a).expect("serialise"),
            serde_json::json!({
                "slots": [{"weekday": "mon", "part": "morning"}, {"weekday": "thu", "part": "evening"}],
                "hours_per_week": 4
            })
        );
    }

    #[test]
    fn empty_slots_and_hours_out_of_range_are_refused() {
        assert!(Availability::parse([], 4).is_err());
        let one = [slot(Weekday::Sat, DayPart::Afternoon)];
        assert!(Availability::parse(one, 0).is_err());
        assert!(Availability::parse(one, 61).is_err());
        assert!(Availability::parse(one, 60).is_ok());
        let json = serde_json::json!({"slots": [], "hours_per_week": 3});
        assert!(serde_json::from_value::<Availability>(json).is_err());
    }
}
