//! The request schemas' rules, from the domain's value types, so that what the document calls
//! valid is exactly what the API accepts (schemathesis checks both ways).
//!
//! Text fields are trimmed by the domain and then counted, so their patterns allow surrounding
//! whitespace and bound the trimmed text's length. `WS` is Rust's `char::is_whitespace` (what
//! `str::trim` removes) and `CC` its `char::is_control`, spelled out so that every regex
//! dialect reads them the same.
//!
//! Each `fn` here is used with `#[schema(schema_with = ...)]` on a field. Rules that span fields
//! (an e-mail or a phone number; a børneattest's dates by status) are in [`cross_field_rules`].

use samskab_domain::{
    AgeBand, ClosingReason, ConsentPurpose, DayPart, DeactivationReason, Email, MatchEndReason,
    MatchNote, MatchSide, Name, NeedDescription, NeedTitle, OrganisationKind, ProposedBy, Tag,
    TargetGroup, TenantId, WebhookUrl, Weekday,
};
use samskab_domain::{
    ApplicantKind, CriterionKey, GrantOutcome, GrantText, GrantTitle, Justification, LegalBasis,
    PoolKind,
};
use serde_json::{Value, json};
use utoipa::openapi::Schema;

use crate::openapi::merge;

const WS: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
const CC: &str = r"\x00-\x1F\x7F-\x9F";
/// Whitespace that is not a control character: what a query value may be padded with (a query
/// value with a control character is refused, see `read::QueryParams`).
const WS_QUERY: &str = r" \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Control characters but the line feed, for multi-line text.
const CC_BUT_LF: &str = r"\x00-\x09\x0B-\x1F\x7F-\x9F";

fn schema(value: Value) -> Schema {
    // The values are literals of this module; a test renders every one of them.
    serde_json::from_value(value).expect("a valid schema literal")
}

fn nullable(mut value: Value) -> Value {
    if let Some(t) = value.get("type").and_then(Value::as_str) {
        value["type"] = json!([t, "null"]);
    }
    value
}

/// Trimmed text of `min..=max` characters without control characters (but line feeds when
/// `multiline`), as `trimmed_text` in the domain checks it.
pub fn text_pattern(min: usize, max: usize, multiline: bool) -> String {
    padded(WS, &text_body(min, max, multiline))
}

/// `body`, with what `str::trim` removes allowed around it: `ws` is [`WS`] in a JSON body and
/// [`WS_QUERY`] in a query string (which refuses control characters).
fn padded(ws: &str, body: &str) -> String {
    format!("^[{ws}]*{body}[{ws}]*$")
}

fn text_body(min: usize, max: usize, multiline: bool) -> String {
    let edge = format!("[^{WS}{CC}]");
    let inner = if multiline {
        format!("[^{CC_BUT_LF}]")
    } else {
        format!("[^{CC}]")
    };
    if min <= 1 {
        format!("{edge}(?:{inner}{{0,{}}}{edge})?", max.saturating_sub(2))
    } else {
        format!(
            "{edge}{inner}{{{},{}}}{edge}",
            min - 2,
            max.saturating_sub(2)
        )
    }
}

fn text(min: usize, max: usize, multiline: bool, example: &str) -> Value {
    json!({
        "type": "string",
        "pattern": text_pattern(min, max, multiline),
        "examples": [example],
    })
}

fn enumeration<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    json!({ "type": "string", "enum": values.into_iter().collect::<Vec<_>>() })
}

pub fn name() -> Schema {
    schema(text(1, Name::MAX_CHARS, false, "Søren Ærø Østergård"))
}

pub fn name_or_null() -> Schema {
    schema(nullable(text(1, Name::MAX_CHARS, false, "Mette Hansen")))
}

fn email_value() -> Value {
    // One '@', a name before it, a domain of dot-separated labels after it, no whitespace.
    let part = format!("[^@{WS}{CC}]");
    let label = format!("[^@.{WS}{CC}]");
    json!({
        "type": "string",
        "maxLength": Email::MAX_CHARS,
        "pattern": padded(WS, &format!("{part}+@(?:{label}+\\.)+{label}+")),
        "examples": ["frivillig@example.dk"],
    })
}

