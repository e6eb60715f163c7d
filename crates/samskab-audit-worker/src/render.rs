//! An export as JSON (what `verify_export.py` checks), as CSV (a row per record, for a
//! spreadsheet) and as HTML (a printable case file in Danish, self-contained).
//!
//! **Times.** JSON and CSV give every time in UTC, in the one form of
//! [`crate::record::timestamp`] (what is hashed and signed). The HTML case file is read by
//! people in Denmark, so it gives them in Danish local time (Europe/Copenhagen: CET, or CEST in
//! summer time, [`samskab_domain::calendar::hours_ahead_of_utc`]), written the Danish way,
//! `1. december 2026 kl. 18.05`, and says so once, above the table.

use std::fmt::Write as _;

use samskab_domain::calendar::danish_written as danish_time;
use serde_json::{Value, json};

pub use crate::export::FORMAT;
use crate::export::{Export, ExportScope};
use crate::record::{Record, timestamp};

/// The export as JSON: `format`, `scope`, `records` (each the hash input of
/// [`crate::record`] plus its `hash`), `links`, `head` and `signature` (`algorithm`,
/// `public_key`, `value`, both base64) over the statement of [`crate::export`]'s docs, which
/// a reader rebuilds from `format`, `scope`, `head` and the digest of `links`. To send or store it, [`to_json_text`]
/// writes the same JSON several times faster.
pub fn to_json(export: &Export) -> Value {
    json!({
        "format": FORMAT,
        "scope": export.scope,
        "records": export.records.iter().map(Record::to_json).collect::<Vec<_>>(),
        "links": export.links,
        "head": export.head.to_json(),
        "signature": {
            "algorithm": "Ed25519",
            "public_key": export.public_key,
            "value": export.signature,
        },
    })
}

/// The JSON of [`to_json`], written straight to text: the same value (a test says so), without
/// building it first, which for a pool-year of 40,000 records is most of an export's time.
/// Members in sorted order as [`to_json`] serialises them; each record, the head and the scope
/// in their canonical form (RFC 8785), so a record's text is its hash input with its `hash`.
pub fn to_json_text(export: &Export) -> String {
    // The records written on every core, each run of them to its own text, then put together.
    let runs = crate::parallel::chunks(&export.records, |records| {
        let mut out = String::with_capacity(records.len() * 1_280);
        for r in records {
            out.push(',');
            let mark = out.len();
            if r.write_canonical(&mut out, Some(&r.hash)).is_err() {
                // No canonical form (an export never holds such a record: it is checked
                // before it is signed); written as `to_json` would.
                out.truncate(mark);
                out.push_str(&r.to_json().to_string());
            }
        }
        out
    });
    let records: usize = runs.iter().map(String::len).sum();
    let mut out = String::with_capacity(records + 170 * export.links.len() + 1_024);
    out.push_str("{\"format\":");
    crate::canonical::write_string(&mut out, FORMAT);
    out.push_str(",\"head\":");
    write_canonical_or_plain(&mut out, &export.head.to_json());
    out.push_str(",\"links\":");
    crate::export::write_links(&mut out, &export.links);
    out.push_str(",\"records\":[");
    for run in &runs {
        // Each run starts with the comma before its first record; the export's first is not.
        let run = match out.strip_suffix('[') {
            Some(_) => run.strip_prefix(',').unwrap_or(run),
            None => run.as_str(),
        };
        out.push_str(run);
    }
    out.push_str("],\"scope\":");
    write_canonical_or_plain(&mut out, &json!(export.scope));
    out.push_str(",\"signature\":{\"algorithm\":\"Ed25519\",\"public_key\":");
    crate::canonical::write_string(&mut out, &export.public_key);
    out.push_str(",\"value\":");
    crate::canonical::write_string(&mut out, &export.signature);
    out.push_str("}}");
    out
}

fn write_canonical_or_plain(out: &mut String, value: &Value) {
    let mark = out.len();
    if crate::canonical::write_value(out, value).is_err() {
        out.truncate(mark);
        out.push_str(&value.to_string());
    }
}

