//! How well a volunteer fits a need: a score out of 100 and, for every criterion, its reason
//! (matched or not, and its share of the score), in Danish and English.
//!
//! Only the ranking is here. The hard rules no ranking may break (same municipality, consent to
//! matching, a valid børneattest where the need involves children under 15, available at the
//! need's times, need open) decide who is a candidate at all; they are applied where the
//! candidates are read (the API's candidate query), so a volunteer who breaks one is never
//! scored. Pure: the distance between postcodes is the caller's (`samskab-geo`), so this crate
//! stays without data or I/O.

use serde::{Deserialize, Serialize};

use crate::{AvailabilitySlot, InvalidValue, NeedDetails, NeedSchedule};

/// Points per criterion; a candidate's score is the sum of the shares earned, out of their
/// total (so a score is always out of 100, whatever the total). Each municipality may set its
/// own (`MunicipalityCommand::SetMatchingWeights`); [`Weights::default`] otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    pub skills_required: u32,
    pub skills_nice_to_have: u32,
    pub languages: u32,
    pub distance: u32,
    pub availability: u32,
    pub interests: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            skills_required: 35,
            skills_nice_to_have: 15,
            languages: 10,
            distance: 20,
            availability: 10,
            interests: 10,
        }
    }
}

impl Weights {
    /// The most points one criterion may have.
    pub const MAX_POINTS: u32 = 100;

    /// Weights a municipality may set: each criterion 0 to [`Self::MAX_POINTS`] points, and at
    /// least one that counts (else no candidate could score). The field named in an error is
    /// the criterion's.
    pub fn check(self) -> Result<Self, (&'static str, InvalidValue)> {
        for (criterion, points) in self.by_criterion() {
            if points > Self::MAX_POINTS {
                return Err((
                    criterion,
                    InvalidValue::new(format!("must be between 0 and {} points", Self::MAX_POINTS)),
                ));
            }
        }
        if self.total() == 0 {
            return Err((
                "skills_required",
                InvalidValue::new("at least one criterion must count"),
            ));
        }
        Ok(self)
    }

    /// Each criterion's name (as the API and the reasons say it) and points.
    pub fn by_criterion(&self) -> [(&'static str, u32); 6] {
        [
            ("skills_required", self.skills_required),
            ("skills_nice_to_have", self.skills_nice_to_have),
            ("languages", self.languages),
            ("distance", self.distance),
            ("availability", self.availability),
            ("interests", self.interests),
        ]
    }

    pub fn total(&self) -> u32 {
        self.skills_required
            + self.skills_nice_to_have
            + self.languages
            + self.distance
            + self.availability
            + self.interests
    }
}

/// How far a volunteer is taken to travel when their profile does not say: beyond it the
/// distance earns nothing (and is reported as not matched).
pub const DEFAULT_TRAVEL_KM: f64 = 15.0;

/// What the ranking reads of a need, as text tags (from [`NeedDetails`], or from the matching
/// read model's row, which holds the same).
#[derive(Debug, Clone, PartialEq)]
pub struct NeedProfile {
    pub skills_required: Vec<String>,
    pub skills_nice_to_have: Vec<String>,
    pub languages: Vec<String>,
    pub target_groups: Vec<String>,
    /// What a volunteer must offer one of ([`need_slots`]).
    pub slots: Vec<String>,
    /// Where the work is; `None`: remote.
    pub postcode: Option<String>,
}

impl NeedProfile {
    pub fn of(need: &NeedDetails) -> Self {
        let tags = |list: &[crate::Tag]| list.iter().map(|t| t.as_str().to_string()).collect();
        NeedProfile {
            skills_required: tags(&need.skills_required),
            skills_nice_to_have: tags(&need.skills_nice_to_have),
            languages: need
                .languages
                .iter()
                .map(|l| l.as_str().to_string())
                .collect(),
            target_groups: need
                .target_groups
                .iter()
                .map(|g| g.as_str().to_string())
                .collect(),
            slots: need_slots(need),
            postcode: match &need.place {
                crate::NeedPlace::AtPostcode(p) => Some(p.as_str().to_string()),
                crate::NeedPlace::Remote => None,
            },
        }
    }
}

/// What the ranking reads of a volunteer (the matching read model's row), as text tags.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateProfile {
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub target_groups: Vec<String>,
    /// `<weekday>-<part>`, as [`slot_key`] writes them.
    pub slots: Vec<String>,
    /// From the volunteer's postcode to the need's; `None` when the need is remote or a
    /// postcode is not in the table.
    pub distance_km: Option<f64>,
}

