//! Exports of the audit trail (`samskab-audit-worker`): one grant case, or a pool's year, as
//! it stood at any instant, for auditors and for access-to-records requests (aktindsigt). Each
//! carries the records, the chain links up to the municipality's head as of then, and a
//! signature with the installation's Ed25519 key over that head, the export's scope and every
//! link (format `samskab.audit.export.v2`), so `deploy/audit/verify_export.py` (Python,
//! standard library only) checks it without samskab. No record holds a person's data: the
//! chain is built without the payloads' `personal` member.
//!
//! The chain's format is the audit crate's to define, so these handlers call its export and
//! renderers rather than reading its tables themselves: the one exception to "the API depends
//! on no worker crate" (ARCHITECTURE.md, code map).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use samskab_audit_worker::{Export, ExportError, export_case, export_pool_year};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Principal;
use crate::problem::ApiError;
use crate::read::{AUDIT, QueryParams, as_of_instant as instant, bad_query, wait_for};
use crate::routes::EntityId;
use crate::routes::grant_pools::YEARS;
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(case_audit))
        .routes(routes!(pool_year_audit))
}

/// An export as JSON: what `deploy/audit/verify_export.py` reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditExport {
    /// `samskab.audit.export.v2`
    pub format: String,
    /// What it is of: `{"kind": "case", "application_id"}` or `{"kind": "pool_year", "pool_id",
    /// "year"}`.
    #[schema(value_type = Object)]
    pub scope: serde_json::Value,
    /// The records, each with its `seq`, `prev_hash` and `hash` (see ARCHITECTURE.md, "The
    /// audit trail", for what is hashed).
    #[schema(value_type = Vec<Object>)]
    pub records: serde_json::Value,
    /// `seq`, `prev_hash` and `hash` of every record of the municipality from the first
    /// exported one up to the head.
    #[schema(value_type = Vec<Object>)]
    pub links: serde_json::Value,
    /// `{tenant, seq, hash, as_of}`: the municipality's chain as of the export's instant.
    #[schema(value_type = Object)]
    pub head: serde_json::Value,
    /// `{algorithm: "Ed25519", public_key, value}` over the canonical JSON of the statement
    /// `{as_of, format, hash, links_digest, scope, seq, tenant}`: the head's members, the
    /// format, the scope, and the SHA-256 (hex) of the canonical JSON of `links`.
    #[schema(value_type = Object)]
    pub signature: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseAuditQuery {
    /// The case as it stood at this instant (RFC 3339, in 2000 to 2100); absent: now.
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (the default), `csv` or `html` (a printable case file).
    #[param(schema_with = schema::audit_format_or_null)]
    pub format: Option<String>,
    /// Wait until the audit trail reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PoolYearAuditQuery {
    /// The budget year.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: u16,
    /// The pool-year as it stood at this instant (RFC 3339, in 2000 to 2100); absent: now.
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (the default), `csv` or `html`.
    #[param(schema_with = schema::audit_format_or_null)]
    pub format: Option<String>,
    /// Wait until the audit trail reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

#[derive(Clone, Copy)]
enum Format {
    Json,
    Csv,
    Html,
}

fn format_of(format: Option<&str>) -> Result<Format, ApiError> {
    match format {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some("html") => Ok(Format::Html),
        Some(_) => Err(bad_query("format", "must be one of: json, csv, html")),
    }
}

fn signer(state: &AppState) -> Result<&samskab_audit_worker::Signer, ApiError> {
    state.audit_signer.as_deref().ok_or_else(|| {
        ApiError::Unavailable(
            "no audit signing key is configured (SAMSKAB_AUDIT_SIGNING_KEY)".into(),
        )
    })
}

fn export_error(error: ExportError) -> ApiError {
    match error {
        ExportError::Database(e) => e.into(),
        other => ApiError::Internal(other.into()),
    }
}

fn rendered(export: &Export, format: Format, name: &str) -> Response {
    match format {
        // The JSON of `to_json`, written straight to text (the same value, faster).
        Format::Json => (
            [(header::CONTENT_TYPE, "application/json")],
            samskab_audit_worker::to_json_text(export),
        )
            .into_response(),
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            samskab_audit_worker::to_csv(export),
        )
            .into_response(),
        Format::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            samskab_audit_worker::to_html(export),
        )
            .into_response(),
    }
}

/// The audit trail of one grant case as it stood at `as_of`, signed.
#[utoipa::path(get, path = "/grant-applications/{id}/audit", tag = "grants",
    params(("id" = Uuid, Path), CaseAuditQuery),
    responses((status = 200, description = "The export",
        content((AuditExport = "application/json"), (String = "text/csv"), (String = "text/html")))),
    security(("bearer" = [])))]
async fn case_audit(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(query): QueryParams<CaseAuditQuery>,
) -> Result<Response, ApiError> {
    let format = format_of(query.format.as_deref())?;
    let as_of = instant(query.as_of)?;
    let signer = signer(&state)?;
    wait_for(&state, AUDIT, query.min_position).await?;
    let export = export_case(&state.pool, principal.tenant.as_str(), id, as_of, signer)
        .await
        .map_err(export_error)?;
    if export.records.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(rendered(&export, format, &format!("sag-{id}")))
}

/// The audit trail of a pool's year as it stood at `as_of`, signed: the pool's own records
/// of the year and every record of the applications decided from (or, undecided, submitted
/// in) that year.
#[utoipa::path(get, path = "/grant-pools/{id}/audit", tag = "grants",
    params(("id" = Uuid, Path), PoolYearAuditQuery),
    responses((status = 200, description = "The export",
        content((AuditExport = "application/json"), (String = "text/csv"), (String = "text/html")))),
    security(("bearer" = [])))]
async fn pool_year_audit(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(query): QueryParams<PoolYearAuditQuery>,
) -> Result<Response, ApiError> {
    let format = format_of(query.format.as_deref())?;
    let as_of = instant(query.as_of)?;
    let year = i32::from(query.year);
    if !YEARS.contains(&year) {
        return Err(bad_query("year", "must be 2000 to 2100"));
    }
    let signer = signer(&state)?;
    wait_for(&state, AUDIT, query.min_position).await?;
    let export = export_pool_year(
        &state.pool,
        principal.tenant.as_str(),
        id,
        year,
        as_of,
        signer,
    )
    .await
    .map_err(export_error)?;
    if export.records.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(rendered(&export, format, &format!("pulje-{id}-{year}")))
}
