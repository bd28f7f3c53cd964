//! The crash test (`bench/crash-test`; ignored in the normal suite because it kills
//! servers, and on PostgreSQL a database cluster, for minutes). `usalama serve` runs on a
//! fresh store while client threads post batches to `POST /api/v1/reports:batch` and record
//! the references of every batch answered with a 2xx; at a random (seeded) moment the server
//! is killed with SIGKILL — on PostgreSQL also, or instead, the database is stopped with
//! `pg_ctl stop -m immediate` — and everything is restarted. After all cycles, every
//! acknowledged reference must be stored and the integrity check (SQLite `PRAGMA
//! integrity_check`; PostgreSQL amcheck on every index) must be clean.
//!
//! Environment: `USALAMA_CRASH_BACKEND` (`sqlite` or `postgres`), `USALAMA_CRASH_CYCLES`
//! (default 10), `USALAMA_CRASH_SEED` (default 1); for PostgreSQL `USALAMA_CRASH_PG_URL` (a
//! database of a cluster of its own) and `USALAMA_CRASH_PG_CTL` (the `pg_ctl` command line
//! of that cluster, to which `stop -m immediate` and `start -w` are appended).

use crate::common::{free_port, usalama, wait_listening};
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// SplitMix64, seeded.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// POSTs JSON; the status and body, or None when the connection failed or broke.
fn post(addr: &str, path: &str, token: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let lower = head.to_ascii_lowercase();
    if let Some(len) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        // A response cut short by the kill is not an acknowledgement.
        if body.len() < len {
            return None;
        }
    }
    Some((status, body.to_string()))
}

/// The store flags and how to reach the store from this process.
struct Target {
    args: Vec<String>,
    location: usalama_store::StoreLocation,
    pg_ctl: Option<String>,
    _dir: tempfile::TempDir,
}

fn pg_ctl(cmd: &str, action: &str) {
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{cmd} {action} >/dev/null"))
        .status()
        .expect("run pg_ctl");
    assert!(st.success(), "pg_ctl {action} failed");
}

