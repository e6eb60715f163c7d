//! A notification: a message the notifications worker made from an event, for one recipient
//! (`samskab-notify-worker`). The message itself is the read model's (derived from the log, so a
//! rebuild makes it again, with the same id); what the recipient did with it is theirs, and is
//! an event of its own here, so that a rebuild keeps it too: read.
//!
//! The id is the message's own, derived from where its event is in the log
//! ([`NotificationId::of`]), so the same event always makes the same message and marking it
//! read addresses the same subject however often the read model is rebuilt.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Decider, DomainError, EntityKind};

/// Identifies a notification: its event's log position and index in its message, and which of
/// that event's recipients (`n`) it is for, in a UUID (version 8, the layout of our own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotificationId(Uuid);

impl NotificationId {
    /// The notification for recipient `n` of the event at `position`, `index`.
    pub fn of(position: u64, index: u32, n: u16) -> Self {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&position.to_be_bytes());
        bytes[8..12].copy_from_slice(&index.to_be_bytes());
        bytes[12..14].copy_from_slice(&n.to_be_bytes());
        Self(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for NotificationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl From<Uuid> for NotificationId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

/// The notification decider.
pub struct Notification;

/// Payload of `read`: the recipient has read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRead {
    pub id: NotificationId,
    pub at: DateTime<Utc>,
}

domain_events! {
    /// What a recipient does with a notification.
    pub enum NotificationEvent for EntityKind::Notification {
        Read(NotificationRead) = READ_V1 => "dk.samskab.notification.read.v1",
    }
}

impl NotificationEvent {
    pub fn id(&self) -> NotificationId {
        match self {
            NotificationEvent::Read(e) => e.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NotificationState {
    #[default]
    Unread,
    Read {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationCommand {
    /// Mark it read. Again, once read: nothing changes (the first time stays).
    Read {
        id: NotificationId,
        at: DateTime<Utc>,
    },
}

impl Decider for Notification {
    const KIND: EntityKind = EntityKind::Notification;
    type State = NotificationState;
    const STATE_VERSION: u32 = 1;
    type Command = NotificationCommand;
    type Event = NotificationEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        match (state, command) {
            (NotificationState::Unread, NotificationCommand::Read { id, at }) => {
                Ok(vec![NotificationEvent::Read(NotificationRead {
                    id: *id,
                    at: *at,
                })])
            }
            (NotificationState::Read { .. }, NotificationCommand::Read { .. }) => Ok(vec![]),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (NotificationState::Unread, NotificationEvent::Read(e)) => {
                NotificationState::Read { at: e.at }
            }
            (read @ NotificationState::Read { .. }, _) => read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + secs, 0).expect("time")
    }

    #[test]
    fn reading_it_twice_keeps_the_first_time() {
        let id = NotificationId::of(7, 0, 0);
        let read = |secs| NotificationCommand::Read { id, at: at(secs) };
        let first = Notification::decide(&NotificationState::Unread, &read(1)).expect("decided");
        assert_eq!(first.len(), 1);
        let state = Notification::replay(&first);
        assert_eq!(state, NotificationState::Read { at: at(1) });
        assert_eq!(Notification::decide(&state, &read(2)), Ok(vec![]));
    }

    #[test]
    fn an_id_is_its_events_place_and_recipient_and_nothing_else() {
        assert_eq!(NotificationId::of(7, 1, 2), NotificationId::of(7, 1, 2));
        let others = [
            NotificationId::of(8, 1, 2),
            NotificationId::of(7, 2, 2),
            NotificationId::of(7, 1, 3),
        ];
        assert!(others.iter().all(|o| *o != NotificationId::of(7, 1, 2)));
        assert_eq!(NotificationId::of(7, 1, 2).as_uuid().get_version_num(), 8);
    }
}
