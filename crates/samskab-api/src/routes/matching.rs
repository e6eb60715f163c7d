//! Matching: for a need, the volunteers who may do it (candidates), and for a volunteer, the
//! needs they may do (suggestions), ranked, each with the reasons for its score. Reads the matching read model (`matching.need`, `matching.volunteer`); the score is
//! `samskab_domain::ranking`'s, the distance `samskab-geo`'s.
//!
//! The hard rules are in the candidate query, so no ranking can break them: the need's
//! municipality's volunteers, and those of others who opted in to it
//! (`PUT /volunteers/{id}/municipalities`); active volunteers who consented to matching; a valid børneattest when
//! the need involves children under 15 (approved, and not expired on the need's first day or
//! today, whichever is later); available in one of the need's slots; not already in a live
//! (proposed, agreed, active or paused) match to the need; the need open and, when an
//! organisation posted it, the organisation active. Suggestions also leave out filled needs
//! (as many active matches as volunteers wanted); a filled need still has candidates, for a
//! coordinator who plans a replacement.

use axum::extract::State;
use chrono::{NaiveDate, Utc};
use samskab_domain::AvailabilitySlot;
use samskab_domain::calendar::danish_date;
use samskab_domain::ranking::{
    CandidateProfile, DEFAULT_TRAVEL_KM, NeedProfile, Weights, fit, score, slot_key, slots_on,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::ApiError;
use crate::read::{DIRECTORY, MATCHING, QueryParams, check_limit_of, wait_for};
use crate::routes::EntityId;
use crate::routes::matches::{ACTIVE_SQL, LIVE_SQL};
use crate::routes::municipalities::{weights_of, weights_of_each};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(candidates_for_need))
        .routes(routes!(suggestions_for_volunteer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// How many, best first (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

const DEFAULT_CANDIDATES: i64 = 20;
const MAX_CANDIDATES: i64 = 100;

impl CandidateQuery {
    /// The checked `limit`, once both read models it reads (needs and volunteers from matching,
    /// organisations from the directory) have reached `min_position`.
    async fn ready(&self, state: &AppState) -> Result<i64, ApiError> {
        let limit = check_limit_of(self.limit, DEFAULT_CANDIDATES, MAX_CANDIDATES)?;
        wait_for(state, MATCHING, self.min_position).await?;
        wait_for(state, DIRECTORY, self.min_position).await?;
        Ok(limit)
    }
}

/// One criterion of a candidate's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    /// skills_required, skills_nice_to_have, languages, distance, availability or interests
    pub criterion: String,
    pub label_da: String,
    pub label_en: String,
    /// The criterion is fully met (for distance: within reach).
    pub matched: bool,
    /// Points earned, out of `max_points`.
    pub points: f64,
    pub max_points: u32,
    pub detail: String,
}

/// A volunteer who may do the need, and why they rank where they do.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateView {
    pub volunteer_id: Uuid,
    /// The volunteer's own municipality: the need's, or another whose volunteer opted in to
    /// the need's (then reach them through it, or by their contact if they consented to it).
    pub municipality: String,
    /// How to reach the volunteer: to a caseworker always; to the organisation that posted the
    /// need only if the volunteer consented to contact from organisations (purpose `contact`).
    /// Otherwise null.
    pub contact: Option<CandidateContact>,
    /// Out of 100.
    pub score: f64,
    pub postcode: String,
    /// Between the volunteer's and the need's postcodes; null for remote work or an unknown
    /// postcode.
    pub distance_km: Option<f64>,
    pub reasons: Vec<ReasonView>,
}

/// A candidate's name and how to reach them (personal data: see `CandidateView::contact`).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CandidateContact {
    #[serde(skip)]
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The points per criterion the scores were computed with: the municipality's
/// (`PUT /municipalities/current/matching-weights`), or the installation's default.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeightsView {
    pub skills_required: u32,
    pub skills_nice_to_have: u32,
    pub languages: u32,
    pub distance: u32,
    pub availability: u32,
    pub interests: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateList {
    pub need_id: Uuid,
    pub weights: WeightsView,
    /// Best first; equal scores by volunteer id.
    pub candidates: Vec<CandidateView>,
}

