//! Exports of a case and of a pool-year, as of a time, their renderings, and the stand-alone
//! checker `deploy/audit/verify_export.py` run on them: an untouched export passes, a changed
//! record fails naming it, and the script's own Ed25519 passes RFC 8032's test vector 1.

use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, Utc};
use samskab_audit_worker::{
    Export, ExportScope, Signer, export_case, export_pool_year, to_csv, to_html, to_json,
    to_json_text, verify_signature,
};
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_testkit::projection::{migrated_database, time_at};
use serde_json::Value;
use sqlx::PgPool;

mod support;
use support::*;

fn signer() -> anyhow::Result<Signer> {
    // A fixed test seed, in the form `SAMSKAB_AUDIT_SIGNING_KEY` takes.
    Ok(Signer::from_base64_seed(
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
    )?)
}

/// Rødovre's and Hvidovre's chains of the story; Rødovre's events at odd positions 1, 3, ...
/// (envelope time `time_at(position)`).
async fn chains() -> anyhow::Result<(PgPool, Story)> {
    let pool = migrated_database().await?;
    let story = story()?;
    let mut events = story.recorded(RODOVRE, 1, 2);
    events.extend(story.recorded(HVIDOVRE, 2, 2));
    events.sort_by_key(|e| e.position);
    AUDIT.apply_batch_all(&pool, &events).await?;
    Ok((pool, story))
}

/// The envelope time of Rødovre's `index`th event of the story.
fn time_of(index: usize) -> DateTime<Utc> {
    time_at(1 + 2 * index as u64)
}

fn event_types(export: &Export) -> Vec<&str> {
    export
        .records
        .iter()
        .map(|r| r.event_type.as_str())
        .collect()
}

#[tokio::test]
async fn a_case_as_of_before_its_decision_lacks_the_decision() -> anyhow::Result<()> {
    let (pool, story) = chains().await?;
    let decided = story.index_of(GrantPoolEvent::DECIDED_V1)?;
    let club = group().as_uuid();

    let before = export_case(&pool, RODOVRE, club, time_of(decided - 1), &signer()?).await?;
    assert_eq!(
        event_types(&before),
        [
            GrantApplicationEvent::DRAFTED_V1,
            GrantApplicationEvent::SUBMITTED_V1,
            GrantApplicationEvent::ASSESSED_V1
        ]
    );
    // The head as of then: Rødovre's record of the event just before the decision.
    assert_eq!(before.head.seq, decided as i64);
    assert_eq!(before.head.tenant, RODOVRE);
    // Links from the first record exported (the draft) up to the head.
    let seqs: Vec<i64> = before.links.iter().map(|l| l.seq).collect();
    assert_eq!(
        seqs,
        (before.records[0].seq..=before.head.seq).collect::<Vec<_>>()
    );

    let after = export_case(&pool, RODOVRE, club, time_of(100), &signer()?).await?;
    assert_eq!(
        event_types(&after),
        [
            GrantApplicationEvent::DRAFTED_V1,
            GrantApplicationEvent::SUBMITTED_V1,
            GrantApplicationEvent::ASSESSED_V1,
            GrantPoolEvent::DECIDED_V1
        ]
    );
    assert_eq!(after.head.seq, story.log.len() as i64);
    assert_eq!(
        after.scope,
        ExportScope::Case {
            application_id: club
        }
    );

    // The signature is over the signed statement's canonical JSON (head, format, scope, the
    // links' digest), by the key the export names.
    verify_signature(&after.public_key, &after.signed_bytes()?, &after.signature)?;
    assert!(
        verify_signature(&after.public_key, &before.signed_bytes()?, &after.signature).is_err()
    );
    assert_eq!(
        after.signed_statement()["format"],
        "samskab.audit.export.v2"
    );
    assert_eq!(to_json(&after)["format"], samskab_audit_worker::FORMAT);
    // No export holds the contact person.
    assert!(!to_json(&after).to_string().contains(CONTACT));

    // Before the chain began: nothing, and the genesis head; the digest of no links is that
    // of `[]`.
    let empty = export_case(&pool, RODOVRE, club, time_at(0), &signer()?).await?;
    assert!(empty.records.is_empty() && empty.links.is_empty());
    assert_eq!(
        empty.signed_statement()["links_digest"],
        "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    );
    verify_signature(&empty.public_key, &empty.signed_bytes()?, &empty.signature)?;
    assert_eq!(
        (empty.head.seq, empty.head.hash.as_str()),
        (0, samskab_audit_worker::GENESIS)
    );
    Ok(())
}

#[tokio::test]
async fn a_pool_year_holds_the_pool_and_the_cases_of_its_year() -> anyhow::Result<()> {
    let (pool, _story) = chains().await?;
    let pool_id = grant_pool_id().as_uuid();
    let year_2026 =
        export_pool_year(&pool, RODOVRE, pool_id, 2026, time_of(100), &signer()?).await?;
    let budget_years: Vec<Value> = year_2026
        .records
        .iter()
        .filter(|r| r.event_type == GrantPoolEvent::BUDGET_CHANGED_V1)
        .map(|r| r.payload["year"].clone())
        .collect();
    assert_eq!(budget_years, [serde_json::json!(2026)]);
    // Everything but the 2027 budget: the pool, its round and conflict, the club's case
    // (decided for 2026), Æblehaven's (never decided; submitted in 2026, withdrawn).
    assert_eq!(year_2026.records.len(), 11);
    assert!(
        year_2026
            .records
            .iter()
            .any(|r| r.application_id == Some(association().as_uuid()))
    );

    let year_2027 =
        export_pool_year(&pool, RODOVRE, pool_id, 2027, time_of(100), &signer()?).await?;
    assert_eq!(
        event_types(&year_2027),
        [
            GrantPoolEvent::CREATED_V1,
            GrantPoolEvent::BUDGET_CHANGED_V1,
            GrantPoolEvent::CONFLICT_DECLARED_V1
        ]
    );
    // Hvidovre's chain is its own: the same pool id there is another municipality's pool.
    let hvidovre =
        export_pool_year(&pool, HVIDOVRE, pool_id, 2026, time_of(100), &signer()?).await?;
    assert!(hvidovre.records.iter().all(|r| r.tenant == HVIDOVRE));
    assert_eq!(hvidovre.head.tenant, HVIDOVRE);
    Ok(())
}

#[tokio::test]
async fn the_renderings() -> anyhow::Result<()> {
    let (pool, _story) = chains().await?;
    let export = export_pool_year(
        &pool,
        RODOVRE,
        grant_pool_id().as_uuid(),
        2026,
        time_of(100),
        &signer()?,
    )
    .await?;
    let csv = to_csv(&export);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "seq,occurred_at,event_type,entity_kind,entity_id,application_id,actor,hash,payload"
    );
    assert_eq!(lines.len(), 1 + export.records.len());
    // The payload has commas and quotes: quoted, quotes doubled.
    assert!(lines[1].contains(",\"{\"\""), "{}", lines[1]);

    let html = to_html(&export);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"da\">"));
    assert!(html.contains("Forårsrunden 2026 &lt;forår &amp; sommer&gt;"));
    assert!(!html.contains("<forår"));
    assert!(html.contains("Bevilget delvist · Beløb 90.000,00 kr. af ansøgt 120.000,00 kr."));
    assert!(html.contains(&export.signature));
    assert!(!html.contains("http"), "no external asset");
    assert!(!html.contains(CONTACT));
    Ok(())
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/audit/verify_export.py")
}