/// One row per exported record, in chain order, under a header row: `seq, occurred_at,
/// event_type, entity_kind, entity_id, application_id, actor, hash, payload` (the payload as
/// its canonical JSON). RFC 4180: CRLF line ends, a field quoted when it holds a comma, a
/// quote or a line break, quotes doubled.
pub fn to_csv(export: &Export) -> String {
    let mut out = String::new();
    let header = [
        "seq",
        "occurred_at",
        "event_type",
        "entity_kind",
        "entity_id",
        "application_id",
        "actor",
        "hash",
        "payload",
    ];
    write_csv_row(&mut out, header.iter().map(|h| (*h).to_owned()));
    for r in &export.records {
        let payload =
            crate::canonical::to_string(&r.payload).unwrap_or_else(|_| r.payload.to_string());
        write_csv_row(
            &mut out,
            [
                r.seq.to_string(),
                timestamp(r.occurred_at),
                r.event_type.clone(),
                r.entity_kind.clone(),
                r.entity_id.clone(),
                r.application_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                r.actor.clone(),
                r.hash.clone(),
                payload,
            ],
        );
    }
    out
}

fn write_csv_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

/// A printable case file: the title, the records in time order with what was decided in
/// words, and the signed head with how to check it. Every text is escaped; no script, no
/// external asset.
pub fn to_html(export: &Export) -> String {
    let title = match &export.scope {
        ExportScope::Case { application_id } => {
            format!("Revisionsspor for tilskudssag {application_id}")
        }
        ExportScope::PoolYear { pool_id, year } => {
            format!("Revisionsspor for pulje {pool_id}, år {year}")
        }
    };
    let mut records: Vec<&Record> = export.records.iter().collect();
    records.sort_by_key(|r| (r.occurred_at, r.seq));

    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"da\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(html, "<title>{}</title>", esc(&title));
    html.push_str(
        "<style>\nbody{font-family:sans-serif;margin:2em;color:#000}\n\
         table{border-collapse:collapse;width:100%}\n\
         th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}\n\
         th{background:#eee}\n.hash{font-family:monospace;font-size:.75em;word-break:break-all}\n\
         @media print{body{margin:0}tr{page-break-inside:avoid}}\n</style>\n</head>\n<body>\n",
    );
    let _ = writeln!(html, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        html,
        "<p>Kommune: {} · Status pr. {} · {} poster</p>",
        esc(&export.head.tenant),
        esc(&danish_time(export.head.as_of)),
        records.len()
    );
    let _ = writeln!(html, "<p>{}</p>", esc(ZONE_NOTE));
    html.push_str(
        "<table>\n<thead><tr><th>Nr.</th><th>Tidspunkt</th><th>Hændelse</th>\
         <th>Udført af</th><th>Indhold</th><th>Hash</th></tr></thead>\n<tbody>\n",
    );
    for r in records {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}</td></tr>",
            r.seq,
            esc(&danish_time(r.occurred_at)),
            esc(label(&r.event_type)),
            esc(&r.actor),
            esc(&details(r)),
            esc(&r.hash),
        );
    }
    html.push_str(
        "</tbody>\n</table>\n<h2>Kædens hoved og signatur</h2>\n\
         <p>Signaturen dækker kædens hoved, formatet, hvad eksporten omfatter, og alle \
         kædeled (deres SHA-256).</p>\n<dl>\n",
    );
    for (term, value) in [
        ("Kommune", export.head.tenant.clone()),
        ("Nr.", export.head.seq.to_string()),
        ("Hash", export.head.hash.clone()),
        ("Pr.", danish_time(export.head.as_of)),
        // The instant exactly as it is signed (the head's `as_of`), to check by hand.
        ("Pr., som signeret (UTC)", timestamp(export.head.as_of)),
        ("Format", FORMAT.to_owned()),
        (
            "Kædeleddenes SHA-256 (links_digest)",
            crate::export::links_digest(&export.links),
        ),
        ("Signatur (Ed25519, base64)", export.signature.clone()),
        ("Offentlig nøgle (base64)", export.public_key.clone()),
    ] {
        let _ = writeln!(
            html,
            "<dt>{}</dt><dd class=\"hash\">{}</dd>",
            esc(term),
            esc(&value)
        );
    }
    html.push_str(
        "</dl>\n<p>Eksporten i JSON kan efterprøves uden samskab: \
         <code>python3 verify_export.py eksport.json</code>.</p>\n</body>\n</html>\n",
    );
    html
}

/// What the case file says once about its times.
const ZONE_NOTE: &str =
    "Alle tidspunkter er dansk tid (Europe/Copenhagen: normaltid UTC+1, sommertid UTC+2).";

/// Escapes text for an HTML element or a quoted attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `dk.samskab.grant_pool.decided.v1` → `grant_pool.decided`: what the words depend on (a
/// later version of an event reads the same).
fn short_name(event_type: &str) -> &str {
    event_type
        .strip_prefix("dk.samskab.")
        .and_then(|rest| rest.rsplit_once('.'))
        .map_or(event_type, |(name, _version)| name)
}

