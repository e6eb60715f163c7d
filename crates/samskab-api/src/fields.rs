//! Turning a request's raw values into domain values while collecting every field's reason,
//! so one 422 answer lists everything wrong with a form, not just the first thing.

use samskab_domain::InvalidValue;

use crate::problem::{ApiError, FieldError};

#[derive(Default)]
pub struct FieldCheck {
    errors: Vec<FieldError>,
}

impl FieldCheck {
    /// Keeps the value, or records the field's reason and returns `None`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, InvalidValue>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(FieldError::new(field, e.0));
                None
            }
        }
    }

    /// An optional raw value: absent stays `None`, present is parsed.
    pub fn optional<R, T>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, InvalidValue>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    /// Every item of a list, each with its own index in the field path.
    pub fn list<R, T>(
        &mut self,
        field: &str,
        raw: &[R],
        parse: impl Fn(&R) -> Result<T, InvalidValue>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::with_capacity(raw.len());
        let mut ok = true;
        for (i, item) in raw.iter().enumerate() {
            match self.check(&format!("{field}[{i}]"), parse(item)) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(FieldError::new(field, reason));
    }

    /// Ends the check: `Err(422)` with all reasons if any field failed.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }
}
