//! The plaintext scan through the real server: `usalama serve` runs on a fresh store (with
//! debug logs to a file and a private `TMPDIR`) and receives unique planted names and
//! phone numbers through every channel over HTTP — the web form (with the CSRF token of
//! the form), `POST /api/v1/reports`, `POST /api/v1/reports:batch`, the SMS webhook
//! (sender number and message text) and an OpenRosa submission with an attachment whose
//! bytes carry a planted marker. Then `usalama backup` and, on PostgreSQL, `pg_dump` of the
//! schema. The planted bytes — plain, lower-case, upper-case, UTF-16, hex and base64 —
//! must appear nowhere: not in the SQLite main, WAL and shm files, the backup, the dump,
//! the logs, the server's standard output and error, nor in any file under the private
//! `TMPDIR` and the data directory. Controls make the test able to fail for the right
//! reason: an analyst gets every planted name and number back through
//! `GET /api/v1/events/{id}`, the attachment and the SMS as received open with the key
//! file, and a marker written in clear (a description not marked sensitive) IS found by
//! the same scan in the database files, the backup and the dump.

use crate::common::{free_port, fresh_pg_schema, usalama, wait_listening};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use usalama_test_support::{form_urlencoded, multipart};

/// A reply: status, head (lower-cased names kept as sent) and body.
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The value of the first `Set-Cookie` for `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (h, v) = l.split_once(':')?;
            if !h.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let pair = v.trim().split(';').next()?;
            let (n, val) = pair.split_once('=')?;
            (n == name).then(|| val.to_string())
        })
    }
}

/// One HTTP/1.1 request on loopback (`Connection: close`).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = find(&raw, b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Reply { status, head, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = find(b, b"\r\n") {
        let size = std::str::from_utf8(&b[..i]).unwrap().trim();
        let n = usize::from_str_radix(size.split(';').next().unwrap(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
    out
}

/// A GET with an `Authorization` header that must answer 200.
fn get_ok(addr: &str, path: &str, authorization: &str) -> Reply {
    let r = http(addr, "GET", path, &[("Authorization", authorization)], b"");
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    r
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(A[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The byte forms a planted value could take in a file: as written, UTF-16 (both byte
/// orders), hex, and base64 at the three alignments (only the characters the value alone
/// determines). All lower-cased: the scan lower-cases what it reads, so upper- and
/// lower-cased copies are found too.
fn forms(v: &str) -> Vec<(&'static str, Vec<u8>)> {
    let b = v.as_bytes();
    let mut out = vec![
        ("plain", b.to_vec()),
        ("utf-16le", b.iter().flat_map(|&c| [c, 0]).collect()),
        ("utf-16be", b.iter().flat_map(|&c| [0, c]).collect()),
        (
            "hex",
            b.iter()
                .flat_map(|c| format!("{c:02x}").into_bytes())
                .collect(),
        ),
    ];
    for k in 0..3 {
        let mut padded = vec![0u8; k];
        padded.extend_from_slice(b);
        let full = padded.len() / 3 * 4;
        let enc = base64(&padded);
        let from = if k == 0 { 0 } else { 4 };
        out.push(("base64", enc.as_bytes()[from..full].to_vec()));
    }
    for (_, f) in &mut out {
        f.make_ascii_lowercase();
    }
    out
}

/// Finds every planted value, in every form, in `hay` (one pass over it).
struct Scanner {
    values: usize,
    needles: Vec<(String, &'static str, Vec<u8>)>,
    by_prefix: HashMap<[u8; 8], Vec<usize>>,
}

impl Scanner {
    fn new(values: &[String]) -> Self {
        let mut needles = Vec::new();
        let mut by_prefix: HashMap<[u8; 8], Vec<usize>> = HashMap::new();
        for v in values {
            for (form, bytes) in forms(v) {
                assert!(bytes.len() >= 8, "{v} is too short to scan for");
                by_prefix
                    .entry(bytes[..8].try_into().unwrap())
                    .or_default()
                    .push(needles.len());
                needles.push((v.clone(), form, bytes));
            }
        }
        Scanner {
            values: values.len(),
            needles,
            by_prefix,
        }
    }

    /// (value, form) of every needle found.
    fn scan(&self, hay: &[u8]) -> Vec<(String, &'static str)> {
        let hay = hay.to_ascii_lowercase();
        let mut found = Vec::new();
        if hay.len() < 8 {
            return found;
        }
        for i in 0..=hay.len() - 8 {
            let key: [u8; 8] = hay[i..i + 8].try_into().unwrap();
            if let Some(ids) = self.by_prefix.get(&key) {
                for &n in ids {
                    let (v, form, bytes) = &self.needles[n];
                    if hay[i..].starts_with(bytes) && !found.contains(&(v.clone(), *form)) {
                        found.push((v.clone(), *form));
                    }
                }
            }
        }
        found
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every file under `dir` in which a planted value was found, with what was found; prints
/// how many files and bytes were read.
fn leaks(scanner: &Scanner, dir: &Path) -> (usize, Vec<String>) {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    let mut out = Vec::new();
    let mut bytes_read = 0;
    for f in &files {
        // A file may vanish between the listing and the read (the WAL at a checkpoint).
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        bytes_read += bytes.len();
        for (v, form) in scanner.scan(&bytes) {
            out.push(format!("{} ({form}) in {}", v, f.display()));
        }
    }
    eprintln!(
        "plaintext scan: {} needles ({} values in every form), {} files, {bytes_read} bytes",
        scanner.needles.len(),
        scanner.values,
        files.len()
    );
    (files.len(), out)
}

/// The installation under test: its directory, store flags and private `TMPDIR`.
struct Install {
    root: tempfile::TempDir,
    args: Vec<String>,
    tmp: PathBuf,
    location: usalama_store::StoreLocation,
    /// PostgreSQL: (server URL, schema).
    pg: Option<(String, String)>,
}

impl Install {
    /// `usalama` at debug level with the private `TMPDIR`, the config and the store flags.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = usalama();
        c.env("USALAMA_LOG", "debug")
            .env("TMPDIR", &self.tmp)
            .args(args)
            .args(&self.args);
        c
    }

    /// Runs a command; its output is written beside the logs (and scanned with them).
    fn ok(&self, name: &str, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        let logs = self.root.path().join("logs");
        std::fs::write(logs.join(format!("{name}.stdout")), &out.stdout).unwrap();
        std::fs::write(logs.join(format!("{name}.stderr")), &out.stderr).unwrap();
        assert!(
            out.status.success(),
            "usalama {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn serve(&self, port: u16) -> Child {
        let logs = self.root.path().join("logs");
        let mut child = self
            .cmd(&["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(std::fs::File::create(logs.join("serve.stdout")).unwrap())
            .stderr(std::fs::File::create(logs.join("serve.log")).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(&mut child, port, Duration::from_secs(120));
        child
    }
}

fn install(pg: Option<&str>) -> Install {
    let root = tempfile::tempdir().unwrap();
    let tmp = root.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(root.path().join("logs")).unwrap();
    let config = root.path().join("usalama.toml");
    // One client address sends everything: no rate limit gets in the way.
    std::fs::write(
        &config,
        "[server.rate_limits]\nreport_form = 100000\nreport_api = 100000\nsms = 100000\nsubmission = 100000\n",
    )
    .unwrap();
    let key = root.path().join("master.key");
    let (mut args, location, pg) = match pg {
        None => {
            let d = root.path().join("data");
            (
                vec!["--data-dir".to_string(), d.display().to_string()],
                usalama_store::StoreLocation::SqliteDir(d),
                None,
            )
        }
        Some(url) => {
            let schema = format!("plain_{}", std::process::id());
            let scoped = fresh_pg_schema(url, &schema);
            (
                vec!["--database-url".to_string(), scoped.clone()],
                usalama_store::StoreLocation::from_url(&scoped).unwrap(),
                Some((url.to_string(), schema)),
            )
        }
    };
    args.extend([
        "--key-file".to_string(),
        key.display().to_string(),
        "--config".to_string(),
        config.display().to_string(),
    ]);
    Install {
        root,
        args,
        tmp,
        location,
        pg,
    }
}

/// What was planted, and where it must come back.
#[derive(Default)]
struct Planted {
    /// Every planted value (the scan looks for all of them).
    all: Vec<String>,
    /// Values an analyst must get back through `GET /api/v1/events/{id}`.
    readable: Vec<String>,
    tag: String,
}

impl Planted {
    fn new() -> Self {
        let tag = format!("{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
        Planted {
            tag,
            ..Default::default()
        }
    }
    /// A unique name such as `Amani Zulu12345678n3` (its second word is unique).
    fn name(&mut self, readable: bool) -> String {
        let v = format!("Amani Zulu{}n{}", self.tag, self.all.len());
        self.keep(&v, &v[6..], readable)
    }
    /// A unique phone number such as `+2367123456783`.
    fn phone(&mut self, readable: bool) -> String {
        let v = format!("+2367{}{}", self.tag, self.all.len());
        self.keep(&v, &v[1..], readable)
    }
    /// A unique word such as `Photo12345678x5`.
    fn word(&mut self, kind: &str, readable: bool) -> String {
        let v = format!("{kind}{}x{}", self.tag, self.all.len());
        self.keep(&v, &v, readable)
    }
    /// Keeps the unique part of `v` (what survives encodings such as `+` → `%2B`).
    fn keep(&mut self, v: &str, core: &str, readable: bool) -> String {
        self.all.push(core.to_string());
        if readable {
            self.readable.push(core.to_string());
        }
        v.to_string()
    }
}

/// A report for the JSON API with a planted name, number and sensitive description.
fn api_report(p: &mut Planted) -> serde_json::Value {
    serde_json::json!({
        "category": "violence_against_civilians",
        "occurred_start": "2023-11-12",
        "place_code": "CF43",
        "killed": 1,
        "description": p.word("Secret", true),
        "description_sensitive": true,
        "people": [{"name": p.name(true), "age": 30, "sex": "female", "role": "victim"}],
        "reporter_contact": p.phone(true),
    })
}

/// Plants through every channel of the running server; returns the SMS's event id (for
/// the control of the message as received) and the marker written in clear.
fn plant_everywhere(
    addr: &str,
    p: &mut Planted,
    reporter: &str,
    analyst: &str,
    odk: &str,
) -> (String, String) {
    let bearer = format!("Bearer {reporter}");
    let json_post = |path: &str, body: &serde_json::Value| {
        http(
            addr,
            "POST",
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    };

    // The web form, anonymous, with the CSRF token of the form. Its description is not
    // marked sensitive: it is the marker written in clear, which the scan must find.
    let form = http(addr, "GET", "/report", &[], b"");
    assert_eq!(form.status, 200, "{}", form.text());
    let csrf = form.cookie("usalama_csrf").expect("a CSRF cookie");
    assert!(form.text().contains(&csrf), "the form carries the token");
    let clear = format!("Visible{}marker", p.tag);
    let (name, phone) = (p.name(true), p.phone(true));
    let body = form_urlencoded(&[
        ("csrf", &csrf),
        ("nonce", &format!("n-{}", p.tag)),
        ("category", "arbitrary_arrest"),
        ("occurred_start", "2023-11-14"),
        ("place", "Ouaka"),
        ("injured", "1"),
        ("description", &clear),
        ("p0_name", &name),
        ("p0_age", "23"),
        ("p0_sex", "male"),
        ("p0_role", "victim"),
        ("reporter_contact", &phone),
    ]);
    let r = http(
        addr,
        "POST",
        "/report",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &format!("usalama_csrf={csrf}")),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("class=\"reference\""), "{}", r.text());

    // The JSON API, one report.
    let r = json_post("/api/v1/reports", &api_report(p));
    assert_eq!(r.status, 201, "{}", r.text());

    // The batch API, three reports.
    let batch = serde_json::Value::Array((0..3).map(|_| api_report(p)).collect());
    let r = json_post("/api/v1/reports:batch", &batch);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created"], 3);

    // SMS (SMSSync's form fields, the token as a query parameter, which logs never
    // carry): the sender's number and a name in the message's free text.
    let sender = p.phone(false);
    let text = format!("KILL 2 Ouaka {} shot at the market", p.name(true));
    let body = form_urlencoded(&[
        ("from", &sender),
        ("message", &text),
        ("sent_timestamp", "1699900000000"),
        ("message_id", &format!("sms-{}", p.tag)),
    ]);
    let r = http(
        addr,
        "POST",
        &format!("/api/v1/sms/inbound?token={reporter}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["payload"]["success"], true, "{}", r.text());
    let sms = get_ok(
        addr,
        "/api/v1/events?source=sms",
        &format!("Bearer {analyst}"),
    );
    let sms_id = sms.json()["items"][0]["id"].as_str().unwrap().to_string();

    // OpenRosa: the form's version, then an instance with a person, a contact and a photo
    // whose bytes carry a planted marker.
    let basic = format!("Basic {}", base64(odk.as_bytes()));
    let xform = get_ok(addr, "/forms/report.xml", &basic);
    let version = xform
        .text()
        .split("<data id=\"usalama_report\" version=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (name, contact) = (p.name(true), p.phone(true));
    let photo = format!("\u{ff}JPEG {} JPEG", p.word("Photo", false)).into_bytes();
    let instance = format!(
        "<?xml version='1.0' ?><data id=\"usalama_report\" version=\"{version}\"><category>abduction</category><occurred_start>2023-11-12</occurred_start><place>Ouaka</place><injured>1</injured><people><name>{name}</name><age>12</age><sex>male</sex><role>victim</role></people><reporter_contact>{contact}</reporter_contact><photo>p.jpg</photo><meta><instanceID>uuid:{}</instanceID></meta></data>",
        uuid::Uuid::new_v4()
    );
    let (ct, body) = multipart(&[
        (
            "xml_submission_file",
            "submission.xml",
            "text/xml",
            instance.as_bytes(),
        ),
        ("p.jpg", "p.jpg", "image/jpeg", &photo),
    ]);
    let r = http(
        addr,
        "POST",
        "/submission",
        &[
            ("Authorization", &basic),
            ("Content-Type", &ct),
            ("X-OpenRosa-Version", "1.0"),
        ],
        &body,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    (sms_id, clear)
}

/// Every event's detail as an analyst sees it (each read is audited).
fn details_as_analyst(addr: &str, analyst: &str) -> String {
    let auth = format!("Bearer {analyst}");
    let list = get_ok(addr, "/api/v1/events?limit=100", &auth);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 7, "web, API, 3 batch, SMS, OpenRosa");
    let mut all = list.text();
    for it in items {
        let id = it["id"].as_str().unwrap();
        all.push_str(&get_ok(addr, &format!("/api/v1/events/{id}"), &auth).text());
    }
    all
}

fn stop(mut server: Child) {
    // SIGTERM: the graceful shutdown (the server closes its store and flushes its logs).
    let st = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(st) = server.try_wait().unwrap() {
            assert!(st.success(), "usalama serve exited with {st}");
            return;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            panic!("usalama serve did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn scan_installation(pg: Option<&str>) {
    let inst = install(pg);
    let boundaries = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/demo/caf_admin1.geojson"
    );
    inst.ok(
        "import",
        &["import", "boundaries", boundaries, "--level", "adm1"],
    );
    let reporter = inst.ok(
        "token-reporter",
        &[
            "token", "create", "--role", "reporter", "--label", "monitors",
        ],
    );
    let analyst = inst.ok(
        "token-analyst",
        &[
            "token", "create", "--role", "analyst", "--label", "analysts",
        ],
    );
    let (reporter, analyst) = (reporter.trim(), analyst.trim());
    let out = inst.ok("user", &["user", "add", "odk1", "--role", "reporter"]);
    let password = out.trim().rsplit(' ').next().expect("a generated password");
    let mut p = Planted::new();

    let port = free_port();
    let server = inst.serve(port);
    let addr = format!("127.0.0.1:{port}");
    let (sms_id, clear) = plant_everywhere(
        &addr,
        &mut p,
        reporter,
        analyst,
        &format!("odk1:{password}"),
    );

    // Control: an analyst gets every readable planted value back over HTTP.
    let details = details_as_analyst(&addr, analyst);
    for v in &p.readable {
        assert!(
            details.contains(v.as_str()),
            "an analyst reads {v} through GET /api/v1/events/{{id}}"
        );
    }

    // The backup (online, the server running), the dump, then the scan — once while the
    // server runs (the WAL holds the latest writes) and once after it stopped.
    let backup = inst.root.path().join("usalama.backup");
    inst.ok("backup", &["backup", backup.to_str().unwrap()]);
    let mut dumped = false;
    if let Some((url, schema)) = &inst.pg {
        let dump = inst.root.path().join("pg.dump.sql");
        match Command::new("pg_dump")
            .args(["--no-owner", "-n", schema, "-f"])
            .arg(&dump)
            .arg(url)
            .env("TMPDIR", &inst.tmp)
            .output()
        {
            Ok(out) => {
                assert!(
                    out.status.success(),
                    "pg_dump: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                dumped = true;
            }
            Err(e) => eprintln!("pg_dump not run ({e}): the PostgreSQL dump is not scanned"),
        }
    }
    let scanner = Scanner::new(&p.all);
    let (n, found) = leaks(&scanner, inst.root.path());
    assert!(
        found.is_empty(),
        "planted values found while serving:\n{}",
        found.join("\n")
    );
    stop(server);
    let (n_after, found) = leaks(&scanner, inst.root.path());
    assert!(
        found.is_empty(),
        "planted values found after the server stopped:\n{}",
        found.join("\n")
    );
    assert!(n >= 8 && n_after >= 8, "{n} and {n_after} files scanned");

    // Control: the same scan finds what is stored in clear, in every artefact.
    let clear_scan = Scanner::new(std::slice::from_ref(&clear));
    let mut artefacts = vec![backup.clone()];
    match &inst.location {
        usalama_store::StoreLocation::SqliteDir(d) => {
            artefacts.push(d.join("usalama.sqlite3"));
        }
        _ => {
            if dumped {
                artefacts.push(inst.root.path().join("pg.dump.sql"));
            }
        }
    }
    for a in &artefacts {
        let bytes = std::fs::read(a).unwrap();
        assert!(
            !clear_scan.scan(&bytes).is_empty(),
            "the scan finds the clear marker in {}",
            a.display()
        );
    }

    // Control: with the key file, the attachment and the SMS as received open.
    let store = usalama_store::open(&inst.location).unwrap();
    let key = std::fs::read_to_string(inst.root.path().join("master.key")).unwrap();
    let ring = usalama_app::Keyring::parse(&key).unwrap();
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = usalama_app::App::new(store, taxonomy, Arc::new(usalama_app::SystemClock))
        .with_vault(ring, Arc::new(usalama_app::MemoryLedger::default()));
    let op = usalama_app::Principal::Operator;
    let sms: usalama_domain::EventId = sms_id.parse().unwrap();
    let raw = app.personal_data(&op, sms).unwrap().unwrap().raw_text;
    assert!(
        raw.as_deref()
            .is_some_and(|t| t.starts_with("KILL 2 Ouaka")),
        "{raw:?}"
    );
    let openrosa = app
        .store()
        .list_events(&usalama_store::EventQuery {
            source: Some("openrosa".into()),
            ..Default::default()
        })
        .unwrap()
        .items;
    let files = app.attachments(&op, openrosa[0].event.id).unwrap();
    let marker = p.all.iter().find(|v| v.starts_with("Photo")).unwrap();
    assert!(
        files.len() == 1 && find(&files[0].bytes, marker.as_bytes()).is_some(),
        "the attachment opens with its marker"
    );
    if let Some((url, schema)) = &inst.pg {
        let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    }
}

#[test]
fn planted_names_and_numbers_sent_over_http_appear_in_no_file_on_sqlite() {
    scan_installation(None);
}

#[test]
fn planted_names_and_numbers_sent_over_http_appear_in_no_file_on_postgres_when_configured() {
    let Ok(url) = std::env::var("USALAMA_TEST_POSTGRES_URL") else {
        eprintln!("USALAMA_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    scan_installation(Some(&url));
}