/// The event type in words.
fn label(event_type: &str) -> &str {
    match short_name(event_type) {
        "grant_pool.created" => "Pulje oprettet",
        "grant_pool.budget_changed" => "Budget ændret",
        "grant_pool.round_opened" => "Ansøgningsrunde åbnet",
        "grant_pool.conflict_declared" => "Inhabilitet erklæret",
        "grant_pool.decision_proposed" => "Afgørelse indstillet (afventer godkendelse)",
        "grant_pool.decided" => "Afgørelse truffet",
        "grant_pool.decision_approved" => "Afgørelse godkendt",
        "grant_pool.decision_reopened" => "Afgørelse genoptaget (klage)",
        "grant_pool.application_withdrawn" => "Ansøgning trukket tilbage",
        "grant_application.drafted" => "Ansøgning påbegyndt",
        "grant_application.draft_updated" => "Kladde ændret",
        "grant_application.submitted" => "Ansøgning indsendt",
        "grant_application.amended" => "Ansøgning ændret",
        "grant_application.assessed" => "Ansøgning vurderet",
        "grant_application.second_assessment_requested" => "Anden vurdering ønsket",
        _ => event_type,
    }
}

/// What a record says, in words: the decision's fields first of all.
fn details(r: &Record) -> String {
    let p = &r.payload;
    let text = |name: &str| p.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    let amount = |value: Option<&Value>| {
        value
            .and_then(Value::as_i64)
            .map_or_else(String::new, kroner)
    };
    let content = |name: &str| p.get("content").and_then(|c| c.get(name));
    let mut parts: Vec<String> = Vec::new();
    match short_name(&r.event_type) {
        "grant_pool.created" => parts.push(format!("{} ({})", text("name"), text("legal_basis"))),
        "grant_pool.budget_changed" => {
            parts.push(format!(
                "År {}",
                p.get("year").map_or(String::new(), Value::to_string)
            ));
            parts.push(format!(
                "Budget {} (før {})",
                amount(p.get("amount")),
                amount(p.get("previous"))
            ));
            parts.push(format!("Begrundelse: {}", text("reason")));
        }
        "grant_pool.round_opened" => {
            parts.push(text("title"));
            parts.push(format!("Frist {}", text("deadline")));
        }
        "grant_pool.conflict_declared" => {
            parts.push(format!("{} er inhabil", text("member")));
            if let Some(reason) = p.get("reason").and_then(Value::as_str) {
                parts.push(format!("Begrundelse: {reason}"));
            }
        }
        "grant_pool.decision_proposed" | "grant_pool.decided" => {
            let outcome = match text("outcome").as_str() {
                "full" => "Bevilget fuldt ud".to_owned(),
                "partial" => "Bevilget delvist".to_owned(),
                "refused" => "Afslag".to_owned(),
                other => other.to_owned(),
            };
            parts.push(outcome);
            parts.push(format!(
                "Beløb {} af ansøgt {}",
                amount(p.get("amount")),
                amount(p.get("requested"))
            ));
            parts.push(format!(
                "Budgetår {}",
                p.get("year").map_or(String::new(), Value::to_string)
            ));
            parts.push(format!(
                "Version {}",
                p.get("version").map_or(String::new(), Value::to_string)
            ));
            if let Some(why) = p.get("justification").and_then(Value::as_str) {
                parts.push(format!("Begrundelse: {why}"));
            }
            parts.push(format!("Besluttet af {}", text("decided_by")));
        }
        "grant_pool.decision_approved" => {
            parts.push(format!("Godkendt af {}", text("approved_by")))
        }
        "grant_pool.decision_reopened" => {
            parts.push(format!("Begrundelse: {}", text("reason")));
            parts.push(format!("Af {}", text("by")));
        }
        "grant_pool.application_withdrawn" => parts.push(format!("Af {}", text("by"))),
        "grant_application.drafted"
        | "grant_application.draft_updated"
        | "grant_application.submitted"
        | "grant_application.amended" => {
            if let Some(version) = p.get("version") {
                parts.push(format!("Version {version}"));
            }
            if let Some(title) = content("title").and_then(Value::as_str) {
                parts.push(title.to_owned());
            }
            parts.push(format!("Ansøgt {}", amount(content("amount_requested"))));
        }
        "grant_application.assessed" => {
            parts.push(format!("Vurderet af {}", text("assessor")));
            parts.push(format!(
                "Point {}/100",
                p.get("total").map_or(String::new(), Value::to_string)
            ));
            parts.push(format!("Anbefalet {}", amount(p.get("recommended"))));
        }
        "grant_application.second_assessment_requested" => {
            parts.push(format!("Af {}", text("by")));
            parts.push(format!("Begrundelse: {}", text("reason")));
        }
        _ => parts.push(p.to_string()),
    }
    if r.had_personal {
        parts.push("(personoplysninger udeladt)".to_owned());
    }
    parts.retain(|part| !part.is_empty());
    parts.join(" · ")
}

