//! Age bands: what matching and statistics need to know about age, without a birth date.

use crate::InvalidValue;

string_enum! {
    /// A coarse age band. Statistics and matching use the band; the birth year, when given, is
    /// personal data and is kept with the rest of it.
    pub enum AgeBand {
        Under18 => "under_18",
        From18To29 => "18_29",
        From30To49 => "30_49",
        From50To66 => "50_66",
        From67 => "67_plus",
    }
}

impl AgeBand {
    pub fn from_age(age: u32) -> AgeBand {
        match age {
            0..=17 => AgeBand::Under18,
            18..=29 => AgeBand::From18To29,
            30..=49 => AgeBand::From30To49,
            50..=66 => AgeBand::From50To66,
            _ => AgeBand::From67,
        }
    }

    /// The band of the age a person born in `birth_year` reaches during `current_year`.
    /// `Err` if the birth year is after the current year.
    pub fn from_birth_year(birth_year: u16, current_year: i32) -> Result<AgeBand, InvalidValue> {
        let age = current_year - i32::from(birth_year);
        u32::try_from(age)
            .map(AgeBand::from_age)
            .map_err(|_| InvalidValue::new("birth year must not be in the future"))
    }

    /// Whether this band fits a person born in `birth_year`. Without the birth date the age is
    /// one of two values (birthday passed this year or not); either one agrees.
    pub fn agrees_with_birth_year(&self, birth_year: u16, current_year: i32) -> bool {
        let reached = current_year - i32::from(birth_year);
        [reached, reached - 1]
            .into_iter()
            .filter_map(|age| u32::try_from(age).ok())
            .any(|age| AgeBand::from_age(age) == *self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        let names: Vec<_> = AgeBand::ALL.iter().map(AgeBand::as_str).collect();
        assert_eq!(names, ["under_18", "18_29", "30_49", "50_66", "67_plus"]);
        assert_eq!(
            serde_json::from_value::<AgeBand>(serde_json::json!("67_plus")).ok(),
            Some(AgeBand::From67)
        );
    }

    #[test]
    fn bands_from_birth_year() {
        assert_eq!(AgeBand::from_birth_year(2008, 2025), Ok(AgeBand::Under18));
        assert_eq!(
            AgeBand::from_birth_year(2007, 2025),
            Ok(AgeBand::From18To29)
        );
        assert_eq!(AgeBand::from_birth_year(1958, 2025), Ok(AgeBand::From67));
        assert_eq!(
            AgeBand::from_birth_year(1959, 2025),
            Ok(AgeBand::From50To66)
        );
        assert!(AgeBand::from_birth_year(2026, 2025).is_err());
    }

    #[test]
    fn agreement_allows_for_the_unknown_birthday() {
        // Born 2007: 17 or 18 during 2025.
        assert!(AgeBand::Under18.agrees_with_birth_year(2007, 2025));
        assert!(AgeBand::From18To29.agrees_with_birth_year(2007, 2025));
        assert!(!AgeBand::From30To49.agrees_with_birth_year(2007, 2025));
    }
}
