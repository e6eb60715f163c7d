//! The OpenAPI document. The handlers' annotations (utoipa) give each operation, its success
//! answers and its types; this module completes the document with what operations share,
//! written once: the problem responses (`components/responses`), the `Idempotency-Key` header
//! (`components/parameters`), and the request rules that span fields. Field-level rules come
//! from `schema.rs`, built from the domain's own value types.
//!
//! Which shared answers an operation gets follows from what it has, so a new route is
//! documented truthfully without listing them:
//!
//! | the operation has            | it may answer                                 |
//! |------------------------------|-----------------------------------------------|
//! | a bearer token               | 401, 403, 503 (it reads NATS or PostgreSQL)   |
//! | a JSON body                  | 400, 413, 415, 422                            |
//! | query parameters             | 400                                           |
//! | an `{id}` in its path        | 404                                           |
//! | POST or PUT (a command)      | 400 (a bad key), 409, 422, `Idempotency-Key`  |
//! | (but not under `/ops/`: the operator's writes are no commands)               |
//!
//! A handler that can give another shared answer declares it with a status and a description
//! only (`(status = 404, description = "...")`); the problem body is filled in here.

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "samskab",
        description = "The backend Danish municipalities share for volunteer social work. \
            Commands answer with the log position of their events; pass it to a query as \
            `min_position` to read your own write. Errors are RFC 9457 problem details with a \
            reason per field."
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::problem::Problem, crate::problem::FieldError)),
    tags((name = "volunteers"), (name = "organisations"), (name = "needs"), (name = "matching"),
        (name = "matches"), (name = "grants"),
        (name = "municipalities"), (name = "reports"), (name = "notifications"), (name = "ops"))
)]
pub(crate) struct ApiDoc;

struct BearerAuth;
impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The shared error answers: (status, component name, description).
const SHARED: &[(&str, &str, &str)] = &[
    (
        "400",
        "Malformed",
        "The request could not be read: bad JSON, a wrong type, an unknown or missing field, a \
         bad query parameter or header. `errors` names each field and why.",
    ),
    (
        "401",
        "Unauthenticated",
        "No bearer token, or one that is invalid or expired.",
    ),
    ("403", "Forbidden", "The caller's role may not do this."),
    (
        "404",
        "NotFound",
        "No such entity in the caller's municipality (an id that is not a UUID included).",
    ),
    (
        "409",
        "Conflict",
        "The entity's state does not allow this (it exists already, or was changed at the same \
         time), or a command with the same `Idempotency-Key` is still in progress.",
    ),
    ("413", "TooLarge", "The body is over the size limit."),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not `application/json`.",
    ),
    (
        "422",
        "Invalid",
        "The values break a rule (an invalid CVR number, a too long name, a date out of \
         order), or the `Idempotency-Key` was used before for a different request. `errors` \
         names each field and why.",
    ),
    (
        "503",
        "Unavailable",
        "NATS or PostgreSQL is unavailable, or the read model did not reach `min_position` in \
         time. Try again after `Retry-After` seconds.",
    ),
];

/// The document served at `/openapi.json`.
pub fn document(generated: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(generated).unwrap_or_else(|_| json!({}));
    add_shared_components(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                complete_operation(path, method, operation);
            }
        }
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas") {
        crate::schema::cross_field_rules(schemas);
    }
    crate::schema::request_variants(&mut doc);
    add_links(&mut doc);
    doc
}

/// OpenAPI links from a created entity to what can be done with it next: each operation on
/// `<collection>/{id}...` takes the new `id`, and a query its `min_position` too, so a client
/// (or schemathesis' stateful phase) following the link reads its own write.
fn add_links(doc: &mut Value) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object).cloned() else {
        return;
    };
    for (collection, item) in &paths {
        if item.pointer("/post/responses/201").is_none() {
            continue;
        }
        let prefix = format!("{collection}/{{id}}");
        let mut links = Map::new();
        for (path, item) in &paths {
            if !path.starts_with(&prefix) {
                continue;
            }
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Some(operation_id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let waits = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "min_position"));
                let mut parameters = json!({ "id": "$response.body#/id" });
                if waits {
                    parameters["min_position"] = json!("$response.body#/position");
                }
                links.insert(
                    operation_id.to_string(),
                    json!({
                        "operationId": operation_id,
                        "parameters": parameters,
                        "description": format!("{} {path} on the created entity", method.to_uppercase()),
                    }),
                );
            }
        }
        let pointer = format!(
            "/paths/{}/post/responses/201",
            collection.replace('/', "~1")
        );
        if let Some(created) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            created.insert("links".into(), Value::Object(links));
            created.insert(
                "headers".into(),
                json!({ "Location": {
                    "description": "The created entity's URL.",
                    "required": true,
                    "schema": { "type": "string" }
                }}),
            );
        }
    }
}