/// Øre as Danish kroner: `15000000` → `150.000,00 kr.`
fn kroner(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let ore = ore.unsigned_abs();
    let whole = (ore / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped},{:02} kr.", ore % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Export, ExportScope, Head};
    use crate::record::GENESIS;
    use uuid::Uuid;

    fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text)
            .expect("a test time")
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn times_are_danish_local_time_in_winter_and_in_summer() {
        // Winter (CET, UTC+1) and summer (CEST, UTC+2).
        assert_eq!(
            danish_time(utc("2026-12-01T17:05:00Z")),
            "1. december 2026 kl. 18.05"
        );
        assert_eq!(
            danish_time(utc("2026-07-01T16:05:59.999999Z")),
            "1. juli 2026 kl. 18.05"
        );
        // Across midnight and the year's end, and at the change back to normal time.
        assert_eq!(
            danish_time(utc("2026-12-31T23:30:00Z")),
            "1. januar 2027 kl. 00.30"
        );
        assert_eq!(
            danish_time(utc("2026-10-25T00:59:00Z")),
            "25. oktober 2026 kl. 02.59"
        );
        assert_eq!(
            danish_time(utc("2026-10-25T01:00:00Z")),
            "25. oktober 2026 kl. 02.00"
        );
    }

    #[test]
    fn the_json_text_is_the_json() {
        let export = sample_export();
        let text = to_json_text(&export);
        let value: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value, to_json(&export));
        assert_eq!(text, to_json(&export).to_string());
    }

    fn sample_export() -> Export {
        let record = |seq: i64, time: &str| Record {
            tenant: "rodovre".into(),
            seq,
            position: seq,
            event_id: Uuid::from_u128(seq as u128),
            event_type: "dk.samskab.grant_pool.created.v1".into(),
            entity_kind: "grant-pool".into(),
            entity_id: Uuid::from_u128(99).to_string(),
            pool_id: Uuid::from_u128(99),
            application_id: None,
            occurred_at: utc(time),
            actor: "user:admin".into(),
            had_personal: false,
            payload: json!({"name": "§18-puljen", "legal_basis": "§18"}),
            prev_hash: GENESIS.into(),
            hash: "ab".repeat(32),
        };
        let mut export = Export {
            scope: ExportScope::PoolYear {
                pool_id: Uuid::from_u128(99),
                year: 2026,
            },
            records: vec![
                record(1, "2026-01-15T09:30:00Z"),
                record(2, "2026-06-15T09:30:00Z"),
            ],
            links: Vec::new(),
            head: Head {
                tenant: "rodovre".into(),
                seq: 2,
                hash: "ab".repeat(32),
                as_of: utc("2026-12-01T17:05:00.123456Z"),
            },
            signature: "c2ln".into(),
            public_key: "a2V5".into(),
        };
        export.links = export
            .records
            .iter()
            .map(|r| crate::export::Link {
                seq: r.seq,
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
            })
            .collect();
        export
    }

    #[test]
    fn the_case_file_shows_danish_local_times_and_the_zone_once() {
        let html = to_html(&sample_export());
        assert!(
            html.contains("<td>15. januar 2026 kl. 10.30</td>"),
            "{html}"
        );
        assert!(html.contains("<td>15. juni 2026 kl. 11.30</td>"), "{html}");
        assert!(
            html.contains("Status pr. 1. december 2026 kl. 18.05"),
            "{html}"
        );
        assert_eq!(html.matches("Europe/Copenhagen").count(), 1, "{html}");
        // No record's time in UTC; the head's instant as signed, once, named as such.
        assert!(!html.contains("2026-01-15T09:30"), "{html}");
        assert_eq!(
            html.matches("2026-12-01T17:05:00.123456Z").count(),
            1,
            "{html}"
        );
        assert!(!html.contains("(UTC)</th>"), "{html}");
    }

    #[test]
    fn kroner_are_written_the_danish_way() {
        assert_eq!(kroner(15_000_000), "150.000,00 kr.");
        assert_eq!(kroner(5), "0,05 kr.");
        assert_eq!(kroner(12_345_678_901), "123.456.789,01 kr.");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        let mut out = String::new();
        write_csv_row(
            &mut out,
            ["a".into(), "b,c".into(), "say \"hi\"".into(), "x\ny".into()],
        );
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\r\n");
    }
}