/// Runs the script; its exit code and what it printed.
fn run(args: &[&str]) -> anyhow::Result<(i32, String)> {
    let output = Command::new("python3").arg(script()).args(args).output()?;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.code().unwrap_or(-1), printed))
}

#[tokio::test]
async fn the_python_checker_passes_an_export_and_names_a_changed_record() -> anyhow::Result<()> {
    let (code, printed) = run(&["--self-test"])?;
    assert_eq!(code, 0, "{printed}");

    let (pool, _story) = chains().await?;
    let signer = signer()?;
    let export = export_case(&pool, RODOVRE, group().as_uuid(), time_of(100), &signer).await?;
    let json = to_json(&export);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("export.json");
    let write = |value: &Value| std::fs::write(&file, serde_json::to_vec_pretty(value)?);
    let path = file.to_str().unwrap_or_default();

    write(&json)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 0, "{printed}");
    assert_eq!(
        printed.trim(),
        format!("ok: 4 records, head seq {}", export.head.seq)
    );
    let (code, printed) = run(&[path, "--public-key", &signer.public_key_base64()])?;
    assert_eq!(code, 0, "{printed}");
    // The same JSON written straight to text, as a route sends it.
    let text = to_json_text(&export);
    assert_eq!(serde_json::from_str::<Value>(&text)?, json);
    std::fs::write(&file, &text)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 0, "{printed}");

    // The decision's amount changed in the file: that record fails.
    let mut changed = json.clone();
    let decision = &mut changed["records"][3];
    let seq = decision["seq"].clone();
    decision["payload"]["amount"] = serde_json::json!(19_000_000);
    write(&changed)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains(&format!("record seq {seq} ")), "{printed}");

    // Its hash recomputed too: now it is not where its link says.
    let hash = samskab_audit_worker::record::hash_of(&{
        let mut content = changed["records"][3].clone();
        content.as_object_mut().map(|o| o.remove("hash"));
        content
    })?;
    changed["records"][3]["hash"] = Value::String(hash);
    write(&changed)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains(&format!("record seq {seq} ")), "{printed}");

    // A head moved on without its signature; another key than the one pinned.
    let mut moved = json.clone();
    moved["head"]["as_of"] = Value::String("2030-01-01T00:00:00.000000Z".into());
    write(&moved)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("signature"), "{printed}");
    write(&json)?;
    let other = Signer::from_seed([9; 32]).public_key_base64();
    let (code, printed) = run(&[path, "--public-key", &other])?;
    assert_eq!(code, 1, "{printed}");
    Ok(())
}