#[derive(sqlx::FromRow)]
struct NeedRow {
    tenant: String,
    id: Uuid,
    title: String,
    status: String,
    organisation_id: Option<Uuid>,
    skills_required: Vec<String>,
    skills_nice_to_have: Vec<String>,
    languages: Vec<String>,
    target_groups: Vec<String>,
    postcode: Option<String>,
    schedule_date: Option<NaiveDate>,
    slots: Option<sqlx::types::Json<Vec<AvailabilitySlot>>>,
    starts_on: NaiveDate,
    children_under_15: bool,
}

#[derive(sqlx::FromRow)]
struct VolunteerRow {
    tenant: String,
    id: Uuid,
    postcode: String,
    skills: Vec<String>,
    languages: Vec<String>,
    target_groups: Vec<String>,
    slots: Vec<String>,
    /// How far they will travel; `None`: [`DEFAULT_TRAVEL_KM`].
    max_travel_km: Option<i32>,
}

impl VolunteerRow {
    fn travel_km(&self) -> f64 {
        self.max_travel_km.map_or(DEFAULT_TRAVEL_KM, f64::from)
    }
}

/// The volunteers who may do the need, best first, each with the reasons for their score.
#[utoipa::path(get, path = "/needs/{id}/candidates", tag = "matching",
    params(("id" = Uuid, Path), CandidateQuery),
    responses((status = 200, body = CandidateList),
        (status = 409, description = "The need is closed, or the organisation that posted it is deactivated.")),
    security(("bearer" = [])))]
async fn candidates_for_need(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(query): QueryParams<CandidateQuery>,
) -> Result<axum::Json<CandidateList>, ApiError> {
    let limit = query.ready(&state).await?;
    let tenant = principal.tenant.as_str();
    let need: NeedRow = sqlx::query_as(sqlx::AssertSqlSafe(need_sql()))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound)?;
    if need.status != "open" {
        return Err(ApiError::Conflict(
            "the need is closed: it has no candidates until it is reopened".into(),
        ));
    }
    if let Some(organisation) = need.organisation_id {
        let active: Option<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(organisation_sql()))
            .bind(tenant)
            .bind(organisation)
            .fetch_optional(&state.pool)
            .await?;
        if active == Some(false) {
            return Err(ApiError::Conflict(
                "the organisation that posted the need is deactivated: it has no candidates".into(),
            ));
        }
    }
    let certificate_day = certificate_day(&need);
    let children = need.children_under_15;
    let profile = need.profile();
    // Planned for these values each time (not prepared once): a generic plan of the two
    // branches read the other municipalities' branch by the slots index too, every volunteer
    // with the need's slots twice (100,000 volunteers: 40 ms in PostgreSQL, 18 ms planned).
    let rows: Vec<VolunteerRow> = sqlx::query_as(sqlx::AssertSqlSafe(candidates_sql()))
        .persistent(false)
        .bind(tenant)
        .bind(children)
        .bind(certificate_day)
        .bind(&profile.slots)
        .bind(id)
        .fetch_all(&state.pool)
        .await?;
    let weights = weights_of(&state, &principal).await?;
    // Every candidate is scored; only the best are explained.
    let scored = rows.into_iter().map(|v| {
        let travel_km = v.travel_km();
        let candidate = CandidateProfile {
            distance_km: distance(&profile, &v.postcode),
            skills: v.skills,
            languages: v.languages,
            target_groups: v.target_groups,
            slots: v.slots,
        };
        let score = score(&profile, &candidate, &weights, travel_km);
        (score, v.id, (v.tenant, v.postcode, candidate, travel_km))
    });
    let mut ranked: Vec<CandidateView> = best(scored, limit)
        .into_iter()
        .map(|(_, id, (municipality, postcode, candidate, travel_km))| {
            let (score, distance_km, reasons) =
                explained(&profile, &candidate, &weights, travel_km);
            CandidateView {
                volunteer_id: id,
                municipality,
                contact: None,
                score,
                postcode,
                distance_km,
                reasons,
            }
        })
        .collect();
    add_contacts(&state, &principal, &mut ranked).await?;
    Ok(axum::Json(CandidateList {
        need_id: id,
        weights: WeightsView::of(&weights),
        candidates: ranked,
    }))
}