fn add_shared_components(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(components) = components else {
        return;
    };
    let responses = components.entry("responses").or_insert_with(|| json!({}));
    for (status, name, description) in SHARED {
        let mut response = json!({
            "description": description,
            "content": {
                "application/problem+json": {
                    "schema": { "$ref": "#/components/schemas/Problem" }
                }
            }
        });
        if *status == "401" {
            response["headers"] = json!({
                "WWW-Authenticate": {
                    "description": "`Bearer`",
                    "schema": { "type": "string" }
                }
            });
        }
        if *status == "503" {
            response["headers"] = json!({
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": { "type": "string" }
                }
            });
        }
        responses[*name] = response;
    }
    components.entry("parameters").or_insert_with(|| json!({}))["IdempotencyKey"] = json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a retry safe: a command repeated with the same key (and the same \
            request) answers as the first did and appends nothing, however late; the same key \
            with a different request is refused (422). An entity created with a key gets an id \
            derived from it. Keys are the caller's municipality's. 1 to 200 visible ASCII \
            characters.",
        "schema": { "type": "string", "pattern": "^[\\x21-\\x7E]{1,200}$" }
    });
}

fn complete_operation(path: &str, method: &str, operation: &mut Value) {
    let Some(op) = operation.as_object_mut() else {
        return;
    };
    // The operator's writes under /ops change the sender's own state, not the log: no
    // command, no Idempotency-Key (each says its answers itself).
    let command =
        matches!(method, "post" | "put" | "patch" | "delete") && !path.starts_with("/ops/");
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let has_body = op.contains_key("requestBody");
    let params: Vec<String> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("in").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();

    let mut shared: Vec<&str> = Vec::new();
    if secured {
        shared.extend(["401", "403", "503"]);
    }
    if has_body {
        shared.extend(["400", "413", "415", "422"]);
    }
    if params.iter().any(|p| p == "query") {
        shared.push("400");
    }
    if params.iter().any(|p| p == "path") {
        shared.push("404");
    }
    if command {
        shared.extend(["400", "409", "422"]);
        if let Some(ps) = op
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            ps.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
        }
    }

    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    // A declared error answer without a body is one of the shared ones: point to it.
    for (status, response) in responses.iter_mut() {
        let declared_without_body = response.get("content").is_none()
            && response.get("$ref").is_none()
            && status.starts_with(['4', '5']);
        if declared_without_body && let Some(name) = shared_name(status) {
            *response = json!({ "$ref": format!("#/components/responses/{name}") });
        }
    }
    for status in shared {
        if let Some(name) = shared_name(status) {
            responses
                .entry(status)
                .or_insert_with(|| json!({ "$ref": format!("#/components/responses/{name}") }));
        }
    }
    for (status, response) in responses.iter_mut() {
        fill_description(status, response);
    }
}

fn shared_name(status: &str) -> Option<&'static str> {
    SHARED
        .iter()
        .find(|(s, _, _)| *s == status)
        .map(|(_, name, _)| *name)
}

/// Every response object needs a description (OpenAPI requires it); a success answer that
/// did not write one gets the meaning of its status here.
fn fill_description(status: &str, response: &mut Value) {
    let Some(response) = response.as_object_mut() else {
        return;
    };
    if response.contains_key("$ref") {
        return;
    }
    let missing = response
        .get("description")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if missing {
        let text = match status {
            "200" => "The read model's answer.",
            "201" => {
                "Created. The events are in the log; `Location` names the new entity, and \
                 `position` can be passed to a query as `min_position`."
            }
            "202" => {
                "Accepted. The events are in the log (none if nothing changed); `position` \
                 can be passed to a query as `min_position`."
            }
            _ => "See the problem details.",
        };
        response.insert("description".into(), Value::String(text.into()));
    }
}

/// Merges `extra` into the JSON object `target` (used for cross-field rules).
pub(crate) fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        let extra: Map<String, Value> = extra;
        for (k, v) in extra {
            target.insert(k, v);
        }
    }
}