/// One criterion's reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `skills_required`, `skills_nice_to_have`, `languages`, `distance`, `availability`,
    /// `interests`.
    pub criterion: &'static str,
    pub label_da: &'static str,
    pub label_en: &'static str,
    /// The criterion is fully met.
    pub matched: bool,
    /// The points earned, out of `max_points`, rounded to tenths.
    pub points: f64,
    pub max_points: u32,
    /// What was compared, in plain words (English; the values are the data's own).
    pub detail: String,
}

/// A scored candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// Out of 100, rounded to tenths.
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// `tue-evening`: how slots are compared as text.
pub fn slot_key(slot: &AvailabilitySlot) -> String {
    format!("{}-{}", slot.weekday.as_str(), slot.part.as_str())
}

/// The slots a volunteer must have one of to be available for the need: a weekly need's own
/// slots; for a one-off need, every part of its date's weekday.
pub fn need_slots(need: &NeedDetails) -> Vec<String> {
    match &need.schedule {
        NeedSchedule::Weekly(availability) => availability.slots().iter().map(slot_key).collect(),
        NeedSchedule::OnDate { date } => slots_on(*date),
    }
}

/// Every part of `date`'s weekday: what a one-off need on `date` wants one of.
pub fn slots_on(date: chrono::NaiveDate) -> Vec<String> {
    let weekday = crate::Weekday::from_chrono(chrono::Datelike::weekday(&date));
    crate::DayPart::ALL
        .iter()
        .map(|part| {
            slot_key(&AvailabilitySlot {
                weekday,
                part: *part,
            })
        })
        .collect()
}

fn tenths(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The share of `wanted` that `has` holds (none wanted: all of it), without listing them.
fn share_of(wanted: &[String], has: &[String]) -> f64 {
    if wanted.is_empty() {
        return 1.0;
    }
    let found = wanted.iter().filter(|w| has.contains(w)).count();
    found as f64 / wanted.len() as f64
}

/// The share of `wanted` that `has` holds, and the matched ones (none wanted: all of it).
fn share(wanted: &[String], has: &[String]) -> (f64, Vec<String>) {
    if wanted.is_empty() {
        return (1.0, Vec::new());
    }
    let found: Vec<String> = wanted.iter().filter(|w| has.contains(w)).cloned().collect();
    (found.len() as f64 / wanted.len() as f64, found)
}

fn listed(wanted: &[String], found: &[String], none: &str) -> String {
    if wanted.is_empty() {
        none.to_string()
    } else if found.is_empty() {
        format!("0 of {}: none of {}", wanted.len(), wanted.join(", "))
    } else {
        format!("{} of {}: {}", found.len(), wanted.len(), found.join(", "))
    }
}

fn reason(
    criterion: &'static str,
    label_da: &'static str,
    label_en: &'static str,
    fraction: f64,
    max_points: u32,
    detail: String,
) -> Reason {
    Reason {
        criterion,
        label_da,
        label_en,
        matched: fraction >= 1.0,
        points: tenths(fraction * f64::from(max_points)),
        max_points,
        detail,
    }
}

/// How much of each criterion the candidate meets, from 0 to 1: what the score is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shares {
    skills_required: f64,
    skills_nice_to_have: f64,
    languages: f64,
    distance: f64,
    availability: f64,
    interests: f64,
}