/// Fills in each candidate's contact where the caller may see it: a caseworker always, an
/// organisation (whose own need this is, as `ownership.rs` checked) only where the volunteer
/// consented to contact from organisations; a volunteer of another municipality (who opted in
/// to the caller's) only where they consented to contact. From the directory, which the query
/// waited for.
async fn add_contacts(
    state: &AppState,
    principal: &Principal,
    ranked: &mut [CandidateView],
) -> Result<(), ApiError> {
    let only_consented = if principal.has(Role::Caseworker) {
        false
    } else if principal.organisation().is_some() {
        true
    } else {
        return Ok(());
    };
    let ids: Vec<Uuid> = ranked.iter().map(|c| c.volunteer_id).collect();
    let contacts: Vec<CandidateContact> = sqlx::query_as(sqlx::AssertSqlSafe(contacts_sql()))
        .bind(principal.tenant.as_str())
        .bind(&ids)
        .bind(only_consented)
        .fetch_all(&state.pool)
        .await?;
    let mut by_id: std::collections::HashMap<Uuid, CandidateContact> =
        contacts.into_iter().map(|c| (c.id, c)).collect();
    for candidate in ranked {
        candidate.contact = by_id.remove(&candidate.volunteer_id);
    }
    Ok(())
}

impl NeedRow {
    /// What the ranking reads of the need.
    fn profile(&self) -> NeedProfile {
        let slots = match (&self.slots, self.schedule_date) {
            (Some(slots), _) => slots.0.iter().map(slot_key).collect(),
            (None, Some(date)) => slots_on(date),
            (None, None) => Vec::new(),
        };
        NeedProfile {
            skills_required: self.skills_required.clone(),
            skills_nice_to_have: self.skills_nice_to_have.clone(),
            languages: self.languages.clone(),
            target_groups: self.target_groups.clone(),
            slots,
            postcode: self.postcode.clone(),
        }
    }
}

/// The day a børneattest must still be valid on: the need's first day, or today if it has
/// begun.
fn certificate_day(need: &NeedRow) -> NaiveDate {
    danish_date(Utc::now()).max(need.starts_on)
}

/// From the volunteer's postcode to the need's; `None` for remote work or an unknown postcode.
fn distance(need: &NeedProfile, postcode: &str) -> Option<f64> {
    need.postcode
        .as_deref()
        .and_then(|p| samskab_geo::distance_km(postcode, p))
}

/// The `limit` best of `scored` (score, id, what explains it), best first, equal scores by id:
/// a partial selection, so that ranking thousands costs little more than scoring them.
fn best<T>(scored: impl Iterator<Item = (f64, Uuid, T)>, limit: i64) -> Vec<(f64, Uuid, T)> {
    let keep = usize::try_from(limit).unwrap_or(usize::MAX).max(1);
    let order = |a: &(f64, Uuid, T), b: &(f64, Uuid, T)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let mut all: Vec<(f64, Uuid, T)> = scored.collect();
    if all.len() > keep {
        all.select_nth_unstable_by(keep, order);
        all.truncate(keep);
    }
    all.sort_by(order);
    all
}

/// The volunteer's fit to the need, explained: score, distance (rounded to tenths) and
/// reasons.
fn explained(
    need: &NeedProfile,
    candidate: &CandidateProfile,
    weights: &Weights,
    travel_km: f64,
) -> (f64, Option<f64>, Vec<ReasonView>) {
    let distance_km = candidate.distance_km;
    let fit = fit(need, candidate, weights, travel_km);
    let reasons = fit
        .reasons
        .into_iter()
        .map(|r| ReasonView {
            criterion: r.criterion.into(),
            label_da: r.label_da.into(),
            label_en: r.label_en.into(),
            matched: r.matched,
            points: r.points,
            max_points: r.max_points,
            detail: r.detail,
        })
        .collect();
    (
        fit.score,
        distance_km.map(|km| (km * 10.0).round() / 10.0),
        reasons,
    )
}

impl WeightsView {
    fn of(weights: &Weights) -> Self {
        WeightsView {
            skills_required: weights.skills_required,
            skills_nice_to_have: weights.skills_nice_to_have,
            languages: weights.languages,
            distance: weights.distance,
            availability: weights.availability,
            interests: weights.interests,
        }
    }
}

/// A need the volunteer may do, and why it ranks where it does.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    pub need_id: Uuid,
    /// The need's municipality: the volunteer's own, or another they opted in to.
    pub municipality: String,
    pub title: String,
    /// Out of 100.
    pub score: f64,
    /// Between the volunteer's and the need's postcodes; null for remote work or an unknown
    /// postcode.
    pub distance_km: Option<f64>,
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    pub volunteer_id: Uuid,
    pub weights: WeightsView,
    /// Best first; equal scores by need id.
    pub suggestions: Vec<SuggestionView>,
}

