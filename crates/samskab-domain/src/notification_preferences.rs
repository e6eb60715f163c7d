//! A recipient's notification preferences: whether messages are mailed as well as put in the
//! in-app inbox (an organisation with a webhook endpoint may want them posted only; anyone may
//! want the inbox only), in which language they are written, and whether mail goes at once or
//! as one digest a day. One entity per inbox, its id derived from the inbox's name
//! ([`NotificationPreferencesId::of_recipient`]); without any event, the defaults hold: mailed,
//! in Danish, at once.
//!
//! The preferences are the recipient's settings, as consent is: they say how to reach an
//! inbox, nothing about the person (no address: that is the directory's, sealed). A
//! volunteer's are dropped from the read model when the volunteer is forgotten.

use serde::{Deserialize, Serialize};

use crate::{
    Decider, DomainError, EntityKind, MailCadence, MessageLanguage, NotificationPreferencesId,
};

/// The notification preferences decider.
pub struct NotificationPreferences;

/// How one inbox wants to be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Mailed as well as in the inbox (to the directory's address of the recipient).
    pub email: bool,
    pub language: MessageLanguage,
    pub cadence: MailCadence,
}

impl Default for Preferences {
    /// What holds until a recipient chooses: mailed, in Danish, at once.
    fn default() -> Self {
        Self {
            email: true,
            language: MessageLanguage::Danish,
            cadence: MailCadence::Immediate,
        }
    }
}

/// Payload of `set`: the inbox's preferences from now on, all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferencesSet {
    pub id: NotificationPreferencesId,
    /// The inbox's name, as `notify.message.recipient` spells it.
    pub recipient: String,
    pub preferences: Preferences,
}

domain_events! {
    /// What a recipient does with their preferences.
    pub enum NotificationPreferencesEvent for EntityKind::NotificationPreferences {
        Set(PreferencesSet) = SET_V1 => "dk.samskab.notification_preferences.set.v1",
    }
}

impl NotificationPreferencesEvent {
    pub fn id(&self) -> NotificationPreferencesId {
        match self {
            NotificationPreferencesEvent::Set(e) => e.id,
        }
    }
}

/// The preferences in force: the last set, or none yet (the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NotificationPreferencesState {
    pub set: Option<Preferences>,
}

impl NotificationPreferencesState {
    /// What holds now.
    pub fn in_force(&self) -> Preferences {
        self.set.unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationPreferencesCommand {
    /// Set them all. The same as in force (the defaults included) changes nothing.
    Set {
        id: NotificationPreferencesId,
        recipient: String,
        preferences: Preferences,
    },
}

impl Decider for NotificationPreferences {
    const KIND: EntityKind = EntityKind::NotificationPreferences;
    type State = NotificationPreferencesState;
    const STATE_VERSION: u32 = 1;
    type Command = NotificationPreferencesCommand;
    type Event = NotificationPreferencesEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let NotificationPreferencesCommand::Set {
            id,
            recipient,
            preferences,
        } = command;
        if *id != NotificationPreferencesId::of_recipient(recipient) {
            return Err(DomainError::rule(
                "recipient",
                "the preferences' id is not the one of their recipient",
            ));
        }
        if state.in_force() == *preferences {
            return Ok(vec![]);
        }
        Ok(vec![NotificationPreferencesEvent::Set(PreferencesSet {
            id: *id,
            recipient: recipient.clone(),
            preferences: *preferences,
        })])
    }

    fn evolve(_state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            NotificationPreferencesEvent::Set(e) => NotificationPreferencesState {
                set: Some(e.preferences),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPIENT: &str = "volunteer:01950000-0000-7000-8000-000000000003";

    fn set(preferences: Preferences) -> NotificationPreferencesCommand {
        NotificationPreferencesCommand::Set {
            id: NotificationPreferencesId::of_recipient(RECIPIENT),
            recipient: RECIPIENT.into(),
            preferences,
        }
    }

    fn english_digest() -> Preferences {
        Preferences {
            email: true,
            language: MessageLanguage::English,
            cadence: MailCadence::DailyDigest,
        }
    }

    #[test]
    fn the_defaults_hold_until_a_recipient_chooses_and_choosing_them_changes_nothing() {
        let state = NotificationPreferencesState::default();
        assert_eq!(state.in_force(), Preferences::default());
        assert_eq!(
            NotificationPreferences::decide(&state, &set(Preferences::default())),
            Ok(vec![])
        );
    }

    #[test]
    fn a_choice_is_in_force_until_the_next_and_repeating_it_changes_nothing() {
        let events = NotificationPreferences::decide(
            &NotificationPreferencesState::default(),
            &set(english_digest()),
        )
        .expect("set");
        assert_eq!(events.len(), 1);
        let state = NotificationPreferences::replay(&events);
        assert_eq!(state.in_force(), english_digest());
        assert_eq!(
            NotificationPreferences::decide(&state, &set(english_digest())),
            Ok(vec![])
        );
        let back = NotificationPreferences::decide(&state, &set(Preferences::default()))
            .expect("back to the defaults");
        let state = back.iter().fold(state, NotificationPreferences::evolve);
        assert_eq!(state.in_force(), Preferences::default());
    }

    #[test]
    fn another_recipients_id_is_refused() {
        let command = NotificationPreferencesCommand::Set {
            id: NotificationPreferencesId::of_recipient("organisation:x"),
            recipient: RECIPIENT.into(),
            preferences: english_digest(),
        };
        assert!(matches!(
            NotificationPreferences::decide(&NotificationPreferencesState::default(), &command),
            Err(DomainError::Rule { .. })
        ));
    }

    #[test]
    fn an_inbox_has_one_id_and_others_have_others() {
        assert_eq!(
            NotificationPreferencesId::of_recipient(RECIPIENT),
            NotificationPreferencesId::of_recipient(RECIPIENT)
        );
        assert_ne!(
            NotificationPreferencesId::of_recipient(RECIPIENT),
            NotificationPreferencesId::of_recipient("user:sagsbehandler-1")
        );
    }
}