/// What a Rust reader checks of an export's JSON: the signature over the statement rebuilt
/// from the file's `format`, `scope`, `head` and the digest of its `links`.
fn signature_holds(json: &Value) -> anyhow::Result<bool> {
    let digest = samskab_audit_worker::record::hash_of(&json["links"])?;
    let format = json["format"].as_str().unwrap_or_default();
    let statement =
        samskab_audit_worker::export::statement(format, &json["scope"], &json["head"], &digest)
            .ok_or_else(|| anyhow::anyhow!("no head"))?;
    let bytes = samskab_audit_worker::canonical::to_vec(&statement)?;
    let signature = &json["signature"];
    Ok(verify_signature(
        signature["public_key"].as_str().unwrap_or_default(),
        &bytes,
        signature["value"].as_str().unwrap_or_default(),
    )
    .is_ok())
}

/// The v1 hole: a case's record changed, its hash recomputed, its link and the next link's
/// `prev_hash` patched, where the next link is another case's record (not exported, so no one
/// can recompute it). Every check on the records and links passes; the signature, over the
/// links too, does not. Nor does a changed scope; the untouched export verifies.
#[tokio::test]
async fn a_record_changed_with_its_links_patched_or_a_changed_scope_is_refused()
-> anyhow::Result<()> {
    let (pool, _story) = chains().await?;
    let signer = signer()?;
    let export = export_case(&pool, RODOVRE, group().as_uuid(), time_of(100), &signer).await?;
    let json = to_json(&export);
    assert_eq!(
        samskab_audit_worker::links_digest(&export.links),
        samskab_audit_worker::record::hash_of(&json["links"])?
    );
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("export.json");
    let path = file.to_str().unwrap_or_default();
    let write = |value: &Value| std::fs::write(&file, serde_json::to_vec_pretty(value)?);

    // Untouched: verifies, in Python and in Rust, also as the text a route sends.
    write(&json)?;
    let (code, printed) = run(&[path, "--public-key", &signer.public_key_base64()])?;
    assert_eq!(code, 0, "{printed}");
    assert!(signature_holds(&json)?);
    std::fs::write(&file, to_json_text(&export))?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 0, "{printed}");

    // An exported record whose next link is another case's record, not exported.
    let exported: Vec<i64> = export.records.iter().map(|r| r.seq).collect();
    let index = export
        .records
        .iter()
        .position(|r| {
            !exported.contains(&(r.seq + 1)) && export.links.iter().any(|l| l.seq == r.seq + 1)
        })
        .expect("a case record followed by another case's record");
    let seq = export.records[index].seq;
    let mut forged = json.clone();
    let record = &mut forged["records"][index];
    if let Some(payload) = record["payload"].as_object_mut() {
        payload.insert("forged".into(), Value::Bool(true));
    }
    let hash = samskab_audit_worker::record::hash_of(&{
        let mut content = record.clone();
        content.as_object_mut().map(|o| o.remove("hash"));
        content
    })?;
    record["hash"] = Value::String(hash.clone());
    let links = forged["links"].as_array_mut().expect("links");
    let at = links
        .iter()
        .position(|l| l["seq"] == seq)
        .expect("the record's link");
    links[at]["hash"] = Value::String(hash.clone());
    links[at + 1]["prev_hash"] = Value::String(hash);
    write(&forged)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("signature"), "{printed}");
    assert!(!signature_holds(&forged)?);
    // Under v1's rule (the head alone signed) the forgery would have passed: the head is
    // untouched, and every record is at its (patched) link.
    assert_eq!(forged["head"], json["head"]);

    // Another case's scope on this case's export.
    let mut other = json.clone();
    other["scope"]["application_id"] = Value::String(association().as_uuid().to_string());
    write(&other)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("signature"), "{printed}");
    assert!(!signature_holds(&other)?);

    // A v1 file is refused with its reason; so is the untouched export relabelled v1.
    let mut v1 = json.clone();
    v1["format"] = Value::String("samskab.audit.export.v1".into());
    write(&v1)?;
    let (code, printed) = run(&[path])?;
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("v1 signed the head alone"), "{printed}");
    assert!(!signature_holds(&v1)?);
    Ok(())
}
