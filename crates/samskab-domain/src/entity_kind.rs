//! The kinds of entity that have their own stream of events.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which entity an event or an error is about. `as_str()` is used as a subject token
/// (`samskab.ev.<tenant>.<kind>.<id>`), so it must stay lowercase ASCII without dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Municipality,
    Organisation,
    Volunteer,
}

impl EntityKind {
    pub const ALL: [EntityKind; 3] = [
        EntityKind::Municipality,
        EntityKind::Organisation,
        EntityKind::Volunteer,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EntityKind::Municipality => "municipality",
            EntityKind::Organisation => "organisation",
            EntityKind::Volunteer => "volunteer",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_is_the_same_as_as_str() {
        for kind in EntityKind::ALL {
            let json = serde_json::to_value(kind).expect("serialise");
            assert_eq!(json, serde_json::Value::String(kind.as_str().to_owned()));
        }
    }
}