impl Shares {
    fn of(need: &NeedProfile, candidate: &CandidateProfile, travel_km: f64) -> Self {
        let groups = &need.target_groups;
        Shares {
            skills_required: share_of(&need.skills_required, &candidate.skills),
            skills_nice_to_have: share_of(&need.skills_nice_to_have, &candidate.skills),
            languages: share_of(&need.languages, &candidate.languages),
            distance: match (&need.postcode, candidate.distance_km) {
                (None, _) => 1.0,
                (Some(_), Some(km)) => (1.0 - km / travel_km).clamp(0.0, 1.0),
                (Some(_), None) => 0.0,
            },
            availability: share_of(&need.slots, &candidate.slots),
            interests: if groups.is_empty()
                || groups.iter().any(|g| candidate.target_groups.contains(g))
            {
                1.0
            } else {
                0.0
            },
        }
    }

    /// Out of 100, rounded to tenths: the weighted shares over the weights' total.
    fn score(&self, weights: &Weights) -> f64 {
        let earned: f64 = [
            (self.skills_required, weights.skills_required),
            (self.skills_nice_to_have, weights.skills_nice_to_have),
            (self.languages, weights.languages),
            (self.distance, weights.distance),
            (self.availability, weights.availability),
            (self.interests, weights.interests),
        ]
        .iter()
        .map(|(s, w)| s * f64::from(*w))
        .sum();
        let total = f64::from(weights.total().max(1));
        tenths(earned * 100.0 / total)
    }
}

/// The candidate's score under `weights`, exactly `fit(..).score`, without the reasons: what
/// ranks thousands of candidates, of whom only the best are explained ([`fit`]).
pub fn score(
    need: &NeedProfile,
    candidate: &CandidateProfile,
    weights: &Weights,
    travel_km: f64,
) -> f64 {
    Shares::of(need, candidate, travel_km).score(weights)
}

