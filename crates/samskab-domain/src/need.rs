//! Needs (behov, opgaver): what an organisation or the municipality asks volunteers to do, and
//! the other half of the resource bank's matching (seed 000: "matched with needs in the local
//! area").
//!
//! A need holds no natural person's data (who posted it is an organisation or the
//! municipality, never a person), so its payloads have no `personal` member and it has no
//! `Forget` command.
//!
//! Not here: whether a need is *filled*. A need is filled when as many of its matches are
//! active as it wants volunteers, and matches are an entity of their own
//! ([`crate::matches`]). That count will come from the matches' events (active matches per need
//! against [`NeedDetails::volunteers_wanted`]), not from this decider: this state only says
//! whether the need is open for matching at all.

use crate::calendar::danish_date;
use crate::volunteer::{EARLIEST_YEAR, VolunteerProfile, YEARS_AHEAD, first_occurrences};
use crate::{
    Availability, ClosingReason, Decider, DomainError, EntityKind, LanguageCode, NeedDescription,
    NeedId, NeedTitle, OrganisationId, Postcode, Tag, TargetGroup, VolunteersWanted,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The need decider.
pub struct Need;

/// Who posted a need: the municipality itself (the tenant, so no id), or one of its
/// organisations. Whether that organisation exists and is active spans entities and is checked
/// by whoever publishes, not here.
///
/// JSON: `{"kind": "municipality"}` or `{"kind": "organisation", "organisation_id": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "organisation_id", rename_all = "snake_case")]
pub enum PostedBy {
    Municipality,
    Organisation(OrganisationId),
}

/// Where the work is done: at a postcode (the coarse location matching uses for volunteers
/// too), or remotely, where a volunteer's postcode does not matter.
///
/// JSON: `{"kind": "at_postcode", "postcode": "2610"}` or `{"kind": "remote"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "postcode", rename_all = "snake_case")]
pub enum NeedPlace {
    AtPostcode(Postcode),
    Remote,
}

/// When the work is done: once, on a date (Danmark Spiser Sammen, Rødovredagen), or every week
/// in some parts of some weekdays for some hours, in the same shape as a volunteer's
/// availability so that the two compare directly.
///
/// JSON: `{"kind": "on_date", "date": "2025-09-02"}` or
/// `{"kind": "weekly", "slots": [...], "hours_per_week": 2}`. `OnDate` names its date (rather
/// than holding it bare) so that both kinds are flat objects beside their `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NeedSchedule {
    OnDate { date: NaiveDate },
    Weekly(Availability),
}

/// A need as posted. Also the payload of `published` and `updated`: an update is a full
/// replacement, so both events carry the whole record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedDetails {
    pub id: NeedId,
    /// Set at publication; an update cannot change it.
    pub posted_by: PostedBy,
    pub title: NeedTitle,
    pub description: NeedDescription,
    pub target_groups: Vec<TargetGroup>,
    /// Skills (faglighed) a volunteer must have, at most [`Tag::MAX_PER_LIST`]; the same
    /// vocabulary as a volunteer's skills, so matching compares tags.
    pub skills_required: Vec<Tag>,
    /// Skills that help but are not required, at most [`Tag::MAX_PER_LIST`]; none of them is
    /// also required (a skill is one or the other, or matching would count it twice).
    pub skills_nice_to_have: Vec<Tag>,
    /// Languages the work needs (Ukrainian with refugee families), at most
    /// [`NeedDetails::MAX_LANGUAGES`]; how matching weighs them is matching's to decide.
    pub languages: Vec<LanguageCode>,
    pub place: NeedPlace,
    /// A one-off date lies between `starts_on` and `ends_on`.
    pub schedule: NeedSchedule,
    pub volunteers_wanted: VolunteersWanted,
    pub starts_on: NaiveDate,
    /// `None`: ongoing, until the need is closed. Never before `starts_on`.
    pub ends_on: Option<NaiveDate>,
    /// Whether the work involves direct, regular contact with children under 15. Such a need
    /// may only be matched with volunteers holding a valid, assessed børneattest (the
    /// matching step will check [`ChildCertificate::is_valid_on`](crate::ChildCertificate)).
    /// Stated by the poster rather than derived from the target groups: a family-visiting
    /// need may involve young children without naming them, and work with young people over
    /// 15 does not need the certificate.
    pub children_under_15: bool,
}

impl NeedDetails {
    /// The most languages a need may list, as many as a volunteer's profile.
    pub const MAX_LANGUAGES: usize = VolunteerProfile::MAX_LANGUAGES;

    /// The same details with duplicates removed from every list (first occurrence kept), so
    /// that the stored need and the no-op check do not depend on how a form repeated itself.
    pub fn without_duplicates(&self) -> NeedDetails {
        NeedDetails {
            target_groups: first_occurrences(&self.target_groups),
            skills_required: first_occurrences(&self.skills_required),
            skills_nice_to_have: first_occurrences(&self.skills_nice_to_have),
            languages: first_occurrences(&self.languages),
            ..self.clone()
        }
    }

    /// The last day the need has work to do, and the field that says so: a one-off date, or
    /// the end date; `None` when it is ongoing.
    fn last_day(&self) -> Option<(NaiveDate, &'static str)> {
        match self.schedule {
            NeedSchedule::OnDate { date } => Some((date, "schedule.date")),
            NeedSchedule::Weekly(_) => self.ends_on.map(|end| (end, "ends_on")),
        }
    }

    /// The same need with a new last day, as a reopening for another season gives it: a
    /// weekly need ends on it; a one-off need takes place on it, and its end, if it has one,
    /// moves along so that the date still lies within it.
    pub fn with_last_day(&self, day: NaiveDate) -> NeedDetails {
        match self.schedule {
            NeedSchedule::OnDate { .. } => NeedDetails {
                schedule: NeedSchedule::OnDate { date: day },
                ends_on: self.ends_on.map(|end| end.max(day)),
                ..self.clone()
            },
            NeedSchedule::Weekly(_) => NeedDetails {
                ends_on: Some(day),
                ..self.clone()
            },
        }
    }
}

