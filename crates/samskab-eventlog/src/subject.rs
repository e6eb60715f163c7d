use std::fmt;

/// A NATS subject token must not carry `.`, `*`, `>` or whitespace, or a subject built from user
/// text could address other entities (or other tenants). Only `[a-z0-9-]` passes, which also
/// covers hyphenated UUIDs.
pub fn validate_token(token: &str) -> Result<(), InvalidToken> {
    let ok = !token.is_empty()
        && token.len() <= 64
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(InvalidToken(token.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid subject token ([a-z0-9-], 1 to 64 characters)")]
pub struct InvalidToken(pub String);

/// One entity in the log: tenant, kind and id. Its subject is
/// `<prefix>.<tenant>.<kind>.<id>`: tenant first, so that a tenant's events can be selected
/// (and one day placed or exported) with one wildcard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityRef {
    tenant: String,
    kind: String,
    id: String,
}

impl EntityRef {
    pub fn new(tenant: &str, kind: &str, id: &str) -> Result<Self, InvalidToken> {
        validate_token(tenant)?;
        validate_token(kind)?;
        validate_token(id)?;
        Ok(Self {
            tenant: tenant.into(),
            kind: kind.into(),
            id: id.into(),
        })
    }
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
    pub fn kind(&self) -> &str {
        &self.kind
    }
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn subject(&self, prefix: &str) -> String {
        format!("{prefix}.{}.{}.{}", self.tenant, self.kind, self.id)
    }
    /// Parses a stream subject back; `None` for subjects outside the scheme.
    pub fn from_subject(prefix: &str, subject: &str) -> Option<Self> {
        let rest = subject.strip_prefix(prefix)?.strip_prefix('.')?;
        let mut parts = rest.split('.');
        let (tenant, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Self::new(tenant, kind, id).ok()
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_that_would_break_a_subject_are_refused() {
        for bad in ["", "a.b", "a*", ">", "a b", "Rødovre", "ROSKILDE", "a\tb"] {
            assert!(validate_token(bad).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "rodovre",
            "lyngby-taarbaek",
            "0190b5a2-7c1d-7a52-9f00-1b2c3d4e5f60",
        ] {
            assert!(validate_token(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn subject_round_trips() {
        let e = EntityRef::new("rodovre", "volunteer", "abc-1").expect("valid");
        let s = e.subject("samskab.ev");
        assert_eq!(s, "samskab.ev.rodovre.volunteer.abc-1");
        assert_eq!(EntityRef::from_subject("samskab.ev", &s), Some(e));
        assert_eq!(
            EntityRef::from_subject("samskab.ev", "samskab.ev.a.b"),
            None
        );
    }
}