/// The candidate's fit to the need under `weights`.
pub fn fit(
    need: &NeedProfile,
    candidate: &CandidateProfile,
    weights: &Weights,
    travel_km: f64,
) -> Fit {
    let required = &need.skills_required;
    let nice = &need.skills_nice_to_have;
    let languages = &need.languages;
    let groups = &need.target_groups;
    let slots = &need.slots;

    // The numbers are the score's own; what is listed here only explains them.
    let shares = Shares::of(need, candidate, travel_km);
    let (req_share, req_found) = (shares.skills_required, share(required, &candidate.skills).1);
    let (nice_share, nice_found) = (shares.skills_nice_to_have, share(nice, &candidate.skills).1);
    let (lang_share, lang_found) = (shares.languages, share(languages, &candidate.languages).1);
    let (slot_share, slot_found) = (shares.availability, share(slots, &candidate.slots).1);
    let interest_found: Vec<String> = groups
        .iter()
        .filter(|g| candidate.target_groups.contains(g))
        .cloned()
        .collect();
    let interest_share = shares.interests;
    let distance_share = shares.distance;
    let distance_detail = match (&need.postcode, candidate.distance_km) {
        (None, _) => "remote work: distance does not count".into(),
        (Some(_), Some(km)) => {
            format!("{km:.1} km between the postcodes; up to {travel_km:.0} km counts")
        }
        (Some(p), None) => format!("no distance known to postcode {p}"),
    };
    // Within reach counts as matched even at some distance: the points still fall with it.
    let within_reach = distance_share > 0.0 || need.postcode.is_none();

    let mut reasons = vec![
        reason(
            "skills_required",
            "Krævede kompetencer",
            "Required skills",
            req_share,
            weights.skills_required,
            listed(required, &req_found, "none required"),
        ),
        reason(
            "skills_nice_to_have",
            "Ønskede kompetencer",
            "Nice-to-have skills",
            nice_share,
            weights.skills_nice_to_have,
            listed(nice, &nice_found, "none asked for"),
        ),
        reason(
            "languages",
            "Sprog",
            "Languages",
            lang_share,
            weights.languages,
            listed(languages, &lang_found, "none asked for"),
        ),
        reason(
            "distance",
            "Afstand",
            "Distance",
            distance_share,
            weights.distance,
            distance_detail,
        ),
        reason(
            "availability",
            "Tidspunkter",
            "Availability",
            slot_share,
            weights.availability,
            listed(slots, &slot_found, "any time"),
        ),
        reason(
            "interests",
            "Målgrupper",
            "Target groups",
            interest_share,
            weights.interests,
            if groups.is_empty() {
                "no target group named".to_string()
            } else if interest_found.is_empty() {
                format!("none of {}", groups.join(", "))
            } else {
                format!("shares {}", interest_found.join(", "))
            },
        ),
    ];
    if let Some(distance) = reasons.iter_mut().find(|r| r.criterion == "distance") {
        distance.matched = within_reach;
    }
    Fit {
        score: shares.score(weights),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NeedPlace;
    use crate::fixtures::{need_details, need_id};
    use proptest::prelude::*;

    /// The canonical need: requires lektiehjælp; nice: matematik, dansk som andetsprog;
    /// languages da, uk; at 2610; Tuesday evenings; for children and refugees.
    fn details() -> NeedDetails {
        need_details(need_id(), "Lektiehjælp")
    }

    fn need() -> NeedProfile {
        NeedProfile::of(&details())
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn candidate() -> CandidateProfile {
        CandidateProfile {
            skills: strings(&["lektiehjælp", "matematik"]),
            languages: strings(&["da"]),
            target_groups: strings(&["children"]),
            slots: strings(&["tue-evening", "wed-morning"]),
            distance_km: Some(3.0),
        }
    }

    fn points(fit: &Fit, criterion: &str) -> f64 {
        fit.reasons
            .iter()
            .find(|r| r.criterion == criterion)
            .map(|r| r.points)
            .expect("a reason per criterion")
    }

    #[test]
    fn a_candidate_is_scored_criterion_by_criterion_as_computed_by_hand() {
        let fit = fit(&need(), &candidate(), &Weights::default(), 15.0);
        // 35 × 1/1 + 15 × 1/2 + 10 × 1/2 + 20 × (1 − 3/15) + 10 × 1/1 + 10 = 35 + 7.5 + 5 + 16
        // + 10 + 10 = 83.5.
        assert_eq!(points(&fit, "skills_required"), 35.0);
        assert_eq!(points(&fit, "skills_nice_to_have"), 7.5);
        assert_eq!(points(&fit, "languages"), 5.0);
        assert_eq!(points(&fit, "distance"), 16.0);
        assert_eq!(points(&fit, "availability"), 10.0);
        assert_eq!(points(&fit, "interests"), 10.0);
        assert_eq!(fit.score, 83.5);
        let matched: Vec<(&str, bool)> = fit
            .reasons
            .iter()
            .map(|r| (r.criterion, r.matched))
            .collect();
        assert_eq!(
            matched,
            vec![
                ("skills_required", true),
                ("skills_nice_to_have", false),
                ("languages", false),
                ("distance", true),
                ("availability", true),
                ("interests", true),
            ]
        );
        let nice = &fit.reasons[1];
        assert_eq!(nice.label_da, "Ønskede kompetencer");
        assert_eq!(nice.label_en, "Nice-to-have skills");
        assert_eq!(nice.detail, "1 of 2: matematik");
    }

    #[test]
    fn weights_decide_the_shares_and_the_score_stays_out_of_100() {
        let weights = Weights {
            skills_required: 10,
            skills_nice_to_have: 0,
            languages: 10,
            distance: 0,
            availability: 0,
            interests: 0,
        };
        let fit = fit(&need(), &candidate(), &weights, 15.0);
        // (10 × 1 + 10 × 1/2) / 20 × 100 = 75.
        assert_eq!(fit.score, 75.0);
        assert_eq!(points(&fit, "languages"), 5.0);
    }

    #[test]
    fn beyond_the_travel_distance_earns_nothing_and_remote_work_earns_it_all() {
        let far = CandidateProfile {
            distance_km: Some(40.0),
            ..candidate()
        };
        let at_distance = fit(&need(), &far, &Weights::default(), 15.0);
        assert_eq!(points(&at_distance, "distance"), 0.0);
        assert!(!at_distance.reasons[3].matched);
        let unknown = CandidateProfile {
            distance_km: None,
            ..candidate()
        };
        assert_eq!(
            points(
                &fit(&need(), &unknown, &Weights::default(), 15.0),
                "distance"
            ),
            0.0
        );
        let remote = NeedProfile::of(&NeedDetails {
            place: NeedPlace::Remote,
            ..details()
        });
        let fit = fit(&remote, &far, &Weights::default(), 15.0);
        assert_eq!(points(&fit, "distance"), 20.0);
        assert!(fit.reasons[3].matched);
    }

    #[test]
    fn what_a_need_does_not_ask_for_is_met_by_everyone() {
        let open = NeedProfile::of(&NeedDetails {
            skills_required: vec![],
            skills_nice_to_have: vec![],
            languages: vec![],
            target_groups: vec![],
            ..details()
        });
        let nobody = CandidateProfile {
            skills: vec![],
            languages: vec![],
            target_groups: vec![],
            slots: strings(&["tue-evening"]),
            distance_km: Some(0.0),
        };
        let fit = fit(&open, &nobody, &Weights::default(), 15.0);
        assert_eq!(fit.score, 100.0);
        assert!(fit.reasons.iter().all(|r| r.matched), "{fit:?}");
    }

    #[test]
    fn a_one_off_need_wants_any_part_of_its_weekday() {
        let once = NeedDetails {
            schedule: NeedSchedule::OnDate {
                // A Tuesday.
                date: chrono::NaiveDate::from_ymd_opt(2025, 9, 2).expect("date"),
            },
            ..details()
        };
        assert_eq!(
            need_slots(&once),
            strings(&["tue-morning", "tue-afternoon", "tue-evening"])
        );
        assert_eq!(need_slots(&details()), strings(&["tue-evening"]));
    }

    fn arb_tags(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
        proptest::sample::subsequence(pool, 0..=pool.len())
            .prop_map(|tags| tags.into_iter().map(String::from).collect())
    }

    const SKILLS: &[&str] = &["lektiehjælp", "matematik", "snedker", "kørsel"];
    const LANGUAGES: &[&str] = &["da", "uk", "en"];
    const GROUPS: &[&str] = &["children", "refugees", "elderly"];
    const SLOTS: &[&str] = &["mon-morning", "tue-evening", "sat-afternoon"];

    proptest! {
        /// Candidates are ranked by `score` and only the best are explained by `fit`: the two
        /// must never disagree.
        #[test]
        fn the_score_alone_is_the_score_of_the_fit(
            need in (arb_tags(SKILLS), arb_tags(SKILLS), arb_tags(LANGUAGES), arb_tags(GROUPS),
                arb_tags(SLOTS), proptest::option::of(Just("2610".to_string()))),
            candidate in (arb_tags(SKILLS), arb_tags(LANGUAGES), arb_tags(GROUPS), arb_tags(SLOTS),
                proptest::option::of(0.0f64..40.0)),
            weights in crate::fixtures::arb_weights(),
            travel_km in 1.0f64..60.0,
        ) {
            let (required, nice, languages, target_groups, slots, postcode) = need;
            let need = NeedProfile {
                skills_required: required,
                skills_nice_to_have: nice,
                languages,
                target_groups,
                slots,
                postcode,
            };
            let (skills, languages, target_groups, slots, distance_km) = candidate;
            let candidate = CandidateProfile { skills, languages, target_groups, slots, distance_km };
            prop_assert_eq!(
                score(&need, &candidate, &weights, travel_km),
                fit(&need, &candidate, &weights, travel_km).score
            );
        }
    }
}