#[derive(sqlx::FromRow)]
struct MatchableRow {
    status: String,
    matching_consent: bool,
    /// `None` once blanked (withdrawn or forgotten).
    certificate_status: Option<String>,
    certificate_valid_until: Option<NaiveDate>,
    other_municipalities: Vec<String>,
    #[sqlx(flatten)]
    profile: VolunteerRow,
}

/// The open needs the volunteer may do, best first, each with the reasons for its score: the
/// same hard rules and scores as a need's candidates, seen from the volunteer.
#[utoipa::path(get, path = "/volunteers/{id}/suggestions", tag = "matching",
    params(("id" = Uuid, Path), CandidateQuery),
    responses((status = 200, body = SuggestionList),
        (status = 409, description = "The volunteer has not consented to matching, or withdrew all consent.")),
    security(("bearer" = [])))]
async fn suggestions_for_volunteer(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(query): QueryParams<CandidateQuery>,
) -> Result<axum::Json<SuggestionList>, ApiError> {
    let limit = query.ready(&state).await?;
    let tenant = principal.tenant.as_str();
    let volunteer: MatchableRow = sqlx::query_as(sqlx::AssertSqlSafe(volunteer_sql()))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound)?;
    if volunteer.status != "active" || !volunteer.matching_consent {
        return Err(ApiError::Conflict(
            "the volunteer has not consented to matching (or withdrew it): no suggestions".into(),
        ));
    }
    // Their own municipality's needs, and those of the others they opted in to, each ranked
    // by its own municipality's weights.
    let mut municipalities = volunteer.other_municipalities.clone();
    municipalities.push(tenant.to_owned());
    let needs: Vec<NeedRow> = sqlx::query_as(sqlx::AssertSqlSafe(open_needs_sql()))
        .bind(&municipalities)
        .bind(id)
        .fetch_all(&state.pool)
        .await?;
    let weights_by_tenant = weights_of_each(&state, &municipalities).await?;
    let weights = weights_by_tenant.get(tenant).copied().unwrap_or_default();
    let v = volunteer.profile;
    let travel_km = v.travel_km();
    // One profile of the volunteer, its distance set per need.
    let mut candidate = CandidateProfile {
        skills: v.skills,
        languages: v.languages,
        target_groups: v.target_groups,
        slots: v.slots,
        distance_km: None,
    };
    let matchable = needs
        .into_iter()
        .filter(|need| {
            // The candidate query's rules, for one volunteer: a valid børneattest where the
            // need involves children under 15, and one of the need's slots.
            !need.children_under_15
                || (volunteer.certificate_status.as_deref() == Some("approved")
                    && volunteer
                        .certificate_valid_until
                        .is_none_or(|until| until >= certificate_day(need)))
        })
        .filter_map(|need| {
            let profile = need.profile();
            if !profile.slots.iter().any(|s| candidate.slots.contains(s)) {
                return None;
            }
            candidate.distance_km = distance(&profile, &v.postcode);
            let weights = weights_by_tenant.get(&need.tenant).unwrap_or(&weights);
            let score = score(&profile, &candidate, weights, travel_km);
            let explain = (need.tenant, need.title, profile, candidate.distance_km);
            Some((score, need.id, explain))
        })
        .collect::<Vec<_>>();
    let ranked: Vec<SuggestionView> = best(matchable.into_iter(), limit)
        .into_iter()
        .map(
            |(_, need_id, (municipality, title, profile, distance_km))| {
                candidate.distance_km = distance_km;
                let weights = weights_by_tenant.get(&municipality).unwrap_or(&weights);
                let (score, distance_km, reasons) =
                    explained(&profile, &candidate, weights, travel_km);
                SuggestionView {
                    need_id,
                    municipality,
                    title,
                    score,
                    distance_km,
                    reasons,
                }
            },
        )
        .collect();
    Ok(axum::Json(SuggestionList {
        volunteer_id: id,
        weights: WeightsView::of(&weights),
        suggestions: ranked,
    }))
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /needs/{id}/candidates (need)", need_sql()),
        (
            "GET /needs/{id}/candidates (organisation)",
            organisation_sql(),
        ),
        ("GET /needs/{id}/candidates", candidates_sql()),
        ("GET /needs/{id}/candidates (contacts)", contacts_sql()),
        (
            "GET /volunteers/{id}/suggestions (volunteer)",
            volunteer_sql(),
        ),
        ("GET /volunteers/{id}/suggestions", open_needs_sql()),
    ]
}

