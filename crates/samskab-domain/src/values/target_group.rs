//! Who the volunteer work is for.

string_enum! {
    /// A target group of volunteer social work. `Children` triggers the børneattest rule.
    pub enum TargetGroup {
        Children => "children",
        YoungPeople => "young_people",
        Families => "families",
        Elderly => "elderly",
        Refugees => "refugees",
        PeopleWithDisabilities => "people_with_disabilities",
        MentalHealth => "mental_health",
        Homeless => "homeless",
        Lonely => "lonely",
        Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for group in TargetGroup::ALL {
            let json = serde_json::to_value(group).expect("serialise");
            assert_eq!(json, serde_json::json!(group.as_str()));
            assert_eq!(
                serde_json::from_value::<TargetGroup>(json).ok(),
                Some(*group)
            );
        }
        assert!(TargetGroup::parse("Children").is_err());
    }
}
