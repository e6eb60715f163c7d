//! The børneattest (child-protection certificate) as far as the system may know it.

use crate::InvalidValue;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

string_enum! {
    /// Where a volunteer stands with their børneattest.
    pub enum ChildCertificateStatus {
        NotRequired => "not_required",
        Requested => "requested",
        Approved => "approved",
        NotApproved => "not_approved",
    }
}

/// The assessment of a volunteer's børneattest. The certificate itself is criminal-offence data
/// and is never stored: only whether it was requested, the outcome of the assessment, when it
/// was assessed and until when the assessment holds.
///
/// Rules, enforced by [`ChildCertificate::parse`]: `approved` and `not_approved` need
/// `assessed_on`; `not_required` and `requested` have no assessment date; `valid_until` only
/// with `approved`, and after `assessed_on`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ChildCertificateFields", into = "ChildCertificateFields")]
pub struct ChildCertificate {
    status: ChildCertificateStatus,
    assessed_on: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

impl ChildCertificate {
    pub fn parse(
        status: ChildCertificateStatus,
        assessed_on: Option<NaiveDate>,
        valid_until: Option<NaiveDate>,
    ) -> Result<Self, InvalidValue> {
        use ChildCertificateStatus::*;
        match (status, assessed_on) {
            (Approved | NotApproved, None) => {
                return Err(InvalidValue::new(
                    "an approved or not approved børneattest needs the date it was assessed",
                ));
            }
            (NotRequired | Requested, Some(_)) => {
                return Err(InvalidValue::new(
                    "only an approved or not approved børneattest has an assessment date",
                ));
            }
            _ => {}
        }
        if let Some(until) = valid_until {
            if status != Approved {
                return Err(InvalidValue::new(
                    "only an approved børneattest has a valid-until date",
                ));
            }
            if assessed_on.is_some_and(|assessed| until <= assessed) {
                return Err(InvalidValue::new(
                    "valid-until must be after the assessment date",
                ));
            }
        }
        Ok(Self {
            status,
            assessed_on,
            valid_until,
        })
    }

    pub fn not_required() -> Self {
        Self {
            status: ChildCertificateStatus::NotRequired,
            assessed_on: None,
            valid_until: None,
        }
    }

    pub fn requested() -> Self {
        Self {
            status: ChildCertificateStatus::Requested,
            assessed_on: None,
            valid_until: None,
        }
    }

    pub fn status(&self) -> ChildCertificateStatus {
        self.status
    }

    pub fn assessed_on(&self) -> Option<NaiveDate> {
        self.assessed_on
    }

    /// The last day the assessment holds, if it expires.
    pub fn valid_until(&self) -> Option<NaiveDate> {
        self.valid_until
    }

    /// Whether a volunteer may be matched with a task involving children on `date`: approved,
    /// and not expired (`valid_until` absent, or on or after `date`).
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.status == ChildCertificateStatus::Approved
            && self.valid_until.is_none_or(|until| date <= until)
    }
}

/// The wire shape of [`ChildCertificate`]; deserialising goes through [`ChildCertificate::parse`].
#[derive(Serialize, Deserialize)]
struct ChildCertificateFields {
    status: ChildCertificateStatus,
    assessed_on: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

impl TryFrom<ChildCertificateFields> for ChildCertificate {
    type Error = InvalidValue;
    fn try_from(fields: ChildCertificateFields) -> Result<Self, Self::Error> {
        ChildCertificate::parse(fields.status, fields.assessed_on, fields.valid_until)
    }
}

impl From<ChildCertificate> for ChildCertificateFields {
    fn from(certificate: ChildCertificate) -> Self {
        ChildCertificateFields {
            status: certificate.status,
            assessed_on: certificate.assessed_on,
            valid_until: certificate.valid_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChildCertificateStatus::*;
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn assessment_needs_a_date_and_validity_needs_approval() {
        assert!(ChildCertificate::parse(Approved, None, None).is_err());
        assert!(ChildCertificate::parse(NotApproved, None, None).is_err());
        assert!(ChildCertificate::parse(Requested, Some(day(2025, 1, 1)), None).is_err());
        assert!(
            ChildCertificate::parse(NotApproved, Some(day(2025, 1, 1)), Some(day(2026, 1, 1)))
                .is_err()
        );
        assert!(
            ChildCertificate::parse(Approved, Some(day(2025, 1, 1)), Some(day(2025, 1, 1)))
                .is_err()
        );
        assert!(
            ChildCertificate::parse(Approved, Some(day(2025, 1, 1)), Some(day(2027, 1, 1))).is_ok()
        );
        assert!(ChildCertificate::parse(NotApproved, Some(day(2025, 1, 1)), None).is_ok());
        assert!(ChildCertificate::parse(Requested, None, None).is_ok());
    }

    #[test]
    fn validity_on_a_date() {
        let approved =
            ChildCertificate::parse(Approved, Some(day(2025, 1, 1)), Some(day(2027, 1, 1)))
                .expect("valid");
        assert!(approved.is_valid_on(day(2026, 6, 1)));
        assert!(approved.is_valid_on(day(2027, 1, 1)));
        assert!(!approved.is_valid_on(day(2027, 1, 2)));
        let open_ended =
            ChildCertificate::parse(Approved, Some(day(2025, 1, 1)), None).expect("valid");
        assert!(open_ended.is_valid_on(day(2040, 1, 1)));
        assert!(!ChildCertificate::requested().is_valid_on(day(2025, 1, 1)));
        let refused =
            ChildCertificate::parse(NotApproved, Some(day(2025, 1, 1)), None).expect("valid");
        assert!(!refused.is_valid_on(day(2025, 1, 2)));
    }

    #[test]
    fn deserialisation_revalidates() {
        let json =
            serde_json::json!({"status": "approved", "assessed_on": null, "valid_until": null});
        assert!(serde_json::from_value::<ChildCertificate>(json).is_err());
        let json = serde_json::json!({"status": "approved", "assessed_on": "2025-03-01", "valid_until": "2028-03-01"});
        assert!(serde_json::from_value::<ChildCertificate>(json).is_ok());
    }
}
