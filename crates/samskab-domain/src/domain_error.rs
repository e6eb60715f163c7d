//! Why `decide` refused a command.

use crate::EntityKind;

/// Domain errors returned by `decide()`. The API maps them to HTTP: `NotFound` -> 404,
/// `AlreadyExists` -> 409, `Conflict` -> 409, `Rule` -> 422. The mapping lives in the API crate,
/// not here: the domain does not know it is spoken to over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{kind} not found")]
    NotFound { kind: EntityKind },
    #[error("{kind} already exists")]
    AlreadyExists { kind: EntityKind },
    /// The command contradicts the entity's current state (e.g. deactivate twice).
    #[error("{reason}")]
    Conflict { reason: String },
    /// A business rule refuses the command; `field` names the command field at fault, if any.
    #[error("{reason}")]
    Rule {
        field: Option<String>,
        reason: String,
    },
}

impl DomainError {
    pub(crate) fn conflict(reason: impl Into<String>) -> Self {
        DomainError::Conflict {
            reason: reason.into(),
        }
    }

    /// Whether this is a rule refusing `field` (for tests that name the field at fault).
    pub fn is_rule(&self, field: &str) -> bool {
        matches!(self, DomainError::Rule { field: Some(f), .. } if f == field)
    }

    pub(crate) fn rule(field: &str, reason: impl Into<String>) -> Self {
        DomainError::Rule {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }
}