/// A need's decision state. `Default` is "not yet posted".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NeedState {
    #[default]
    NotPosted,
    /// Published and open for matching.
    Open(NeedDetails),
    /// Kept, not deleted: matches and statistics still refer to it. It may be reopened.
    Closed {
        details: NeedDetails,
        closed_at: DateTime<Utc>,
        reason: Option<ClosingReason>,
    },
}

impl NeedState {
    /// The need as posted (or last updated); `None` before it is posted.
    pub fn details(&self) -> Option<&NeedDetails> {
        match self {
            NeedState::NotPosted => None,
            NeedState::Open(details) | NeedState::Closed { details, .. } => Some(details),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedCommand {
    /// `at` is "now" for the rules (how far ahead a date may lie, whether the need is already
    /// over), passed in so that `decide` stays pure.
    Publish {
        details: NeedDetails,
        at: DateTime<Utc>,
    },
    /// Full replacement of the record. `details.id` and `details.posted_by` must be the ones
    /// published. `at` is "now" for the rules.
    Update {
        details: NeedDetails,
        at: DateTime<Utc>,
    },
    Close {
        reason: Option<ClosingReason>,
        at: DateTime<Utc>,
    },
    /// `at` is "now": a need whose last day is before it cannot be reopened as it is. A
    /// `last_day` reopens it for another season (see [`NeedDetails::with_last_day`]): the end
    /// of a weekly need, the date of a one-off need; not before today. `None` keeps the
    /// dates. Only the last day moves: anything else is an update once the need is open.
    Reopen {
        last_day: Option<NaiveDate>,
        at: DateTime<Utc>,
    },
}

domain_events! {
    /// What happens to a need. Published and updated carry the full details.
    pub enum NeedEvent for EntityKind::Need {
        Published(NeedDetails) = PUBLISHED_V1 => "dk.samskab.need.published.v1",
        Updated(NeedDetails) = UPDATED_V1 => "dk.samskab.need.updated.v1",
        Closed(NeedClosed) = CLOSED_V1 => "dk.samskab.need.closed.v1",
        Reopened(NeedReopened) = REOPENED_V2 => "dk.samskab.need.reopened.v2",
        /// As `Reopened`, from before a reopening could give a new last day (its `last_day` is
        /// absent, so `None`: the dates unchanged): read, never decided.
        ReopenedV1(NeedReopened) = REOPENED_V1 => "dk.samskab.need.reopened.v1",
    }
}

/// Payload of `dk.samskab.need.closed.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedClosed {
    pub id: NeedId,
    pub reason: Option<ClosingReason>,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.need.reopened.v2` (and `.v1`, which has no `last_day`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedReopened {
    pub id: NeedId,
    pub at: DateTime<Utc>,
    /// The need's new last day ([`NeedDetails::with_last_day`]); `None`: its dates unchanged.
    #[serde(default)]
    pub last_day: Option<NaiveDate>,
}

impl NeedEvent {
    /// The entity this event is about.
    pub fn id(&self) -> NeedId {
        match self {
            NeedEvent::Published(e) | NeedEvent::Updated(e) => e.id,
            NeedEvent::Closed(e) => e.id,
            NeedEvent::Reopened(e) | NeedEvent::ReopenedV1(e) => e.id,
        }
    }
}

/// A date is plausible as a volunteer's dates are: in [`EARLIEST_YEAR`] or later (PostgreSQL
/// and every report can show it), and at most [`YEARS_AHEAD`] years after now (a year 20250 is
/// a typing error, not a plan).
fn check_plausible(field: &str, date: NaiveDate, now: DateTime<Utc>) -> Result<(), DomainError> {
    if date.year() < EARLIEST_YEAR {
        return Err(DomainError::rule(
            field,
            format!("must be in {EARLIEST_YEAR} or later"),
        ));
    }
    if date.year() > danish_date(now).year() + YEARS_AHEAD {
        return Err(DomainError::rule(
            field,
            format!("must be within {YEARS_AHEAD} years from now"),
        ));
    }
    Ok(())
}

/// The rules a need's details must follow, at the moment `now`. Returns the details as they
/// will be stored (duplicates removed).
fn check_need_rules(details: &NeedDetails, now: DateTime<Utc>) -> Result<NeedDetails, DomainError> {
    let details = details.without_duplicates();
    for (field, len) in [
        ("skills_required", details.skills_required.len()),
        ("skills_nice_to_have", details.skills_nice_to_have.len()),
    ] {
        if len > Tag::MAX_PER_LIST {
            return Err(DomainError::rule(
                field,
                format!("at most {} items", Tag::MAX_PER_LIST),
            ));
        }
    }
    if let Some(both) = details
        .skills_nice_to_have
        .iter()
        .find(|skill| details.skills_required.contains(skill))
    {
        return Err(DomainError::rule(
            "skills_nice_to_have",
            format!(
                "\"{both}\" is already a required skill; a skill is required or nice to have, not both"
            ),
        ));
    }
    if details.languages.len() > NeedDetails::MAX_LANGUAGES {
        return Err(DomainError::rule(
            "languages",
            format!("at most {} languages", NeedDetails::MAX_LANGUAGES),
        ));
    }
    check_plausible("starts_on", details.starts_on, now)?;
    if let Some(end) = details.ends_on {
        check_plausible("ends_on", end, now)?;
        if end < details.starts_on {
            return Err(DomainError::rule("ends_on", "must not be before starts_on"));
        }
    }
    if let NeedSchedule::OnDate { date } = details.schedule {
        check_plausible("schedule.date", date, now)?;
        if date < details.starts_on {
            return Err(DomainError::rule(
                "schedule.date",
                "must not be before starts_on",
            ));
        }
        if details.ends_on.is_some_and(|end| date > end) {
            return Err(DomainError::rule(
                "schedule.date",
                "must not be after ends_on",
            ));
        }
    }
    Ok(details)
}

/// A need whose last day is before today has nothing left to match volunteers for, so it
/// cannot become open (be published or reopened). An open need whose end passes stays open
/// until closed, and can still be updated: time passing is not an edit.
fn refuse_when_over(
    details: &NeedDetails,
    now: DateTime<Utc>,
    becoming: &str,
) -> Result<(), DomainError> {
    match details.last_day() {
        Some((last, field)) if last < danish_date(now) => Err(DomainError::rule(
            field,
            format!("the need's last day, {last}, has passed, so it cannot be {becoming}"),
        )),
        _ => Ok(()),
    }
}

/// A new last day for a reopened need: a plausible date, not before the need starts (a one-off
/// date and an end never are), and not before today (or the need would be over again).
fn check_new_last_day(
    details: &NeedDetails,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    check_plausible("last_day", day, now)?;
    if day < details.starts_on {
        return Err(DomainError::rule(
            "last_day",
            format!("must not be before the need starts, {}", details.starts_on),
        ));
    }
    let today = danish_date(now);
    if day < today {
        return Err(DomainError::rule(
            "last_day",
            format!("must not be before today, {today}: the need would be over again"),
        ));
    }
    Ok(())
}

impl Decider for Need {
    const KIND: EntityKind = EntityKind::Need;
    type State = NeedState;
    const STATE_VERSION: u32 = 1;
    type Command = NeedCommand;
    type Event = NeedEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let not_found = DomainError::NotFound {
            kind: EntityKind::Need,
        };
        match command {
            NeedCommand::Publish { details, at } => {
                if !matches!(state, NeedState::NotPosted) {
                    return Err(DomainError::AlreadyExists {
                        kind: EntityKind::Need,
                    });
                }
                let details = check_need_rules(details, *at)?;
                refuse_when_over(&details, *at, "published")?;
                Ok(vec![NeedEvent::Published(details)])
            }
            NeedCommand::Update { details, at } => {
                let current = match state {
                    NeedState::NotPosted => return Err(not_found),
                    NeedState::Closed { .. } => {
                        return Err(DomainError::conflict(
                            "the need is closed and cannot be updated; reopen it first",
                        ));
                    }
                    NeedState::Open(current) => current,
                };
                // The id is the stream's, and who posted a need is who answers for it (and,
                // later, who sees its matches): neither moves with an edit.
                if details.id != current.id {
                    return Err(DomainError::rule("id", "the id of a need cannot change"));
                }
                if details.posted_by != current.posted_by {
                    return Err(DomainError::rule(
                        "posted_by",
                        "who posted a need cannot change; close it and post a new one",
                    ));
                }
                let details = check_need_rules(details, *at)?;
                if &details == current {
                    return Ok(vec![]);
                }
                Ok(vec![NeedEvent::Updated(details)])
            }
            NeedCommand::Close { reason, at } => match state {
                NeedState::NotPosted => Err(not_found),
                NeedState::Closed { .. } => {
                    Err(DomainError::conflict("the need is already closed"))
                }
                NeedState::Open(current) => Ok(vec![NeedEvent::Closed(NeedClosed {
                    id: current.id,
                    reason: reason.clone(),
                    at: *at,
                })]),
            },
            NeedCommand::Reopen { last_day, at } => match state {
                NeedState::NotPosted => Err(not_found),
                NeedState::Open(_) => Err(DomainError::conflict("the need is already open")),
                NeedState::Closed {
                    details, closed_at, ..
                } => {
                    match last_day {
                        None => refuse_when_over(details, *at, "reopened without a new last_day")?,
                        Some(day) => check_new_last_day(details, *day, *at)?,
                    }
                    // A clock behind the one that closed it (another API instance) records the
                    // reopening at the closing, never before.
                    Ok(vec![NeedEvent::Reopened(NeedReopened {
                        id: details.id,
                        at: (*at).max(*closed_at),
                        last_day: *last_day,
                    })])
                }
            },
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use NeedEvent as E;
        use NeedState::*;
        match (state, event) {
            (NotPosted, E::Published(details)) => Open(details.clone()),
            // A second publication cannot have been decided; keep what we have.
            (state @ (Open(_) | Closed { .. }), E::Published(_)) => state,
            // An update carries the whole record, so it is enough to know the need even if the
            // publication is missing from what was loaded.
            (NotPosted | Open(_), E::Updated(details)) => Open(details.clone()),
            // Not decided (a closed need is not updated), but the record is the newest one.
            (
                Closed {
                    closed_at, reason, ..
                },
                E::Updated(details),
            ) => Closed {
                details: details.clone(),
                closed_at,
                reason,
            },
            (Open(details), E::Closed(e)) => Closed {
                details,
                closed_at: e.at,
                reason: e.reason.clone(),
            },
            // Nothing to close without a record; once closed, the first closing stands.
            (state @ (NotPosted | Closed { .. }), E::Closed(_)) => state,
            (Closed { details, .. }, E::Reopened(e) | E::ReopenedV1(e)) => match e.last_day {
                Some(day) => Open(details.with_last_day(day)),
                None => Open(details),
            },
            (state @ (NotPosted | Open(_)), E::Reopened(_) | E::ReopenedV1(_)) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{AvailabilitySlot, DayPart, DomainEvent, EventDecodeError, Weekday};
    use proptest::prelude::*;

    fn details() -> NeedDetails {
        need_details(need_id(), "Lektiehjælp til ukrainske børn")
    }

    /// "Now" for the commands: a week after the canonical need starts.
    fn now() -> DateTime<Utc> {
        at(2025, 9, 9)
    }

    fn publish(d: &NeedDetails) -> NeedCommand {
        NeedCommand::Publish {
            details: d.clone(),
            at: now(),
        }
    }

    fn update(d: &NeedDetails) -> NeedCommand {
        NeedCommand::Update {
            details: d.clone(),
            at: now(),
        }
    }

    fn close() -> NeedCommand {
        NeedCommand::Close {
            reason: None,
            at: at(2025, 12, 1),
        }
    }

    fn published() -> NeedEvent {
        NeedEvent::Published(details())
    }

    fn closed() -> NeedEvent {
        NeedEvent::Closed(NeedClosed {
            id: need_id(),
            reason: None,
            at: at(2025, 12, 1),
        })
    }

    fn reopened() -> NeedEvent {
        NeedEvent::Reopened(reopened_payload())
    }

    fn reopened_payload() -> NeedReopened {
        NeedReopened {
            id: need_id(),
            at: at(2026, 1, 5),
            last_day: None,
        }
    }

    fn reopen(last_day: Option<NaiveDate>, now: DateTime<Utc>) -> NeedCommand {
        NeedCommand::Reopen { last_day, at: now }
    }

    fn not_found() -> Result<Vec<NeedEvent>, DomainError> {
        Err(DomainError::NotFound {
            kind: EntityKind::Need,
        })
    }

    fn rule_field(result: &Result<Vec<NeedEvent>, DomainError>) -> Option<&str> {
        match result {
            Err(DomainError::Rule { field, .. }) => field.as_deref(),
            _ => None,
        }
    }

    fn is_conflict(result: &Result<Vec<NeedEvent>, DomainError>) -> bool {
        matches!(result, Err(DomainError::Conflict { .. }))
    }

    /// The field `decide` names when the canonical details, changed by `change`, are published.
    fn field_refused(change: impl FnOnce(&mut NeedDetails)) -> Option<String> {
        let mut d = details();
        change(&mut d);
        rule_field(&when::<Need>(&[], &publish(&d))).map(str::to_owned)
    }

    fn weekly(hours: u8) -> NeedSchedule {
        NeedSchedule::Weekly(
            Availability::parse(
                [AvailabilitySlot {
                    weekday: Weekday::Sat,
                    part: DayPart::Afternoon,
                }],
                hours,
            )
            .expect("valid"),
        )
    }

    // --- Publish ---

    #[test]
    fn publishing_a_need() {
        assert_eq!(
            when::<Need>(&[], &publish(&details())),
            Ok(vec![published()])
        );
        assert_eq!(Need::replay(&[published()]), NeedState::Open(details()));
    }

    #[test]
    fn publishing_twice_is_already_exists() {
        let expected = Err(DomainError::AlreadyExists {
            kind: EntityKind::Need,
        });
        for history in [
            vec![published()],
            vec![published(), closed()],
            vec![published(), closed(), reopened()],
        ] {
            assert_eq!(when::<Need>(&history, &publish(&details())), expected);
        }
    }

    #[test]
    fn a_remote_one_off_need_posted_by_the_municipality() {
        let d = NeedDetails {
            posted_by: PostedBy::Municipality,
            title: NeedTitle::parse("Værter til Danmark Spiser Sammen").expect("valid"),
            place: NeedPlace::Remote,
            schedule: NeedSchedule::OnDate {
                date: date(2025, 9, 20),
            },
            starts_on: date(2025, 9, 20),
            ends_on: None,
            children_under_15: false,
            ..details()
        };
        assert_eq!(
            when::<Need>(&[], &publish(&d)),
            Ok(vec![NeedEvent::Published(d)])
        );
    }

    #[test]
    fn an_ongoing_need_that_started_long_ago_can_be_published() {
        let d = NeedDetails {
            starts_on: date(2007, 1, 1),
            ends_on: None,
            ..details()
        };
        assert!(when::<Need>(&[], &publish(&d)).is_ok());
    }

    #[test]
    fn duplicates_in_lists_are_removed_when_stored() {
        let mut doubled = details();
        doubled.skills_required.extend(details().skills_required);
        doubled.skills_nice_to_have.push(tag("Matematik"));
        doubled.languages.push(language("UK"));
        doubled.target_groups.push(TargetGroup::Children);
        assert_eq!(when::<Need>(&[], &publish(&doubled)), Ok(vec![published()]));
    }

    #[test]
    fn a_skill_is_required_or_nice_to_have_not_both() {
        let result = when::<Need>(
            &[],
            &publish(&NeedDetails {
                skills_nice_to_have: vec![tag("Dansk"), tag("Lektiehjælp")],
                ..details()
            }),
        );
        assert_eq!(rule_field(&result), Some("skills_nice_to_have"));
        assert!(
            matches!(&result, Err(DomainError::Rule { reason, .. }) if reason.contains("lektiehjælp")),
            "{result:?}"
        );
    }

    #[test]
    fn too_many_skills_or_languages_are_refused() {
        let many: Vec<Tag> = (0..31).map(|i| tag(&format!("skill {i}"))).collect();
        let few: Vec<Tag> = many.iter().take(30).cloned().collect();
        assert_eq!(
            field_refused(|d| d.skills_required = many.clone()).as_deref(),
            Some("skills_required")
        );
        assert_eq!(
            field_refused(|d| d.skills_nice_to_have = many.clone()).as_deref(),
            Some("skills_nice_to_have")
        );
        assert_eq!(field_refused(|d| d.skills_required = few.clone()), None);
        let languages: Vec<LanguageCode> = ('a'..='z')
            .flat_map(|a| ('a'..='b').map(move |b| language(&format!("{a}{b}"))))
            .take(31)
            .collect();
        assert_eq!(
            field_refused(|d| d.languages = languages.clone()).as_deref(),
            Some("languages")
        );
        assert_eq!(
            field_refused(|d| d.languages = languages[..30].to_vec()),
            None
        );
    }

    #[test]
    fn the_end_is_not_before_the_start() {
        assert_eq!(
            field_refused(|d| d.ends_on = Some(date(2025, 9, 1))).as_deref(),
            Some("ends_on")
        );
        // A need of one day starts and ends on it.
        assert_eq!(
            field_refused(|d| {
                d.starts_on = date(2025, 9, 9);
                d.ends_on = Some(date(2025, 9, 9));
            }),
            None
        );
    }

    #[test]
    fn implausible_dates_are_refused() {
        // "Now" is 2025: years 1900 ..= 2035.
        assert_eq!(
            field_refused(|d| d.starts_on = date(1899, 12, 31)).as_deref(),
            Some("starts_on")
        );
        assert_eq!(field_refused(|d| d.starts_on = date(1900, 1, 1)), None);
        assert_eq!(
            field_refused(|d| {
                d.starts_on = date(2036, 1, 1);
                d.ends_on = None;
            })
            .as_deref(),
            Some("starts_on")
        );
        assert_eq!(
            field_refused(|d| d.ends_on = Some(date(2036, 1, 1))).as_deref(),
            Some("ends_on")
        );
        assert_eq!(
            field_refused(|d| d.ends_on = Some(date(2035, 12, 31))),
            None
        );
        assert_eq!(
            field_refused(|d| {
                d.ends_on = None;
                d.schedule = NeedSchedule::OnDate {
                    date: date(20250, 9, 20),
                };
            })
            .as_deref(),
            Some("schedule.date")
        );
    }

    #[test]
    fn a_one_off_date_lies_between_start_and_end() {
        let on = |day| NeedSchedule::OnDate { date: day };
        assert_eq!(
            field_refused(|d| d.schedule = on(date(2025, 9, 1))).as_deref(),
            Some("schedule.date")
        );
        assert_eq!(
            field_refused(|d| d.schedule = on(date(2026, 7, 1))).as_deref(),
            Some("schedule.date")
        );
        for day in [date(2025, 9, 9), date(2026, 6, 30)] {
            assert_eq!(field_refused(|d| d.schedule = on(day)), None);
        }
    }

    #[test]
    fn a_need_that_is_over_cannot_be_published() {
        // "Now" is 2025-09-09.
        assert_eq!(
            field_refused(|d| {
                d.starts_on = date(2025, 1, 1);
                d.ends_on = Some(date(2025, 9, 8));
            })
            .as_deref(),
            Some("ends_on")
        );
        assert_eq!(
            field_refused(|d| {
                d.schedule = NeedSchedule::OnDate {
                    date: date(2025, 9, 8),
                };
                d.starts_on = date(2025, 9, 8);
            })
            .as_deref(),
            Some("schedule.date")
        );
        // Its last day is today: still to come.
        assert_eq!(
            field_refused(|d| {
                d.starts_on = date(2025, 1, 1);
                d.ends_on = Some(date(2025, 9, 9));
            }),
            None
        );
    }

    // --- Update ---

    #[test]
    fn updating_replaces_the_record() {
        let changed = NeedDetails {
            description: NeedDescription::parse("Nu også onsdag eftermiddag.").expect("valid"),
            schedule: weekly(3),
            volunteers_wanted: VolunteersWanted::parse(4).expect("valid"),
            children_under_15: false,
            ..details()
        };
        assert_eq!(
            when::<Need>(&[published()], &update(&changed)),
            Ok(vec![NeedEvent::Updated(changed.clone())])
        );
        assert_eq!(
            Need::replay(&[published(), NeedEvent::Updated(changed.clone())]),
            NeedState::Open(changed)
        );
    }

    #[test]
    fn an_update_that_changes_nothing_appends_nothing() {
        assert_eq!(
            when::<Need>(&[published()], &update(&details())),
            Ok(vec![])
        );
        let mut repeated = details();
        repeated.languages.push(language("da"));
        assert_eq!(
            when::<Need>(&[published(), reopened()], &update(&repeated)),
            Ok(vec![])
        );
    }

    #[test]
    fn the_id_and_who_posted_cannot_change() {
        let other_id = NeedDetails {
            id: NeedId::from_uuid(uuid::Uuid::from_u128(7)),
            ..details()
        };
        assert_eq!(
            rule_field(&when::<Need>(&[published()], &update(&other_id))),
            Some("id")
        );
        let by_the_municipality = NeedDetails {
            posted_by: PostedBy::Municipality,
            ..details()
        };
        assert_eq!(
            rule_field(&when::<Need>(&[published()], &update(&by_the_municipality))),
            Some("posted_by")
        );
    }

    #[test]
    fn updates_follow_the_same_rules() {
        let both = NeedDetails {
            skills_nice_to_have: details().skills_required,
            ..details()
        };
        assert_eq!(
            rule_field(&when::<Need>(&[published()], &update(&both))),
            Some("skills_nice_to_have")
        );
        let backwards = NeedDetails {
            ends_on: Some(date(2025, 1, 1)),
            ..details()
        };
        assert_eq!(
            rule_field(&when::<Need>(&[published()], &update(&backwards))),
            Some("ends_on")
        );
    }

    #[test]
    fn an_open_need_whose_end_has_passed_can_still_be_updated() {
        let later = NeedCommand::Update {
            details: NeedDetails {
                title: NeedTitle::parse("Lektiehjælp (afsluttet)").expect("valid"),
                ..details()
            },
            at: at(2026, 8, 1),
        };
        assert_eq!(
            when::<Need>(&[published()], &later).map(|events| events.len()),
            Ok(1)
        );
    }

    #[test]
    fn updating_an_unknown_need_is_not_found() {
        assert_eq!(when::<Need>(&[], &update(&details())), not_found());
    }

    #[test]
    fn updating_a_closed_need_is_a_conflict() {
        assert!(is_conflict(&when::<Need>(
            &[published(), closed()],
            &update(&details())
        )));
    }

    // --- Close ---

    #[test]
    fn closing_with_or_without_a_reason() {
        assert_eq!(when::<Need>(&[published()], &close()), Ok(vec![closed()]));
        let reason = ClosingReason::parse("Vi har fundet frivillige nok").ok();
        let with_reason = NeedCommand::Close {
            reason: reason.clone(),
            at: at(2025, 12, 1),
        };
        let expected = NeedEvent::Closed(NeedClosed {
            id: need_id(),
            reason: reason.clone(),
            at: at(2025, 12, 1),
        });
        assert_eq!(
            when::<Need>(&[published(), closed(), reopened()], &with_reason),
            Ok(vec![expected.clone()])
        );
        assert_eq!(
            Need::replay(&[published(), expected]),
            NeedState::Closed {
                details: details(),
                closed_at: at(2025, 12, 1),
                reason,
            }
        );
    }

    #[test]
    fn closing_twice_is_a_conflict() {
        assert!(is_conflict(&when::<Need>(
            &[published(), closed()],
            &close()
        )));
    }

    #[test]
    fn closing_an_unknown_need_is_not_found() {
        assert_eq!(when::<Need>(&[], &close()), not_found());
    }

    // --- Reopen ---

    #[test]
    fn reopening_a_closed_need() {
        let command = reopen(None, at(2026, 1, 5));
        assert_eq!(
            when::<Need>(&[published(), closed()], &command),
            Ok(vec![reopened()])
        );
        assert_eq!(
            Need::replay(&[published(), closed(), reopened()]),
            NeedState::Open(details())
        );
    }

    #[test]
    fn reopening_an_open_need_is_a_conflict() {
        let command = reopen(None, at(2026, 1, 5));
        for history in [vec![published()], vec![published(), closed(), reopened()]] {
            assert!(is_conflict(&when::<Need>(&history, &command)));
        }
    }

    #[test]
    fn reopening_an_unknown_need_is_not_found() {
        assert_eq!(
            when::<Need>(&[], &reopen(None, at(2026, 1, 5))),
            not_found()
        );
    }

    #[test]
    fn a_need_whose_last_day_has_passed_cannot_be_reopened() {
        // The canonical need ends on 2026-06-30.
        let reopen_on = |y, m, d| reopen(None, at(y, m, d));
        let history = [published(), closed()];
        let result = when::<Need>(&history, &reopen_on(2026, 7, 1));
        assert_eq!(rule_field(&result), Some("ends_on"));
        assert!(
            matches!(&result, Err(DomainError::Rule { reason, .. }) if reason.contains("2026-06-30")),
            "{result:?}"
        );
        assert!(when::<Need>(&history, &reopen_on(2026, 6, 30)).is_ok());

        let one_off = NeedEvent::Published(NeedDetails {
            schedule: NeedSchedule::OnDate {
                date: date(2025, 10, 4),
            },
            ..details()
        });
        assert_eq!(
            rule_field(&when::<Need>(&[one_off, closed()], &reopen_on(2025, 10, 5))),
            Some("schedule.date")
        );

        let ongoing = NeedEvent::Published(NeedDetails {
            ends_on: None,
            ..details()
        });
        assert!(when::<Need>(&[ongoing, closed()], &reopen_on(2034, 1, 1)).is_ok());
    }

    #[test]
    fn a_reopening_timed_before_the_closing_is_recorded_at_the_closing() {
        assert_eq!(
            when::<Need>(&[published(), closed()], &reopen(None, at(2025, 11, 1))),
            Ok(vec![NeedEvent::Reopened(NeedReopened {
                id: need_id(),
                at: at(2025, 12, 1),
                last_day: None,
            })])
        );
    }

    #[test]
    fn a_need_that_is_over_is_reopened_for_another_season_with_a_new_last_day() {
        // Closed on 2025-12-01; the canonical need ended on 2026-06-30, and it is now autumn.
        let history = [published(), closed()];
        let next_season = date(2027, 6, 30);
        let now = at(2026, 8, 20);
        let expected = NeedEvent::Reopened(NeedReopened {
            id: need_id(),
            at: now,
            last_day: Some(next_season),
        });
        assert_eq!(
            when::<Need>(&history, &reopen(Some(next_season), now)),
            Ok(vec![expected.clone()])
        );
        assert_eq!(
            Need::replay(&[published(), closed(), expected]),
            NeedState::Open(NeedDetails {
                ends_on: Some(next_season),
                ..details()
            })
        );
        // An ongoing need gets an end; a need not yet over may also be given a shorter one.
        let ongoing = NeedDetails {
            ends_on: None,
            ..details()
        };
        let shorter = date(2026, 3, 31);
        let history = [NeedEvent::Published(ongoing.clone()), closed()];
        let result = when::<Need>(&history, &reopen(Some(shorter), at(2026, 1, 5)));
        let Ok(events) = result else {
            panic!("expected a reopening, got {result:?}");
        };
        assert_eq!(
            Need::replay(history.iter().chain(&events)),
            NeedState::Open(NeedDetails {
                ends_on: Some(shorter),
                ..ongoing
            })
        );
    }

    #[test]
    fn a_one_off_need_is_reopened_on_a_new_date() {
        // Danmark Spiser Sammen, once a year: last year's date has passed.
        let last_year = NeedDetails {
            schedule: NeedSchedule::OnDate {
                date: date(2025, 10, 4),
            },
            ..details()
        };
        let next_year = date(2026, 10, 3);
        let history = [NeedEvent::Published(last_year.clone()), closed()];
        let now = at(2026, 8, 1);
        let result = when::<Need>(&history, &reopen(Some(next_year), now));
        let Ok(events) = result else {
            panic!("expected a reopening, got {result:?}");
        };
        // The date moves, and the end (2026-06-30) with it, so that the date lies within it.
        let moved = NeedDetails {
            schedule: NeedSchedule::OnDate { date: next_year },
            ends_on: Some(next_year),
            ..last_year.clone()
        };
        assert_eq!(
            Need::replay(history.iter().chain(&events)),
            NeedState::Open(moved.clone())
        );
        assert_eq!(check_need_rules(&moved, now), Ok(moved));
        // Without an end, only the date moves.
        let unbounded = NeedDetails {
            ends_on: None,
            ..last_year
        };
        assert_eq!(
            unbounded.with_last_day(next_year),
            NeedDetails {
                schedule: NeedSchedule::OnDate { date: next_year },
                ..unbounded.clone()
            }
        );
    }

    #[test]
    fn a_new_last_day_is_today_or_later_and_not_before_the_start() {
        let history = [published(), closed()];
        let now = at(2026, 8, 20);
        let refused =
            |day| rule_field(&when::<Need>(&history, &reopen(Some(day), now))).map(str::to_owned);
        for day in [
            date(2026, 8, 19),
            date(2025, 9, 1),
            date(1899, 12, 31),
            date(2037, 1, 1),
        ] {
            assert_eq!(refused(day).as_deref(), Some("last_day"), "{day}");
        }
        for day in [date(2026, 8, 20), date(2036, 12, 31)] {
            assert_eq!(refused(day), None, "{day}");
        }
        let result = when::<Need>(&history, &reopen(Some(date(2026, 8, 19)), now));
        assert!(
            matches!(&result, Err(DomainError::Rule { reason, .. }) if reason.contains("2026-08-20")),
            "{result:?}"
        );
        // Still refused without one, saying what would help.
        let result = when::<Need>(&history, &reopen(None, now));
        assert!(
            matches!(&result, Err(DomainError::Rule { reason, .. }) if reason.contains("new last_day")),
            "{result:?}"
        );
    }

    #[test]
    fn a_reopening_stored_before_it_had_a_last_day_still_reads_and_replays() {
        let v1 = serde_json::json!({"id": need_id(), "at": "2026-01-05T10:00:00Z"});
        let decoded = NeedEvent::from_payload(NeedEvent::REOPENED_V1, &v1);
        let expected = NeedEvent::ReopenedV1(NeedReopened {
            id: need_id(),
            at: at(2026, 1, 5),
            last_day: None,
        });
        assert_eq!(decoded, Ok(expected.clone()));
        assert_eq!(expected.id(), need_id());
        assert_eq!(
            Need::replay(&[published(), closed(), expected]),
            NeedState::Open(details())
        );
        // What is decided now is the new version, with the field written out.
        assert_eq!(reopened().event_type(), NeedEvent::REOPENED_V2);
        assert_eq!(
            reopened().to_payload(),
            serde_json::json!({"id": need_id(), "at": "2026-01-05T10:00:00Z", "last_day": null})
        );
    }

    // --- Evolve ---

    #[test]
    fn evolve_tolerates_events_out_of_place() {
        let updated = NeedEvent::Updated(NeedDetails {
            volunteers_wanted: VolunteersWanted::parse(5).expect("valid"),
            ..details()
        });
        let NeedEvent::Updated(updated_details) = updated.clone() else {
            unreachable!()
        };
        for events in [vec![closed()], vec![reopened()], vec![closed(), reopened()]] {
            assert_eq!(Need::replay(&events), NeedState::NotPosted);
        }
        assert_eq!(
            Need::replay(std::slice::from_ref(&updated)),
            NeedState::Open(updated_details.clone())
        );
        assert_eq!(
            Need::replay(&[published(), published(), reopened()]),
            NeedState::Open(details())
        );
        // A reopening with a new last day moves nothing on a need that is open.
        let moving = NeedEvent::Reopened(NeedReopened {
            last_day: Some(date(2027, 6, 30)),
            ..reopened_payload()
        });
        assert_eq!(
            Need::replay(&[published(), moving]),
            NeedState::Open(details())
        );
        let second_closing = NeedEvent::Closed(NeedClosed {
            id: need_id(),
            reason: ClosingReason::parse("Igen").ok(),
            at: at(2026, 2, 1),
        });
        assert_eq!(
            Need::replay(&[published(), closed(), second_closing, updated, published()]),
            NeedState::Closed {
                details: updated_details,
                closed_at: at(2025, 12, 1),
                reason: None,
            }
        );
    }

    // --- Payloads ---

    #[test]
    fn payload_shape_is_snake_case_with_the_id() {
        let payload = published().to_payload();
        assert_eq!(payload["id"], serde_json::json!(need_id().to_string()));
        assert_eq!(
            payload["posted_by"],
            serde_json::json!({"kind": "organisation", "organisation_id": org_id().to_string()})
        );
        assert_eq!(
            payload["place"],
            serde_json::json!({"kind": "at_postcode", "postcode": "2610"})
        );
        assert_eq!(
            payload["schedule"],
            serde_json::json!({
                "kind": "weekly",
                "slots": [{"weekday": "tue", "part": "evening"}],
                "hours_per_week": 2
            })
        );
        assert_eq!(payload["volunteers_wanted"], serde_json::json!(2));
        assert_eq!(payload["starts_on"], serde_json::json!("2025-09-02"));
        assert_eq!(payload["children_under_15"], serde_json::json!(true));
        assert!(payload.get("personal").is_none(), "a need names no person");

        let elsewhere = NeedEvent::Published(NeedDetails {
            posted_by: PostedBy::Municipality,
            place: NeedPlace::Remote,
            schedule: NeedSchedule::OnDate {
                date: date(2025, 9, 20),
            },
            ..details()
        })
        .to_payload();
        assert_eq!(
            elsewhere["posted_by"],
            serde_json::json!({"kind": "municipality"})
        );
        assert_eq!(elsewhere["place"], serde_json::json!({"kind": "remote"}));
        assert_eq!(
            elsewhere["schedule"],
            serde_json::json!({"kind": "on_date", "date": "2025-09-20"})
        );
    }

    #[test]
    fn every_event_type_round_trips() {
        let closed_with_reason = NeedEvent::Closed(NeedClosed {
            id: need_id(),
            reason: ClosingReason::parse("Aktiviteten er aflyst\npga. manglende lokaler").ok(),
            at: at(2025, 12, 1),
        });
        let remote_once = NeedEvent::Updated(NeedDetails {
            posted_by: PostedBy::Municipality,
            place: NeedPlace::Remote,
            schedule: NeedSchedule::OnDate {
                date: date(2025, 9, 20),
            },
            ends_on: None,
            ..details()
        });
        for event in [
            published(),
            remote_once,
            closed(),
            closed_with_reason,
            reopened(),
            NeedEvent::Reopened(NeedReopened {
                last_day: Some(date(2027, 6, 30)),
                ..reopened_payload()
            }),
            NeedEvent::ReopenedV1(reopened_payload()),
        ] {
            assert_eq!(
                NeedEvent::from_payload(event.event_type(), &event.to_payload()),
                Ok(event)
            );
        }
        assert_eq!(
            NeedEvent::TYPES,
            [
                "dk.samskab.need.published.v1",
                "dk.samskab.need.updated.v1",
                "dk.samskab.need.closed.v1",
                "dk.samskab.need.reopened.v2",
                "dk.samskab.need.reopened.v1",
            ]
        );
    }

    #[test]
    fn decoding_unknown_and_malformed_payloads() {
        assert_eq!(
            NeedEvent::from_payload("dk.samskab.need.filled.v1", &serde_json::json!({})),
            Err(EventDecodeError::UnknownType(
                "dk.samskab.need.filled.v1".into()
            ))
        );
        // Each value re-validates while decoding: a hand-edited payload cannot smuggle one in.
        let bad_values = [
            ("title", serde_json::json!("  ")),
            ("description", serde_json::json!("")),
            ("volunteers_wanted", serde_json::json!(0)),
            ("volunteers_wanted", serde_json::json!(101)),
            ("skills_required", serde_json::json!([""])),
            ("languages", serde_json::json!(["dansk"])),
            ("target_groups", serde_json::json!(["pets"])),
            (
                "place",
                serde_json::json!({"kind": "at_postcode", "postcode": "0799"}),
            ),
            ("place", serde_json::json!({"kind": "abroad"})),
            (
                "posted_by",
                serde_json::json!({"kind": "organisation", "organisation_id": "x"}),
            ),
            (
                "schedule",
                serde_json::json!({"kind": "weekly", "slots": [], "hours_per_week": 2}),
            ),
            (
                "schedule",
                serde_json::json!({"kind": "on_date", "date": "2025-02-30"}),
            ),
            ("starts_on", serde_json::json!("next tuesday")),
            ("children_under_15", serde_json::json!("yes")),
        ];
        for (field, value) in bad_values {
            let mut payload = published().to_payload();
            payload[field] = value.clone();
            let result = NeedEvent::from_payload(NeedEvent::PUBLISHED_V1, &payload);
            assert!(
                matches!(&result, Err(EventDecodeError::Malformed { event_type, .. }) if event_type == NeedEvent::PUBLISHED_V1),
                "{field} = {value}: {result:?}"
            );
        }
        let bad_reason =
            serde_json::json!({"id": need_id(), "reason": "", "at": "2025-12-01T10:00:00Z"});
        assert!(matches!(
            NeedEvent::from_payload(NeedEvent::CLOSED_V1, &bad_reason),
            Err(EventDecodeError::Malformed { .. })
        ));
    }

    proptest! {
        #[test]
        fn published_and_updated_events_round_trip(details in arb_need_details(need_id())) {
            for event in [NeedEvent::Published(details.clone()), NeedEvent::Updated(details)] {
                let decoded = NeedEvent::from_payload(event.event_type(), &event.to_payload());
                prop_assert_eq!(decoded, Ok(event));
            }
        }

        #[test]
        fn any_event_round_trips(event in arb_need_event(need_id())) {
            let decoded = NeedEvent::from_payload(event.event_type(), &event.to_payload());
            prop_assert_eq!(decoded, Ok(event));
        }

        #[test]
        fn any_valid_details_are_published_as_is(details in arb_need_details(need_id())) {
            let command = NeedCommand::Publish { details: details.clone(), at: on_start(&details) };
            prop_assert_eq!(
                Need::decide(&NeedState::NotPosted, &command),
                Ok(vec![NeedEvent::Published(details)])
            );
        }

        #[test]
        fn an_open_need_takes_any_valid_details_of_its_own_as_is(
            before in arb_need_details(need_id()),
            after in arb_need_details(need_id()),
        ) {
            let after = NeedDetails { posted_by: before.posted_by, ..after };
            let state = Need::replay(&[NeedEvent::Published(before.clone())]);
            let command = NeedCommand::Update { details: after.clone(), at: on_start(&after) };
            let expected = if after == before { vec![] } else { vec![NeedEvent::Updated(after)] };
            prop_assert_eq!(Need::decide(&state, &command), Ok(expected));
        }
    }

    /// 10:00 on the day the need starts: a moment at which [`arb_need_details`] are valid.
    fn on_start(details: &NeedDetails) -> DateTime<Utc> {
        details
            .starts_on
            .and_hms_opt(10, 0, 0)
            .expect("a valid time")
            .and_utc()
    }
}