const NEED_PROFILE_COLUMNS: &str = "tenant, id, title, status, organisation_id, skills_required, \
    skills_nice_to_have, languages, target_groups, postcode, schedule_date, slots, starts_on, \
    children_under_15";

fn need_sql() -> String {
    format!(
        "SELECT {NEED_PROFILE_COLUMNS} FROM {schema}.need WHERE tenant = $1 AND id = $2",
        schema = MATCHING.schema
    )
}

/// The open needs of the municipalities $1 (the volunteer's own and those they opted in to)
/// whose organisation, if one posted it, is active, that are not filled and to which the
/// volunteer ($2) is not matched already.
fn open_needs_sql() -> String {
    let columns = NEED_PROFILE_COLUMNS
        .split(", ")
        .map(|c| format!("n.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM {matching}.need n
     LEFT JOIN {directory}.organisation o ON o.tenant = n.tenant AND o.id = n.organisation_id
     WHERE n.tenant = ANY($1) AND n.status = 'open' AND (n.organisation_id IS NULL OR o.active IS NOT FALSE)
       AND NOT EXISTS (SELECT 1 FROM {matching}.match m
            WHERE m.tenant = n.tenant AND m.need_id = n.id AND m.volunteer_id = $2
              AND m.status IN {LIVE_SQL})
       AND (SELECT count(*) FROM {matching}.match m
            WHERE m.tenant = n.tenant AND m.need_id = n.id AND m.status IN {ACTIVE_SQL}) < n.volunteers_wanted",
        matching = MATCHING.schema,
        directory = DIRECTORY.schema
    )
}

fn volunteer_sql() -> String {
    format!(
        "SELECT status, matching_consent, certificate_status, certificate_valid_until,
            other_municipalities,
            tenant, id, postcode, skills, languages, target_groups, slots, max_travel_km
     FROM {schema}.volunteer WHERE tenant = $1 AND id = $2",
        schema = MATCHING.schema
    )
}

/// The name and contact of the volunteers $2 who are active (not withdrawn or forgotten: then
/// the columns are blank): of the municipality $1 if, when $3, they consented to contact; of
/// another municipality if they opted in to $1 and consented to contact.
fn contacts_sql() -> String {
    format!(
        "SELECT id, name, email, phone FROM {schema}.volunteer
     WHERE id = ANY($2) AND status = 'active' AND name IS NOT NULL
       AND ((tenant = $1 AND (NOT $3::bool OR 'contact' = ANY(purposes)))
         OR (tenant <> $1 AND $1 = ANY(other_municipalities) AND 'contact' = ANY(purposes)))",
        schema = DIRECTORY.schema
    )
}

fn organisation_sql() -> String {
    format!(
        "SELECT active FROM {schema}.organisation WHERE tenant = $1 AND id = $2",
        schema = DIRECTORY.schema
    )
}

/// The hard rules: the need's municipality ($1) or one the volunteer opted in to, active and
/// consenting to matching, a valid børneattest on $3 when the need involves children under 15
/// ($2), one of the need's slots ($4), and no live match to the need ($5) already (matches are
/// the need's municipality's).
fn candidates_sql() -> String {
    // Two branches, so that each has its index: the municipality's own volunteers
    // (`volunteer_matchable`), and those of others who chose it (`volunteer_matchable_elsewhere`,
    // GIN, which answers `@>` but not `= ANY`). One query with `OR` scanned every municipality's
    // volunteers (1,000,000 across 100: p95 41 ms before, 63 ms with the `OR`).
    format!(
        "SELECT tenant, id, postcode, skills, languages, target_groups, slots, max_travel_km
     FROM (SELECT * FROM {schema}.volunteer WHERE tenant = $1
           UNION ALL
           SELECT * FROM {schema}.volunteer
           WHERE other_municipalities @> ARRAY[$1::text] AND tenant <> $1) AS v
     WHERE status = 'active' AND matching_consent
       AND (NOT $2::bool OR (certificate_status = 'approved'
            AND (certificate_valid_until IS NULL OR certificate_valid_until >= $3::date)))
       AND slots && $4::text[]
       AND NOT EXISTS (SELECT 1 FROM {schema}.match m
            WHERE m.tenant = $1 AND m.need_id = $5 AND m.volunteer_id = v.id
              AND m.status IN {LIVE_SQL})",
        schema = MATCHING.schema
    )
}
