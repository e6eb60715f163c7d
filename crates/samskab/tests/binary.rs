//! The `samskab` binary as an operator runs it, against real servers: start-up checks,
//! seed-demo and rebuild with progress, `all` serving and stopping cleanly on Ctrl-C.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use samskab_testkit::{NatsServer, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_samskab");
const SECRET: &str = "a secret for the binary's tests, long enough";
/// A master key of these tests only (random, generated once).
const MASTER_KEYS: &str = "test-1:95mC2flwzFYStpD+v6rCoINReJ23UxvbyoEaT87K1aE=";

fn samskab(nats: &NatsServer, database: &TestDatabase, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("NATS_URL", nats.url())
        .env("DATABASE_URL", &database.url)
        .env("SAMSKAB_JWT_SECRET", SECRET)
        .env("SAMSKAB_MASTER_KEYS", MASTER_KEYS)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_its_name() {
    let nats = NatsServer::start().expect("nats");
    let database = TestDatabase::create().await.expect("database");
    let output = samskab(&nats, &database, &["api"])
        .env("SAMSKAB_JWT_SECRET", "short")
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("SAMSKAB_JWT_SECRET must be at least 32 bytes"),
        "{}",
        stderr(&output)
    );

    // The production example's placeholder, copied as it is, stops start-up too.
    let example = include_str!("../../../deploy/production/samskab.env.example");
    let placeholder = example
        .lines()
        .find_map(|line| line.strip_prefix("SAMSKAB_JWT_SECRET="))
        .expect("the example sets SAMSKAB_JWT_SECRET");
    let output = samskab(&nats, &database, &["api"])
        .env("SAMSKAB_JWT_SECRET", placeholder)
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("SAMSKAB_JWT_SECRET is a placeholder"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn seed_demo_and_rebuild_show_progress_and_all_stops_cleanly_on_ctrl_c() {
    let nats = NatsServer::start().expect("nats");
    let database = TestDatabase::create().await.expect("database");

    // Without `migrate`, there is no stream, and nothing but `migrate` makes one.
    let unmigrated = samskab(&nats, &database, &["seed-demo", "--volunteers", "5"])
        .output()
        .expect("seed");
    assert!(!unmigrated.status.success());
    assert!(
        stderr(&unmigrated).contains("run `samskab migrate` first"),
        "{}",
        stderr(&unmigrated)
    );
    let migrated = samskab(&nats, &database, &["migrate"])
        .output()
        .expect("migrate");
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    // A start with another maximum age is refused and names the setting; the stream is kept.
    let mistyped = samskab(&nats, &database, &["seed-demo", "--volunteers", "5"])
        .env("SAMSKAB_MAX_AGE_DAYS", "30")
        .output()
        .expect("seed");
    assert!(!mistyped.status.success());
    assert!(
        stderr(&mistyped).contains("SAMSKAB_MAX_AGE_DAYS"),
        "{}",
        stderr(&mistyped)
    );

    let seeded = samskab(&nats, &database, &["seed-demo", "--volunteers", "5"])
        .output()
        .expect("seed");
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    assert!(
        stderr(&seeded).contains("seeding demo data"),
        "progress: {}",
        stderr(&seeded)
    );
    // Idempotent: a second run adds nothing to the log.
    let again = samskab(&nats, &database, &["seed-demo", "--volunteers", "5"])
        .output()
        .expect("seed");
    assert!(again.status.success(), "{}", stderr(&again));

    let rebuilt = samskab(&nats, &database, &["rebuild", "directory"])
        .output()
        .expect("rebuild");
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    assert!(
        stderr(&rebuilt).contains("rebuilding directory"),
        "progress: {}",
        stderr(&rebuilt)
    );
    let pool = database.pool().await.expect("pool");
    let volunteers: i64 = sqlx::query_scalar("SELECT count(*) FROM directory.volunteer")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(volunteers, 15, "5 per demo municipality, once");

    let rebuilt = samskab(&nats, &database, &["rebuild", "matching"])
        .output()
        .expect("rebuild");
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    let needs: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT tenant, posted_by, status = 'open' FROM matching.need ORDER BY tenant, title",
    )
    .fetch_all(&pool)
    .await
    .expect("needs");
    // seed.rs's DEMO: four needs in Rødovre, four in Roskilde (two of them Rotary's resource
    // bank), two in Syddjurs.
    assert_eq!(needs.len(), 10, "every demo need, once: {needs:?}");
    assert!(needs.iter().all(|(_, _, open)| *open), "{needs:?}");
    let matches: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tenant, CASE WHEN person_id IS NULL THEN 'need' ELSE 'person' END, status
         FROM matching.match ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .expect("matches");
    // Per demo municipality, on a need: one under way, one a volunteer asked for; and each
    // demo person (Rødovre: a family and a mentee; the others: a mentee) paired, under way.
    let row = |t: &str, side: &str, status: &str| (t.into(), side.into(), status.into());
    let mut expected: Vec<(String, String, String)> = ["rodovre", "roskilde", "syddjurs"]
        .iter()
        .flat_map(|t| {
            [
                row(t, "need", "active"),
                row(t, "need", "proposed"),
                row(t, "person", "active"),
            ]
        })
        .collect();
    expected.insert(3, row("rodovre", "person", "active"));
    assert_eq!(matches, expected);
    let persons: i64 = sqlx::query_scalar("SELECT count(*) FROM directory.person")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(persons, 4, "every demo person, once");
    let elsewhere: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM matching.volunteer
         WHERE tenant = 'roskilde' AND other_municipalities = ARRAY['rodovre']",
    )
    .fetch_one(&pool)
    .await
    .expect("volunteers matched elsewhere");
    assert_eq!(
        elsewhere, 1,
        "a Roskilde volunteer may also be matched in Rødovre"
    );
    let rebuilt = samskab(&nats, &database, &["rebuild", "grants"])
        .output()
        .expect("rebuild");
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    let cases: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT a.tenant, p.name, a.status || coalesce('/' || a.outcome, ''), a.granted
         FROM grants.application a JOIN grants.pool p ON p.tenant = a.tenant AND p.id = a.pool_id
         ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(&pool)
    .await
    .expect("grant cases");
    // seed_grants.rs: Roskilde's seven partnerships of 107.000 kr. a year for 2021–2023 (seed
    // 002); Rødovre's §18 pool with a
    // decision of every kind (a grant in part after a complaint, above the threshold approved
    // by a second) and an informal group's application to the pool for new volunteers.
    let case = |t: &str, pool: &str, status: &str, granted: i64| {
        (
            t.to_string(),
            pool.to_string(),
            status.to_string(),
            Some(granted),
        )
    };
    let mut expected = vec![
        case(
            "rodovre",
            "Puljen til nye frivillige",
            "decided/full",
            800_000,
        ),
        case("rodovre", "§18-puljen", "decided/full", 6_000_000),
        case("rodovre", "§18-puljen", "decided/full", 15_000_000),
        case("rodovre", "§18-puljen", "decided/partial", 3_000_000),
        case("rodovre", "§18-puljen", "decided/partial", 5_000_000),
        case("rodovre", "§18-puljen", "decided/refused", 0),
    ];
    for _ in 0..7 {
        expected.push(case(
            "roskilde",
            "Partnerskabspuljen for foreningslivet 2021–2023",
            "decided/full",
            32_100_000,
        ));
    }
    expected.sort();
    assert_eq!(cases, expected);
    let decisions: i64 = sqlx::query_scalar("SELECT count(*) FROM grants.decision")
        .fetch_one(&pool)
        .await
        .expect("decisions");
    assert_eq!(
        decisions, 14,
        "the complaint's case was decided twice, never edited"
    );

    // The audit trail of the grant cases: rebuilt from the log, verified, and a changed
    // record found and named.
    let rebuilt = samskab(&nats, &database, &["rebuild", "audit"])
        .output()
        .expect("rebuild");
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    let verified = samskab(&nats, &database, &["audit", "verify"])
        .output()
        .expect("verify");
    let stdout = String::from_utf8_lossy(&verified.stdout).to_string();
    assert!(verified.status.success(), "{stdout}{}", stderr(&verified));
    assert!(stdout.contains("rodovre: ok"), "{stdout}");
    assert!(stdout.contains("roskilde: ok"), "{stdout}");
    sqlx::query(
        "UPDATE audit.record SET payload = replace(payload, '10700000', '10800000')
         WHERE tenant = 'roskilde' AND event_type LIKE '%decided%'
           AND seq = (SELECT min(seq) FROM audit.record
                      WHERE tenant = 'roskilde' AND event_type LIKE '%decided%')",
    )
    .execute(&pool)
    .await
    .expect("tamper");
    let broken = samskab(&nats, &database, &["audit", "verify"])
        .output()
        .expect("verify");
    let stdout = String::from_utf8_lossy(&broken.stdout).to_string();
    assert!(!broken.status.success(), "{stdout}");
    assert!(stdout.contains("roskilde: BROKEN"), "{stdout}");
    assert!(stdout.contains("rodovre: ok"), "{stdout}");

    for posted_by in ["municipality", "organisation"] {
        assert!(
            needs.iter().any(|(_, p, _)| p == posted_by),
            "a demo need posted by the {posted_by}: {needs:?}"
        );
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let all = samskab(&nats, &database, &["all"])
        .env("SAMSKAB_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("all");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "samskab all did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &all.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let output = all.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("stopped cleanly"),
        "{}",
        stderr(&output)
    );
}