pub fn email_or_null() -> Schema {
    schema(nullable(email_value()))
}

pub fn phone_or_null() -> Schema {
    // 8 to 15 digits, spaces between them, an optional leading '+'.
    schema(nullable(json!({
        "type": "string",
        "pattern": padded(WS, "\\+?[ ]*(?:[0-9][ ]*){8,15}"),
        "examples": ["+45 20 30 40 50"],
    })))
}

/// A webhook endpoint's URL, as `WebhookUrl::parse` takes it.
pub fn webhook_url() -> Schema {
    let path = regex_class(WebhookUrl::PATH_CHARS);
    schema(json!({
        "type": "string",
        "pattern": padded(WS, &format!(
            "https?://[A-Za-z0-9.-]{{1,{host}}}(?::[0-9]{{1,5}})?(?:[/?][A-Za-z0-9{path}]{{0,{rest}}})?",
            host = WebhookUrl::MAX_HOST,
            rest = WebhookUrl::MAX_PATH - 1,
        )),
        "examples": ["https://hooks.example.dk/samskab"],
    }))
}

/// `chars` inside a character class: those that mean something there escaped, the rest as
/// they are (an escaped `~` or `'` is an error in ECMA-262's Unicode mode).
fn regex_class(chars: &str) -> String {
    chars
        .chars()
        .map(|c| match c {
            '-' | '[' | ']' | '\\' | '^' => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect()
}

/// Danish postcodes, 0800 to 9990.
pub const POSTCODE_PATTERN: &str =
    "(?:0[89][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|9990)";

pub fn postcode() -> Schema {
    schema(json!({
        "type": "string",
        "pattern": padded(WS, POSTCODE_PATTERN),
        "examples": ["2610"],
    }))
}

/// As a query parameter.
pub fn postcode_query() -> Schema {
    schema(nullable(json!({
        "type": "string",
        "pattern": padded(WS_QUERY, POSTCODE_PATTERN),
    })))
}

fn tag_value() -> Value {
    text(1, Tag::MAX_CHARS, false, "lektiehjælp")
}

pub fn tags() -> Schema {
    schema(json!({
        "type": "array",
        "items": tag_value(),
        "maxItems": Tag::MAX_PER_LIST,
        "examples": [["lektiehjælp", "tømrer"]],
    }))
}

/// As a query parameter.
pub fn tag_query() -> Schema {
    let tag = padded(WS_QUERY, &text_body(1, Tag::MAX_CHARS, false));
    schema(nullable(json!({ "type": "string", "pattern": tag })))
}

/// Any text without control characters, as a query parameter (see `read::QueryParams`).
pub fn query_text_or_null() -> Schema {
    schema(json!({ "type": ["string", "null"], "pattern": format!("^[^{CC}]*$") }))
}

/// One of `values`, or null (for a query filter over a read model's own states).
pub fn enum_or_null(values: &[&str]) -> Schema {
    schema(nullable(enumeration(values.iter().copied())))
}

pub fn languages() -> Schema {
    schema(json!({
        "type": "array",
        "description": "ISO 639-1 codes.",
        "items": { "type": "string", "pattern": padded(WS, "[A-Za-z]{2}") },
        "maxItems": samskab_domain::VolunteerProfile::MAX_LANGUAGES,
        "examples": [["da", "uk"]],
    }))
}

pub fn age_band_or_null() -> Schema {
    schema(nullable(enumeration(
        AgeBand::ALL.iter().map(|a| a.as_str()),
    )))
}

pub fn birth_year_or_null() -> Schema {
    // Within the last 120 years and not in the future, counted from the year the document was
    // made (the server counts from today).
    let this_year =
        chrono::Datelike::year(&samskab_domain::calendar::danish_date(chrono::Utc::now()));
    schema(json!({
        "type": ["integer", "null"],
        "minimum": this_year - samskab_domain::volunteer::OLDEST_AGE,
        "maximum": this_year,
        "examples": [1961],
    }))
}

pub fn travel_km_or_null() -> Schema {
    schema(json!({
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": samskab_domain::TravelKm::MAX,
        "examples": [30],
    }))
}

pub fn target_groups() -> Schema {
    schema(json!({
        "type": "array",
        "items": enumeration(TargetGroup::ALL.iter().map(|t| t.as_str())),
    }))
}

pub fn target_group_or_null() -> Schema {
    schema(nullable(enumeration(
        TargetGroup::ALL.iter().map(|t| t.as_str()),
    )))
}

pub fn weekday() -> Schema {
    schema(enumeration(Weekday::ALL.iter().map(|w| w.as_str())))
}

pub fn day_part() -> Schema {
    schema(enumeration(DayPart::ALL.iter().map(|d| d.as_str())))
}

/// A børneattest's assessment: `approved` or `not_approved`.
pub fn certificate_result() -> Schema {
    schema(enumeration(CERTIFICATE_RESULTS))
}

pub const CERTIFICATE_RESULTS: [&str; 2] = ["approved", "not_approved"];

pub fn consent_purpose() -> Schema {
    schema(text(
        3,
        ConsentPurpose::MAX_CHARS,
        true,
        "Matching med lokale frivilligopgaver i Rødovre Kommune",
    ))
}

pub fn organisation_kind() -> Schema {
    schema(enumeration(
        OrganisationKind::ALL.iter().map(|k| k.as_str()),
    ))
}

/// A message language: `da` or `en`.
pub fn message_language() -> Schema {
    schema(enumeration(
        samskab_domain::MessageLanguage::ALL
            .iter()
            .map(|l| l.as_str()),
    ))
}

/// When mail goes: `immediate` or `daily_digest`.
pub fn mail_cadence() -> Schema {
    schema(enumeration(
        samskab_domain::MailCadence::ALL.iter().map(|c| c.as_str()),
    ))
}

pub fn person_kind() -> Schema {
    schema(enumeration(
        samskab_domain::PersonKind::ALL.iter().map(|k| k.as_str()),
    ))
}

pub fn person_kind_or_null() -> Schema {
    schema(nullable(enumeration(
        samskab_domain::PersonKind::ALL.iter().map(|k| k.as_str()),
    )))
}

pub fn organisation_kind_or_null() -> Schema {
    schema(nullable(enumeration(
        OrganisationKind::ALL.iter().map(|k| k.as_str()),
    )))
}

/// A CVR number: 8 digits whose modulus-11 check holds. The check is not a pattern; the format
/// `dk-cvr` names it (and the contract test generates valid numbers for it).
pub fn cvr_or_null() -> Schema {
    schema(cvr(WS))
}

/// As a query parameter.
pub fn cvr_query() -> Schema {
    schema(cvr(WS_QUERY))
}

fn cvr(ws: &str) -> Value {
    json!({
        "type": ["string", "null"],
        "format": "dk-cvr",
        "description": "8 digits with a valid modulus-11 check (weights 2,7,6,5,4,3,2,1); \
            absent for informal groups, required for companies and public bodies.",
        "pattern": padded(ws, "[0-9]{8}"),
        "examples": ["24256790"],
    })
}

/// A reason that may be left blank (or null): then there is none.
fn blank_or_reason(max: usize) -> Schema {
    let reason = text_pattern(1, max, true);
    schema(json!({
        "type": ["string", "null"],
        "pattern": format!("(?:^[{WS}]*$)|(?:{reason})"),
    }))
}

pub fn deactivation_reason_or_null() -> Schema {
    blank_or_reason(DeactivationReason::MAX_CHARS)
}

// --- grants ---------------------------------------------------------------------------------

pub fn grant_title() -> Schema {
    schema(text(1, GrantTitle::MAX_CHARS, false, "§18-puljen 2026"))
}

/// An optional title: absent, null or blank is none.
pub fn grant_title_or_null() -> Schema {
    let title = text_pattern(1, GrantTitle::MAX_CHARS, false);
    schema(json!({
        "type": ["string", "null"],
        "pattern": format!("(?:^[{WS}]*$)|(?:{title})"),
    }))
}

pub fn grant_text() -> Schema {
    schema(text(
        1,
        GrantText::MAX_CHARS,
        true,
        "Lektiehjælp to eftermiddage om ugen i Islev.",
    ))
}

pub fn grant_text_or_null() -> Schema {
    blank_or_reason(GrantText::MAX_CHARS)
}

pub fn justification() -> Schema {
    schema(text(
        1,
        Justification::MAX_CHARS,
        true,
        "Puljen er søgt for mere, end den rummer.",
    ))
}

pub fn justification_or_null() -> Schema {
    blank_or_reason(Justification::MAX_CHARS)
}

pub fn legal_basis() -> Schema {
    schema(enumeration(LegalBasis::ALL.iter().map(|k| k.as_str())))
}

pub fn pool_kind() -> Schema {
    schema(enumeration(PoolKind::ALL.iter().map(|k| k.as_str())))
}

pub fn applicant_kind() -> Schema {
    schema(enumeration(ApplicantKind::ALL.iter().map(|k| k.as_str())))
}

pub fn applicant_kinds() -> Schema {
    schema(json!({
        "type": "array",
        "items": enumeration(ApplicantKind::ALL.iter().map(|k| k.as_str())),
        "minItems": 1,
        "maxItems": ApplicantKind::ALL.len(),
        "uniqueItems": true,
    }))
}

pub fn grant_outcome() -> Schema {
    schema(enumeration(GrantOutcome::ALL.iter().map(|k| k.as_str())))
}

pub fn criterion_key() -> Schema {
    schema(json!({
        "type": "string",
        "pattern": format!("^[a-z0-9-]{{1,{}}}$", CriterionKey::MAX_CHARS),
        "examples": ["reach"],
    }))
}

/// A report's period: a year, a quarter or a month (`samskab_domain::calendar::Period`).
pub fn period_or_null() -> Schema {
    schema(nullable(json!({
        "type": "string",
        "pattern": "^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
        "examples": ["2026", "2026-Q4", "2026-11"],
    })))
}

/// A report's format.
pub fn report_format_or_null() -> Schema {
    schema(nullable(enumeration(["json", "csv"])))
}

pub fn audit_format_or_null() -> Schema {
    schema(nullable(enumeration(["json", "csv", "html"])))
}

pub fn grant_status_or_null() -> Schema {
    schema(nullable(enumeration(GRANT_STATUSES)))
}

/// Where a grant case stands (`grants.application.status`).
pub const GRANT_STATUSES: [&str; 6] = [
    "draft",
    "submitted",
    "proposed",
    "decided",
    "reopened",
    "withdrawn",
];

pub fn need_title() -> Schema {
    schema(text(
        1,
        NeedTitle::MAX_CHARS,
        false,
        "Lektiehjælp til ukrainske børn",
    ))
}

pub fn need_description() -> Schema {
    schema(text(
        1,
        NeedDescription::MAX_CHARS,
        true,
        "Hjælp skolebørn med lektierne tirsdag eftermiddag på biblioteket.",
    ))
}

pub fn closing_reason_or_null() -> Schema {
    blank_or_reason(ClosingReason::MAX_CHARS)
}

pub fn postcode_or_null() -> Schema {
    schema(nullable(json!({
        "type": "string",
        "pattern": padded(WS, POSTCODE_PATTERN),
        "examples": ["2610"],
    })))
}

pub fn proposed_by() -> Schema {
    schema(enumeration(ProposedBy::ALL.iter().map(|p| p.as_str())))
}

pub fn match_side() -> Schema {
    schema(enumeration(MatchSide::ALL.iter().map(|s| s.as_str())))
}

pub fn match_end_reason() -> Schema {
    schema(enumeration(MatchEndReason::ALL.iter().map(|r| r.as_str())))
}

/// A match's note, or why a side declined or paused it: blank or null for none.
pub fn match_note_or_null() -> Schema {
    blank_or_reason(MatchNote::MAX_CHARS)
}

/// A calendar month, `YYYY-MM`, in 1900 or later (`YearMonth::parse`).
pub fn year_month() -> Schema {
    schema(json!({
        "type": "string",
        "pattern": YEAR_MONTH_PATTERN,
        "examples": ["2026-11"],
    }))
}

const YEAR_MONTH_PATTERN: &str = "^(?:19[0-9]{2}|[2-9][0-9]{3})-(?:0[1-9]|1[0-2])$";

pub fn tenant_slug() -> Schema {
    schema(tenant_slug_value())
}

pub fn tenant_slug_or_null() -> Schema {
    schema(nullable(tenant_slug_value()))
}

fn tenant_slug_value() -> Value {
    json!({
        "type": "string",
        "description": "The tenant key: lowercase letters, digits and '-', not at either end; \
            `platform` is reserved.",
        "pattern": format!("^[a-z0-9](?:[a-z0-9-]{{0,{}}}[a-z0-9])?$", TenantId::MAX_LEN - 2),
        "examples": ["rodovre"],
    })
}

/// A list of municipalities (tenant keys), each once; at most the number a volunteer may choose.
pub fn tenant_slugs() -> Schema {
    let mut item = tenant_slug_value();
    item["examples"] = json!(["hvidovre"]);
    schema(json!({
        "type": "array",
        "items": item,
        "maxItems": samskab_domain::volunteer::MAX_OTHER_MUNICIPALITIES,
        "examples": [["hvidovre", "glostrup"]],
    }))
}

/// Where one Rust input type serves both creating and changing an entity, the document says
/// exactly what each takes: a field only a creation has (which the update refuses).
struct Variants {
    input: &'static str,
    create: &'static str,
    update: &'static str,
    create_op: &'static str,
    update_op: &'static str,
    only_on_create: &'static str,
    /// The creation requires the field, as this component (not null).
    required_as: Option<&'static str>,
    create_says: &'static str,
    update_says: &'static str,
}

const VARIANTS: [Variants; 3] = [
    // Registering requires consent; an update takes none (withdrawn by its own command).
    Variants {
        input: "VolunteerInput",
        create: "VolunteerRegistration",
        update: "VolunteerUpdate",
        create_op: "/paths/~1volunteers/post",
        update_op: "/paths/~1volunteers~1{id}/put",
        only_on_create: "consent",
        required_as: Some("ConsentInput"),
        create_says: "A new volunteer: profile, personal data (kept apart in the log) and consent.",
        update_says: "A volunteer's profile and personal data, replacing the current ones. Consent \
            is not changed here: withdraw it with its own command.",
    },
    // Who posted a need is set when it is published and never changes.
    Variants {
        input: "NeedInput",
        create: "NeedPublication",
        update: "NeedUpdate",
        create_op: "/paths/~1needs/post",
        update_op: "/paths/~1needs~1{id}/put",
        only_on_create: "organisation_id",
        required_as: None,
        create_says: "A new need, posted by the municipality or (with `organisation_id`) one of \
            its organisations.",
        update_says: "A need's details, replacing the current ones. Who posted it does not \
            change: `organisation_id` is not taken here.",
    },
    // Who looks after a person is set when they are registered and never changes.
    Variants {
        input: "PersonInput",
        create: "PersonRegistration",
        update: "PersonUpdate",
        create_op: "/paths/~1persons/post",
        update_op: "/paths/~1persons~1{id}/put",
        only_on_create: "organisation_id",
        required_as: None,
        create_says: "A new person (a mentee, a family), registered for the municipality or \
            (with `organisation_id`) one of its organisations, which then looks after them.",
        update_says: "A person's record, replacing the current one. Who looks after them does \
            not change: `organisation_id` is not taken here.",
    },
];

/// Splits each input of [`VARIANTS`] into its creation and its update schema. Called with the
/// whole document.
pub fn request_variants(doc: &mut Value) {
    for v in &VARIANTS {
        let Some(input) = doc
            .pointer(&format!("/components/schemas/{}", v.input))
            .cloned()
        else {
            continue;
        };
        let mut create = input.clone();
        if let Some(component) = v.required_as {
            create["properties"][v.only_on_create] =
                json!({ "$ref": format!("#/components/schemas/{component}") });
            if let Some(required) = create["required"].as_array_mut() {
                required.push(json!(v.only_on_create));
            }
        }
        create["description"] = json!(v.create_says);
        let mut update = input;
        if let Some(properties) = update["properties"].as_object_mut() {
            properties.remove(v.only_on_create);
        }
        update["description"] = json!(v.update_says);
        if let Some(schemas) = doc.pointer_mut("/components/schemas") {
            schemas[v.create] = create;
            schemas[v.update] = update;
        }
        for (pointer, name) in [(v.create_op, v.create), (v.update_op, v.update)] {
            if let Some(body) = doc
                .pointer_mut(pointer)
                .and_then(|op| op.pointer_mut("/requestBody/content/application~1json/schema"))
            {
                *body = json!({ "$ref": format!("#/components/schemas/{name}") });
            }
        }
    }
}

/// Rules over several fields of a request schema, added to the generated components.
pub fn cross_field_rules(schemas: &mut Value) {
    let one_of_present = |a: &str, b: &str| {
        json!({ "anyOf": [
            { "required": [a], "properties": { a: { "not": { "type": "null" } } } },
            { "required": [b], "properties": { b: { "not": { "type": "null" } } } },
        ]})
    };
    let present = |field: &str| json!({ "required": [field], "properties": { field: { "not": { "type": "null" } } } });
    // A way to reach the person (the domain's `Contact`).
    let mut volunteer = one_of_present("email", "phone");
    // An age band, or a birth year to derive it from.
    let age = one_of_present("age_band", "birth_year");
    volunteer = json!({ "allOf": [volunteer, age] });
    if let Some(s) = schemas.get_mut("VolunteerInput") {
        merge(s, volunteer);
    }
    // Companies and public bodies are always in CVR: they need a CVR number.
    let without_cvr: Vec<&str> = OrganisationKind::ALL
        .iter()
        .filter(|k| !k.requires_cvr())
        .map(|k| k.as_str())
        .collect();
    let cvr_by_kind = json!({ "anyOf": [
        { "properties": { "kind": { "enum": without_cvr } } },
        present("cvr"),
    ]});
    if let Some(s) = schemas.get_mut("OrganisationInput") {
        merge(
            s,
            json!({ "allOf": [one_of_present("email", "phone"), cvr_by_kind] }),
        );
    }
    let absent = |field: &str| json!({ "not": { "required": [field] } });
    let absent_or_null = |field: &str| json!({ "anyOf": [absent(field), { "properties": { field: { "type": "null" } } }] });
    // An approved børneattest says when it must be renewed; one not approved says nothing of it.
    let by_result = json!({ "oneOf": [
        { "properties": { "result": { "const": "approved" } }, "allOf": [present("valid_until")] },
        { "properties": { "result": { "const": "not_approved" } }, "allOf": [absent_or_null("valid_until")] },
    ]});
    if let Some(s) = schemas.get_mut("CertificateAssessmentInput") {
        merge(s, by_result);
    }
    // At least one matching criterion counts.
    let criteria = [
        "skills_required",
        "skills_nice_to_have",
        "languages",
        "distance",
        "availability",
        "interests",
    ];
    let counts: Vec<Value> = criteria
        .iter()
        .map(|c| json!({ "properties": { *c: { "minimum": 1 } } }))
        .collect();
    let one_counts = json!({ "anyOf": counts });
    if let Some(s) = schemas.get_mut("WeightsInput") {
        merge(s, one_counts);
    }
    // A need happens once, on a date, or weekly: one of the two.
    let date_or_weekly = json!({ "oneOf": [
        { "allOf": [present("date"), absent_or_null("weekly")] },
        { "allOf": [present("weekly"), absent_or_null("date")] },
    ]});
    if let Some(s) = schemas.get_mut("NeedInput") {
        merge(s, date_or_weekly);
    }
    // A match pairs the volunteer with a need or with a person: one of the two.
    let need_or_person = json!({ "oneOf": [
        { "allOf": [present("need_id"), absent_or_null("person_id")] },
        { "allOf": [present("person_id"), absent_or_null("need_id")] },
    ]});
    if let Some(s) = schemas.get_mut("MatchProposalInput") {
        merge(s, need_or_person);
    }
    // A conflict of interest is with an organisation or with an application: one of the two.
    let organisation_or_application = json!({ "oneOf": [
        { "allOf": [present("organisation_id"), absent_or_null("application_id")] },
        { "allOf": [present("application_id"), absent_or_null("organisation_id")] },
    ]});
    if let Some(s) = schemas.get_mut("ConflictInput") {
        merge(s, organisation_or_application);
    }
}

#[cfg(test)]
mod tests {
    //! Each pattern must say exactly what the domain's `parse` says, for any text: a pattern
    //! looser than the domain makes clients send what we refuse, a stricter one makes them
    //! refuse what we take. Rust's regex reads `\xNN`, `\uNNNN` and `$` as ECMA-262 does.

    use super::*;
    use proptest::prelude::*;
    use samskab_domain::{ConsentPurpose, Cvr, LanguageCode, Phone, Postcode, TenantId, YearMonth};

    fn pattern_of(schema: Schema) -> regex::Regex {
        let value = serde_json::to_value(schema).expect("a schema serialises");
        let pattern = value
            .pointer("/pattern")
            .or_else(|| value.pointer("/items/pattern"))
            .and_then(Value::as_str)
            .expect("a pattern");
        regex::Regex::new(pattern).expect("the pattern compiles")
    }

    /// Text from characters that sit on the rules' edges: letters, spaces of several kinds,
    /// line breaks, control characters, '@', '.', '+', digits.
    fn edgy_text(max: usize) -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec![
            'a', 'Æ', 'ø', 'Д', '1', '0', '9', ' ', ' ', ' ', '\t', '\n', '\r', '\u{3000}',
            '\u{85}', '\u{a0}', '\u{0}', '\u{7f}', '\u{9f}', '\u{feff}', '\u{2028}', '@', '.', '+',
            '-', 'İ',
        ]);
        prop::collection::vec(chars, 0..=max).prop_map(String::from_iter)
    }

    /// Long runs of a letter with edges from `edgy_text`, to land on the length limits.
    fn near_length(limit: usize) -> impl Strategy<Value = String> {
        (edgy_text(3), limit - 3..=limit + 2, edgy_text(3))
            .prop_map(|(head, n, tail)| format!("{head}{}{tail}", "x".repeat(n)))
    }

    fn agree(schema: Schema, text: &str, accepted: bool) -> Result<(), TestCaseError> {
        let matched = pattern_of(schema).is_match(text);
        prop_assert_eq!(
            matched,
            accepted,
            "pattern and domain disagree on {:?}",
            text
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn names(text in prop_oneof![edgy_text(12), near_length(Name::MAX_CHARS)]) {
            agree(name(), &text, Name::parse(&text).is_ok())?;
        }

        #[test]
        fn tags_and_skill_filters(text in prop_oneof![edgy_text(12), near_length(Tag::MAX_CHARS)]) {
            agree(tags(), &text, Tag::parse(&text).is_ok())?;
            let in_query = Tag::parse(&text).is_ok() && !text.chars().any(char::is_control);
            agree(tag_query(), &text, in_query)?;
        }

        #[test]
        fn consent_purposes(text in prop_oneof![edgy_text(8), near_length(ConsentPurpose::MAX_CHARS)]) {
            agree(consent_purpose(), &text, ConsentPurpose::parse(&text).is_ok())?;
        }

        #[test]
        fn deactivation_reasons(text in prop_oneof![edgy_text(8), near_length(DeactivationReason::MAX_CHARS)]) {
            let accepted = DeactivationReason::parse_optional(Some(&text)).is_ok();
            agree(deactivation_reason_or_null(), &text, accepted)?;
        }

        #[test]
        fn emails(text in prop_oneof![edgy_text(12), near_length(Email::MAX_CHARS)]) {
            // maxLength (254, as sent) is beside the pattern; the domain counts as sent too.
            let pattern_ok = pattern_of(email_or_null()).is_match(&text);
            let length_ok = text.chars().count() <= Email::MAX_CHARS;
            prop_assert_eq!(pattern_ok && length_ok, Email::parse(&text).is_ok(), "{:?}", text);
        }

        #[test]
        fn webhook_urls(text in prop_oneof![
            edgy_text(8).prop_map(|t| format!("https://{t}")),
            (edgy_text(3), "[a-z0-9.:/?#@%-]{0,12}", edgy_text(3))
                .prop_map(|(a, u, b)| format!("{a}http://{u}{b}")),
            (1usize..8).prop_map(|n| format!("https://x.dk/{}", "p".repeat(WebhookUrl::MAX_PATH - 4 + n))),
        ]) {
            agree(webhook_url(), &text, WebhookUrl::parse(&text).is_ok())?;
        }

        #[test]
        fn phones(text in edgy_text(20)) {
            agree(phone_or_null(), &text, Phone::parse(&text).is_ok())?;
        }

        #[test]
        fn postcodes(n in 0u32..10_000, pad in edgy_text(2)) {
            let text = format!("{pad}{n:04}{pad}");
            agree(postcode(), &text, Postcode::parse(&text).is_ok())?;
            let in_query = Postcode::parse(&text).is_ok() && !text.chars().any(char::is_control);
            agree(postcode_query(), &text, in_query)?;
        }

        #[test]
        fn languages_(text in edgy_text(4)) {
            agree(languages(), &text, LanguageCode::parse(&text).is_ok())?;
        }

        #[test]
        fn cvr_digits(n in 0u32..100_000_000, pad in edgy_text(2)) {
            // The pattern says 8 digits; the check digit is the format's (`dk-cvr`).
            let text = format!("{pad}{n:08}{pad}");
            let eight_digits = text.trim().len() == 8;
            agree(cvr_or_null(), &text, eight_digits)?;
            if pattern_of(cvr_or_null()).is_match(&text) && Cvr::parse(&text).is_err() {
                prop_assert!(Cvr::parse(&text).is_err_and(|e| e.0.contains("check digit")));
            }
        }

        #[test]
        fn match_notes(text in prop_oneof![edgy_text(8), near_length(MatchNote::MAX_CHARS)]) {
            let accepted = MatchNote::parse_optional(Some(&text)).is_ok();
            agree(match_note_or_null(), &text, accepted)?;
        }

        #[test]
        fn months(text in prop_oneof![edgy_text(7), "[0-9]{3,5}-[0-9]{1,3}", "1[89][0-9]{2}-[01][0-9]"]) {
            agree(year_month(), &text, YearMonth::parse(&text).is_ok())?;
        }

        #[test]
        fn tenant_slugs(text in prop_oneof![edgy_text(6), "[a-z0-9-]{0,42}"]) {
            agree(tenant_slug(), &text, TenantId::parse(&text).is_ok())?;
        }
    }

    #[test]
    fn every_schema_literal_is_a_schema() {
        for f in [
            grant_title,
            grant_title_or_null,
            grant_text,
            grant_text_or_null,
            justification,
            justification_or_null,
            legal_basis,
            pool_kind,
            applicant_kind,
            applicant_kinds,
            grant_outcome,
            criterion_key,
            grant_status_or_null,
            audit_format_or_null,
            name,
            name_or_null,
            email_or_null,
            phone_or_null,
            postcode,
            postcode_query,
            tags,
            tag_query,
            languages,
            age_band_or_null,
            birth_year_or_null,
            target_groups,
            target_group_or_null,
            weekday,
            day_part,
            certificate_result,
            consent_purpose,
            organisation_kind,
            organisation_kind_or_null,
            cvr_or_null,
            cvr_query,
            deactivation_reason_or_null,
            tenant_slug,
            query_text_or_null,
            proposed_by,
            match_side,
            match_end_reason,
            match_note_or_null,
            year_month,
        ] {
            let _ = f();
        }
    }
}