fn start_server(t: &Target, port: u16, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = usalama()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(&t.args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start usalama serve");
    wait_listening(&mut child, port, Duration::from_secs(60));
    child
}

/// What the client threads saw.
#[derive(Default)]
struct Tally {
    acknowledged: Mutex<Vec<String>>,
    batches_acknowledged: AtomicU64,
    batches_unanswered: AtomicU64,
    batches_refused: AtomicU64,
}

fn batch_json(rng: &mut Rng, prefix: &str, seq: &mut u64) -> String {
    let n = 1 + rng.below(50);
    let items: Vec<String> = (0..n)
        .map(|_| {
            *seq += 1;
            let lat = 4.0 + rng.below(3000) as f64 / 1000.0;
            let lon = 16.0 + rng.below(6000) as f64 / 1000.0;
            format!(
                r#"{{"category":"violence_against_civilians","occurred_start":"2023-11-12","latitude":{lat},"longitude":{lon},"killed":{},"external_id":"{prefix}-{seq}","description":"crash test report {prefix}-{seq}"}}"#,
                rng.below(5)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn client(
    addr: String,
    token: String,
    seed: u64,
    prefix: String,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let mut rng = Rng(seed);
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let body = batch_json(&mut rng, &prefix, &mut seq);
        match post(&addr, "/api/v1/reports:batch", &token, &body) {
            Some((status, text)) if (200..300).contains(&status) => {
                let v: serde_json::Value = serde_json::from_str(&text).expect("2xx JSON");
                let refs: Vec<String> = v["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .map(|r| r["reference"].as_str().expect("reference").to_string())
                    .collect();
                tally.acknowledged.lock().unwrap().extend(refs);
                tally.batches_acknowledged.fetch_add(1, Ordering::Relaxed);
            }
            Some((status, text)) => {
                // Refused while the database is down (503/500) — never a 2xx, never counted.
                assert!(status >= 500, "unexpected answer {status}: {text}");
                tally.batches_refused.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
            None => {
                tally.batches_unanswered.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn setup(backend: &str) -> Target {
    let dir = tempfile::tempdir().unwrap();
    let (args, location, pg) = match backend {
        "sqlite" => {
            let d = dir.path().join("data");
            (
                vec!["--data-dir".to_string(), d.display().to_string()],
                usalama_store::StoreLocation::SqliteDir(d),
                None,
            )
        }
        "postgres" => {
            let url = env("USALAMA_CRASH_PG_URL").expect("USALAMA_CRASH_PG_URL");
            let ctl = env("USALAMA_CRASH_PG_CTL").expect("USALAMA_CRASH_PG_CTL");
            (
                vec!["--database-url".to_string(), url.clone()],
                usalama_store::StoreLocation::from_url(&url).unwrap(),
                Some(ctl),
            )
        }
        other => panic!("USALAMA_CRASH_BACKEND must be sqlite or postgres, not {other}"),
    };
    // The load comes from one client address: lift the batch API's rate limit, which
    // would otherwise answer 429. The master key file lives beside the data, as an
    // installation's does (PostgreSQL needs it named).
    let config = dir.path().join("usalama.toml");
    std::fs::write(&config, "[server.rate_limits]\nreport_api = 1000000\n").unwrap();
    let mut args = args;
    args.extend([
        "--key-file".to_string(),
        dir.path().join("master.key").display().to_string(),
        "--config".to_string(),
        config.display().to_string(),
    ]);
    let boundaries = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/demo/caf_admin1.geojson"
    );
    let out = usalama()
        .args(["import", "boundaries", boundaries, "--level", "adm1"])
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Target {
        args,
        location,
        pg_ctl: pg,
        _dir: dir,
    }
}

#[test]
#[ignore = "minutes long and kills processes: run with bench/crash-test"]
fn crash_test() {
    let backend = env("USALAMA_CRASH_BACKEND").unwrap_or_else(|| "sqlite".into());
    let cycles: u64 = env("USALAMA_CRASH_CYCLES").map_or(10, |c| c.parse().expect("cycles"));
    let seed: u64 = env("USALAMA_CRASH_SEED").map_or(1, |c| c.parse().expect("seed"));
    let started = Instant::now();
    let t = setup(&backend);
    let out = usalama()
        .args(["token", "create", "--role", "reporter", "--label", "crash"])
        .args(&t.args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let log = t._dir.path().join("server.log");
    let tally = Arc::new(Tally::default());
    let mut rng = Rng(seed);
    let mut db_crashes = 0;
    for cycle in 0..cycles {
        let port = free_port();
        let mut server = start_server(&t, port, &log);
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let (stop, tally) = (stop.clone(), tally.clone());
                let addr = format!("127.0.0.1:{port}");
                let token = token.clone();
                let s = rng.next();
                std::thread::spawn(move || {
                    client(addr, token, s, format!("c{cycle}t{i}"), stop, tally)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200 + rng.below(1800)));
        // SQLite: the server dies. PostgreSQL: the server dies, or the database dies (and
        // the server with it), or the database dies and comes back under the running server.
        let how = if t.pg_ctl.is_some() { rng.below(3) } else { 0 };
        if let Some(ctl) = &t.pg_ctl {
            if how >= 1 {
                pg_ctl(ctl, "stop -m immediate");
                db_crashes += 1;
            }
            if how == 2 {
                std::thread::sleep(Duration::from_millis(300));
                pg_ctl(ctl, "start -w");
                std::thread::sleep(Duration::from_millis(300 + rng.below(1000)));
            }
        }
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for th in threads {
            th.join().unwrap();
        }
        if let (Some(ctl), 1) = (&t.pg_ctl, how) {
            pg_ctl(ctl, "start -w");
        }
        eprintln!(
            "cycle {}/{cycles}: {} reports acknowledged so far",
            cycle + 1,
            tally.acknowledged.lock().unwrap().len()
        );
    }
    let store = usalama_store::open(&t.location).unwrap();
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|r| store.report_status(r).unwrap().is_none())
        .collect();
    let check = store.check_integrity().unwrap();
    let stored = store
        .table_digests()
        .unwrap()
        .into_iter()
        .find(|d| d.table == "report_receipts")
        .map_or(0, |d| d.rows);
    eprintln!(
        "crash test ({backend}, seed {seed}): {cycles} cycles ({db_crashes} database crashes) in {:.0} s; \
         {} batches / {} reports acknowledged, {} lost; {} batches unanswered at a kill, {} refused \
         while the database was down; {stored} reports stored; integrity: {} checks, {}",
        started.elapsed().as_secs_f64(),
        tally.batches_acknowledged.load(Ordering::Relaxed),
        acknowledged.len(),
        lost.len(),
        tally.batches_unanswered.load(Ordering::Relaxed),
        tally.batches_refused.load(Ordering::Relaxed),
        check.checked.len(),
        if check.is_ok() { "clean".to_string() } else { check.problems.join("; ") }
    );
    assert!(!acknowledged.is_empty(), "no batch was acknowledged");
    assert!(lost.is_empty(), "acknowledged reports lost: {lost:?}");
    assert!(check.is_ok(), "{:?}", check.problems);
}
