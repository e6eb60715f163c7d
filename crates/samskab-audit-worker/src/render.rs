//! An export as JSON (what `verify_export.py` checks), as CSV (a row per record, for a
//! spreadsheet) and as HTML (a printable case file in Danish, self-contained).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::export::{Export, ExportScope};
use crate::record::{Record, timestamp};

/// The export format's name and version, the first member a reader checks.
pub const FORMAT: &str = "samskab.audit.export.v1";

/// The export as JSON: `format`, `scope`, `records` (each the hash input of
/// [`crate::record`] plus its `hash`), `links`, `head` (the object signed) and `signature`
/// (`algorithm`, `public_key`, `value`, both base64).
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
        esc(&timestamp(export.head.as_of)),
        records.len()
    );
    html.push_str(
        "<table>\n<thead><tr><th>Nr.</th><th>Tidspunkt (UTC)</th><th>Hændelse</th>\
         <th>Udført af</th><th>Indhold</th><th>Hash</th></tr></thead>\n<tbody>\n",
    );
    for r in records {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}</td></tr>",
            r.seq,
            esc(&timestamp(r.occurred_at)),
            esc(label(&r.event_type)),
            esc(&r.actor),
            esc(&details(r)),
            esc(&r.hash),
        );
    }
    html.push_str("</tbody>\n</table>\n<h2>Kædens hoved og signatur</h2>\n<dl>\n");
    for (term, value) in [
        ("Kommune", export.head.tenant.clone()),
        ("Nr.", export.head.seq.to_string()),
        ("Hash", export.head.hash.clone()),
        ("Pr.", timestamp(export.head.as_of)),
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
