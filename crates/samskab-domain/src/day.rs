//! A municipality's day: the log's clock. The scheduler (`samskab_notify_worker::Clock`)
//! begins each day once, early in the morning in Copenhagen, for each municipality, and the
//! time-based rules (a final report due in 14 days, or overdue) run when the notifications
//! projection meets the day's event. Because the day is an event, a rebuild meets the same
//! days at the same places in the log and makes the same reminders, once.
//!
//! One entity per municipality and date, its id derived from the date ([`DayId::of`]): a day
//! begins at most once, however many schedulers race to begin it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{DayId, Decider, DomainError, EntityKind};

/// The day decider.
pub struct Day;

/// Payload of `began`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBegan {
    pub id: DayId,
    /// The date in Copenhagen.
    pub date: NaiveDate,
    /// When the scheduler began it.
    pub at: DateTime<Utc>,
}

domain_events! {
    /// What happens to a day: it begins.
    pub enum DayEvent for EntityKind::Day {
        Began(DayBegan) = BEGAN_V1 => "dk.samskab.day.began.v1",
    }
}

impl DayEvent {
    pub fn id(&self) -> DayId {
        match self {
            DayEvent::Began(e) => e.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DayState {
    #[default]
    NotBegun,
    Begun {
        date: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayCommand {
    /// Begin day `date`; begun already: nothing changes.
    Begin { date: NaiveDate, at: DateTime<Utc> },
}

impl Decider for Day {
    const KIND: EntityKind = EntityKind::Day;
    type State = DayState;
    const STATE_VERSION: u32 = 1;
    type Command = DayCommand;
    type Event = DayEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let DayCommand::Begin { date, at } = command;
        match state {
            DayState::Begun { .. } => Ok(vec![]),
            DayState::NotBegun => Ok(vec![DayEvent::Began(DayBegan {
                id: DayId::of(*date),
                date: *date,
                at: *at,
            })]),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (DayState::NotBegun, DayEvent::Began(e)) => DayState::Begun { date: e.date },
            (begun, _) => begun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_day_begins_once() {
        let begin = DayCommand::Begin {
            date: date(2026, 12, 3),
            at: Utc::now(),
        };
        let began = Day::decide(&DayState::NotBegun, &begin).expect("began");
        assert_eq!(began.len(), 1);
        assert_eq!(began[0].id(), DayId::of(date(2026, 12, 3)));
        let state = Day::replay(&began);
        assert_eq!(Day::decide(&state, &begin), Ok(vec![]));
    }

    #[test]
    fn each_date_has_its_own_id_in_date_order() {
        let ids: Vec<DayId> = [date(1999, 12, 31), date(2026, 12, 3), date(2026, 12, 4)]
            .into_iter()
            .map(DayId::of)
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert_eq!(DayId::of(date(2026, 12, 3)), DayId::of(date(2026, 12, 3)));
    }
}
