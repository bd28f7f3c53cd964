//! The `usalama` binary as a newcomer and an administrator meet it: the demo prints its
//! credentials and serves the real data, and every kind of bad input gets a one-line error
//! and a documented non-zero exit code, with nothing overwritten.

use crate::common::{fresh_pg_schema, http_get, run, start_demo};
use std::path::Path;
use std::process::{Command, Output};

/// The one-line error of a failed command, checked to be one line and non-empty.
fn one_line_error(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("usalama: ")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    lines[0].to_string()
}

#[test]
fn invalid_database_url_is_refused() {
    let out = run(&["migrate", "--database-url", "mysql://root@localhost/x"]);
    let e = one_line_error(&out, 3);
    assert!(e.contains("unsupported scheme 'mysql'"), "{e}");
}

#[test]
fn both_store_flags_are_refused() {
    let out = run(&[
        "migrate",
        "--database-url",
        "postgres://h/db",
        "--data-dir",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn unreachable_postgres_is_a_one_line_error() {
    let out = run(&[
        "migrate",
        "--database-url",
        "postgres://nobody:pw@127.0.0.1:1/none",
    ]);
    let e = one_line_error(&out, 4);
    assert!(e.contains("PostgreSQL") || e.contains("connect"), "{e}");
}

#[test]
fn foreign_data_directory_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thesis.docx"), "precious").unwrap();
    let out = run(&["migrate", "--data-dir", dir.path().to_str().unwrap()]);
    let e = one_line_error(&out, 4);
    assert!(e.contains("not a Usalama database"), "{e}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("thesis.docx")).unwrap(),
        "precious"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn unreadable_data_directory_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = run(&["migrate", "--data-dir", file.to_str().unwrap()]);
    let e = one_line_error(&out, 3);
    assert!(e.contains("not a directory"), "{e}");
}

#[test]
fn corrupt_database_is_reported_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(run(&["migrate", "--data-dir", data.to_str().unwrap()])
        .status
        .success());
    let db = data.join("usalama.sqlite3");
    let mut bytes = std::fs::read(&db).unwrap();
    let n = bytes.len();
    bytes[100..n].fill(0x5a);
    std::fs::write(&db, &bytes).unwrap();
    let out = run(&["migrate", "--data-dir", data.to_str().unwrap()]);
    let e = one_line_error(&out, 4);
    assert!(
        e.contains("corrupt") || e.contains("not a Usalama database"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "the damaged file is not overwritten"
    );
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(run(&["migrate", "--data-dir", data.to_str().unwrap()])
        .status
        .success());
    let ok = Command::new("sqlite3")
        .arg(data.join("usalama.sqlite3"))
        .arg("INSERT INTO usalama_migrations VALUES (42, 'later')")
        .status()
        .expect("the sqlite3 shell is needed (apt-get install sqlite3)");
    assert!(ok.success());
    let out = run(&["migrate", "--data-dir", data.to_str().unwrap()]);
    let e = one_line_error(&out, 4);
    assert!(e.contains("schema version 42 is newer"), "{e}");
}

#[test]
fn bad_config_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("usalama.toml");
    std::fs::write(&cfg, "[server]\nbindd = \"x\"\n").unwrap();
    let out = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "migrate",
        "--data-dir",
        dir.path().join("d").to_str().unwrap(),
    ]);
    let e = one_line_error(&out, 3);
    assert!(e.contains("bindd") && e.contains("usalama.toml"), "{e}");
}

#[test]
fn bad_sms_keyword_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let kw = dir.path().join("sms.toml");
    std::fs::write(
        &kw,
        "[reply.en]\nreceived = \"r\"\nplace_unknown = \"p\"\nnot_understood = \"n\"\n\n[[keyword]]\nlang = \"en\"\nwords = [\"BOOM\"]\ncategory = \"fireworks\"\ncount = \"none\"\n",
    )
    .unwrap();
    let out = run(&[
        "migrate",
        "--data-dir",
        dir.path().join("d").to_str().unwrap(),
        "--sms-keywords",
        kw.to_str().unwrap(),
    ]);
    let e = one_line_error(&out, 3);
    assert!(
        e.contains("sms.toml") && e.contains("line 9") && e.contains("fireworks"),
        "{e}"
    );
}

fn total(body: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["total"].as_u64().unwrap()
}

#[test]
fn demo_serves_real_data_and_a_second_run_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    {
        let s = start_demo(&["--data-dir", d]);
        assert_eq!(
            http_get(&s.base, "/api/v1/health", None),
            (200, "{\"status\":\"ok\"}".into())
        );
        let (st, body) = http_get(&s.base, "/api/v1/events?limit=1", Some(&s.token));
        assert_eq!(st, 200);
        assert_eq!(total(&body), 1848);
        let (_, body) = http_get(&s.base, "/api/v1/localities?level=adm1", Some(&s.token));
        assert_eq!(total(&body), 17);
        // A second server on the same port fails with a clear error.
        let port = s.base.rsplit(':').next().unwrap();
        let out = run(&[
            "serve",
            "--data-dir",
            dir.path().join("other").to_str().unwrap(),
            "--bind",
            &format!("127.0.0.1:{port}"),
        ]);
        let e = one_line_error(&out, 5);
        assert!(e.contains("already in use"), "{e}");
    }
    let again = run(&["demo", "--no-serve", "--data-dir", d]);
    assert!(again.status.success());
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        out.contains("imported 0, updated 0, unchanged 1848, rejected 0"),
        "{out}"
    );
    assert!(out.contains("API token: usa_"));
    check_index_command(&["--data-dir", d]);
    check_report_command(&["--data-dir", d]);
}

/// `usalama report` on the demo: the alerts section lists the demo's alerts of the last
/// month (links to their public pages, severity, follow-up columns), no free text.
fn check_report_command(store: &[&str]) {
    let mut args = vec!["report", "--period", "2022-12"];
    args.extend_from_slice(store);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("Alerts raised and their follow-up"), "{html}");
    assert!(!html.contains("not available in this build"));
    assert!(
        html.contains("href=\"/alerts/"),
        "the demo's alerts are listed"
    );
    assert!(html.contains("<th scope=\"col\">Acknowledged</th>"));
}

/// `usalama index` on the demo: a header, 17 provinces worst first, and clear refusals.
fn check_index_command(store: &[&str]) {
    let mut args = vec![
        "index", "--level", "adm1", "--period", "month", "--at", "2022-06",
    ];
    args.extend_from_slice(store);
    let out = run(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("ucdp-ged") && lines[0].contains("2022-06"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("code") && lines[1].contains("livelihood"),
        "{text}"
    );
    assert_eq!(lines.len(), 2 + 17, "{text}");
    let values: Vec<f64> = lines[2..]
        .iter()
        .filter_map(|l| l.split_whitespace().rev().nth(4)?.parse().ok())
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{text}");
    let mut bad = vec!["index", "--period", "fortnight"];
    bad.extend_from_slice(store);
    assert!(!run(&bad).status.success());
    // An index configuration file replaces the default, and is checked before use.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("index.toml");
    let default = include_str!("../../../../config/index.toml");
    std::fs::write(&file, default).unwrap();
    let file = file.to_str().unwrap();
    let mut ok = vec!["index", "--at", "2022-06", "--index-config", file];
    ok.extend_from_slice(store);
    let same = run(&ok);
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&same.stdout), text);
    std::fs::write(
        file,
        default.replace("min_dimensions = 1", "min_dimensions = 7"),
    )
    .unwrap();
    let broken = run(&ok);
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("min_dimensions"));
}

#[test]
fn demo_on_postgres_when_configured() {
    let Ok(url) = std::env::var("USALAMA_TEST_POSTGRES_URL") else {
        eprintln!("USALAMA_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    // A schema of its own, so that parallel tests do not collide.
    let schema = format!("cli_{}", std::process::id());
    let scoped = fresh_pg_schema(&url, &schema);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("master.key");
    let key_file = key_file.to_str().unwrap();
    // PostgreSQL needs a key file named; it is created on first start.
    let refused = run(&["index", "--database-url", &scoped]);
    assert_ne!(refused.status.code(), Some(0), "{refused:?}");
    let out = run(&[
        "demo",
        "--no-serve",
        "--database-url",
        &scoped,
        "--key-file",
        key_file,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("events (UCDP GED 23.1, CC BY 4.0): imported 1848"),
        "{stdout}"
    );
    let n: i64 = admin
        .query_one(&format!("SELECT count(*) FROM {schema}.events"), &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1848);
    check_index_command(&["--database-url", &scoped, "--key-file", key_file]);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

#[test]
fn import_reports_counts_and_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let adm1 = root.join("demo/caf_admin1.geojson");
    let out = run(&[
        "import",
        "boundaries",
        adm1.to_str().unwrap(),
        "--level",
        "adm1",
        "--data-dir",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("imported 17, updated 0, unchanged 0, rejected 0"));
    let csv = root.join("samples/ucdpged_sample1000.csv");
    let out = run(&["import", "ucdp", csv.to_str().unwrap(), "--data-dir", d]);
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("imported 1000, updated 0, unchanged 0, rejected 0"));
    let out = run(&["import", "ucdp", csv.to_str().unwrap(), "--data-dir", d]);
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("imported 0, updated 0, unchanged 1000, rejected 0"));
    let missing = run(&["import", "ucdp", "/nonexistent/file.csv", "--data-dir", d]);
    let e = one_line_error(&missing, 6);
    assert!(e.contains("/nonexistent/file.csv"), "{e}");
    let token = run(&["token", "create", "--role", "analyst", "--data-dir", d]);
    assert!(String::from_utf8_lossy(&token.stdout).starts_with("usa_"));
    let bad_role = run(&["token", "create", "--role", "king", "--data-dir", d]);
    assert_eq!(bad_role.status.code(), Some(2));
}

/// An ACLED CSV of `n` rows; data row `bad` has an impossible date.
fn acled_csv(n: usize, bad: usize) -> String {
    let mut s = String::from("event_id_cnty,event_date,event_type,sub_event_type,actor1,inter1,latitude,longitude,geo_precision,fatalities,notes\n");
    for i in 1..=n {
        let date = if i == bad { "2023-02-30" } else { "2023-02-03" };
        s.push_str(&format!(
            "X{i},{date},Battles,Armed clash,Group {},2,{},{},1,{},Clash {i}\n",
            i % 7,
            4.4 + (i % 10) as f64 * 0.01,
            18.5 + (i % 13) as f64 * 0.01,
            i % 4
        ));
    }
    s
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn acled_import_of_1000_rows_with_one_bad_row_imports_999_and_writes_the_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let file = dir.path().join("acled.csv");
    std::fs::write(&file, acled_csv(1000, 500)).unwrap();
    let f = file.to_str().unwrap();
    let out = run(&["import", "acled", f, "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "imported 999, updated 0, unchanged 0, rejected 1"
    );
    let err = stderr(&out);
    assert!(err.contains("row 501, field event_date"), "{err}");
    let rejects = dir.path().join("acled.csv.rejects.csv");
    assert!(
        err.contains(&format!("rejected rows written to {}", rejects.display())),
        "{err}"
    );
    assert!(
        !err.contains('\r') && !err.contains("rows ("),
        "no progress bar off a terminal: {err}"
    );
    let text = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("row,field,reason,event_id_cnty,event_date"));
    assert!(lines[1].starts_with("501,event_date,"), "{text}");
    assert!(lines[1].contains(",X500,2023-02-30,"), "{text}");

    let again = run(&["import", "acled", f, "--data-dir", d]);
    assert_eq!(
        stdout(&again).trim(),
        "imported 0, updated 0, unchanged 999, rejected 1"
    );

    // The bad row mended: the earlier rejects file, which names it, is removed.
    std::fs::write(&file, acled_csv(1000, 0)).unwrap();
    let mended = run(&["import", "acled", f, "--data-dir", d]);
    assert_eq!(
        stdout(&mended).trim(),
        "imported 1, updated 0, unchanged 999, rejected 0"
    );
    assert!(!rejects.exists());
    assert!(
        stderr(&mended).contains("the earlier rejects file"),
        "{}",
        stderr(&mended)
    );

    // The same events as ACLED's API answers them (all values text): the same events.
    let csv_text = acled_csv(1000, 0);
    let mut lines = csv_text.lines();
    let names: Vec<&str> = lines.next().unwrap().split(',').collect();
    let data: Vec<serde_json::Value> = lines
        .map(|l| {
            names
                .iter()
                .zip(l.split(','))
                .map(|(n, v)| (n.to_string(), serde_json::Value::from(v)))
                .collect::<serde_json::Map<_, _>>()
                .into()
        })
        .collect();
    let api = dir.path().join("acled-api.json");
    let answer = serde_json::json!({"status": 200, "success": true, "count": 1000, "data": data});
    std::fs::write(&api, answer.to_string()).unwrap();
    let out = run(&["import", "acled", api.to_str().unwrap(), "--data-dir", d]);
    assert_eq!(
        stdout(&out).trim(),
        "imported 0, updated 0, unchanged 1000, rejected 0",
        "{}",
        stderr(&out)
    );

    // A fatal problem imports nothing and writes no rejects file.
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "event_id_cnty,event_date\nX1,2023-01-01\n").unwrap();
    let out = run(&["import", "acled", broken.to_str().unwrap(), "--data-dir", d]);
    let e = one_line_error(&out, 6);
    assert!(
        e.contains("required column(s) missing: event_type, latitude, longitude"),
        "{e}"
    );
    assert!(!dir.path().join("broken.csv.rejects.csv").exists());
}

#[test]
fn hxl_geojson_imports_and_exports_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    for level in ["adm1", "adm2"] {
        let file = root.join(format!(
            "demo/caf_{}.geojson",
            level.replace("adm", "admin")
        ));
        let out = run(&[
            "import",
            "boundaries",
            file.to_str().unwrap(),
            "--level",
            level,
            "--data-dir",
            d,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // The sample is copied so that its rejects file is written beside the copy.
    let hxl = dir.path().join("incidents.hxl.csv");
    std::fs::copy(root.join("samples/hxl/incidents-synthetic.hxl.csv"), &hxl).unwrap();
    let out = run(&["import", "hxl", hxl.to_str().unwrap(), "--data-dir", d]);
    assert_eq!(
        stdout(&out).trim(),
        "imported 6, updated 0, unchanged 0, rejected 2",
        "{}",
        stderr(&out)
    );
    let rejects =
        std::fs::read_to_string(dir.path().join("incidents.hxl.csv.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 3, "{rejects}");
    assert!(rejects.lines().next().unwrap().contains("#event +type"));

    let csv = root.join("samples/ucdpged_sample1000.csv");
    let out = run(&["import", "ucdp", csv.to_str().unwrap(), "--data-dir", d]);
    assert!(stdout(&out).contains("imported 1000"));

    // Export as HXL to a file, as GeoJSON to stdout, with filters.
    let exported = dir.path().join("all.hxl.csv");
    let out = run(&[
        "export",
        "hxl",
        "--data-dir",
        d,
        "--output",
        exported.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exported 1006 events to"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("#event+id,#meta+source"));
    assert!(!dir.path().join("all.hxl.csv.part").exists());

    let out = run(&[
        "export",
        "geojson",
        "--source",
        "hxl",
        "--locality",
        "CF62",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = v["features"].as_array().unwrap().len();
    assert_eq!(n, 3, "S-002 in Mbomou, S-003 in Bangassou, S-005 in Ouango");
    let out = run(&[
        "export",
        "csv",
        "--from",
        "2023-05-01",
        "--source",
        "hxl",
        "--data-dir",
        d,
    ]);
    assert_eq!(stdout(&out).lines().count(), 1 + 2);

    // Bad filters are usage errors.
    for args in [
        vec!["export", "csv", "--status", "maybe"],
        vec!["export", "csv", "--locality", "NOPE"],
        vec!["export", "csv", "--category", "nope"],
    ] {
        let mut a = args.clone();
        a.extend(["--data-dir", d]);
        let out = run(&a);
        one_line_error(&out, 2);
    }
    let out = run(&["export", "csv", "--from", "yesterday", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2));

    // The HXL export imports into a fresh store with the same counts.
    let fresh = dir.path().join("fresh");
    let out = run(&[
        "import",
        "hxl",
        exported.to_str().unwrap(),
        "--source",
        "copy",
        "--data-dir",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "imported 1006, updated 0, unchanged 0, rejected 0",
        "{}",
        stderr(&out)
    );
    // And a GeoJSON export too.
    let gj = dir.path().join("all.geojson");
    run(&[
        "export",
        "geojson",
        "--data-dir",
        d,
        "-o",
        gj.to_str().unwrap(),
    ]);
    let out = run(&[
        "import",
        "geojson",
        gj.to_str().unwrap(),
        "--data-dir",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "imported 1006, updated 0, unchanged 0, rejected 0",
        "{}",
        stderr(&out)
    );
}

#[test]
fn ucdp_import_writes_rejects_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let file = dir.path().join("ged.csv");
    std::fs::write(
        &file,
        "id,type_of_violence,date_start,best,latitude,longitude\n1,1,2020-01-01,2,5,20\n2,1,2020-01-01,-2,5,20\n",
    )
    .unwrap();
    let out = run(&[
        "import",
        "ucdp",
        file.to_str().unwrap(),
        "--data-dir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "imported 1, updated 0, unchanged 0, rejected 1"
    );
    let text = std::fs::read_to_string(dir.path().join("ged.csv.rejects.csv")).unwrap();
    assert_eq!(
        text.lines().nth(1),
        Some("3,best,-2 is not a count of people (0 or more),2,1,2020-01-01,-2,5,20")
    );
}

#[test]
fn ucdp_api_page_is_read_whatever_its_name_with_its_rejects_and_a_note() {
    // A page of the UCDP API saved by a browser under a name that says nothing: typed
    // values, the events in `Result`, one of two pages.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let file = dir.path().join("gedevents-page1.txt");
    let record = |id: u32, best: i64| {
        format!(
            r#"{{"id":{id},"relid":"SYR-2013-1-{id}","active_year":true,"type_of_violence":1,"side_a":"Government of Syria","side_a_new_id":118,"side_b":"Syrian insurgents","side_b_new_id":4456,"where_prec":1,"adm_1":"Idlib governorate","latitude":35.763369,"longitude":36.558974,"country":"Syria","date_prec":1,"date_start":"2013-01-03T00:00:00","date_end":"2013-01-03T00:00:00","best":{best},"low":{best},"high":{best}}}"#
        )
    };
    std::fs::write(
        &file,
        format!(
            r#"{{"TotalCount":3,"TotalPages":2,"PreviousPageUrl":"","NextPageUrl":"https://ucdpapi.pcr.uu.se/api/gedevents/25.1?pagesize=2&page=1","Result":[{},{}]}}"#,
            record(300380, 2),
            record(300381, -1)
        ),
    )
    .unwrap();
    let import = || {
        run(&[
            "import",
            "ucdp",
            file.to_str().unwrap(),
            "--data-dir",
            d.to_str().unwrap(),
        ])
    };
    let out = import();
    assert_eq!(
        stdout(&out).trim(),
        "imported 1, updated 0, unchanged 0, rejected 1",
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("holds 2 of its 3 events in 2 pages; the next page is https://"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(dir.path().join("gedevents-page1.txt.rejects.csv")).unwrap();
    let reject = text.lines().nth(1).unwrap();
    assert!(
        reject.starts_with("2,best,-1 is not a count of people") && reject.contains("300381"),
        "{text}"
    );
    let again = import();
    assert_eq!(
        stdout(&again).trim(),
        "imported 0, updated 0, unchanged 1, rejected 1"
    );
    // Both pages at once: one summary line each, in order.
    let second = dir.path().join("gedevents-page2.json");
    std::fs::write(
        &second,
        format!(
            r#"{{"TotalCount":3,"TotalPages":2,"NextPageUrl":"","Result":[{}]}}"#,
            record(300382, 4)
        ),
    )
    .unwrap();
    let both = run(&[
        "import",
        "ucdp",
        file.to_str().unwrap(),
        second.to_str().unwrap(),
        "--data-dir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&both).lines().collect::<Vec<_>>(),
        [
            "imported 0, updated 0, unchanged 1, rejected 1",
            "imported 1, updated 0, unchanged 0, rejected 0"
        ],
        "{}",
        stderr(&both)
    );
    assert!(stderr(&both).contains("== "), "{}", stderr(&both));
}

#[test]
fn hxl_json_from_the_hxl_proxy_imports_with_its_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    // The HXL Proxy's `.objects.json`: one object per row, keyed by hashtag.
    let file = dir.path().join("incidents.objects.json");
    std::fs::write(
        &file,
        r##"[{"#date":"2023-05-02","#event+type":"Battles","#affected+killed":3,"#geo+lat":4.4,"#geo+lon":18.5,"#event+id":"A1"},
             {"#date":"2023-05-03","#event+type":"Battles","#affected+killed":-1,"#geo+lat":4.4,"#geo+lon":18.5,"#event+id":"A2"}]"##,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = run(&["import", "hxl", f, "--data-dir", d]);
    assert_eq!(
        stdout(&out).trim(),
        "imported 1, updated 0, unchanged 0, rejected 1",
        "{}",
        stderr(&out)
    );
    // The rejects file is CSV with the hashtag row, the rejected row under it (row 3).
    let text =
        std::fs::read_to_string(dir.path().join("incidents.objects.json.rejects.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("#event+type"), "{text}");
    assert!(lines[1].starts_with("3,#affected+killed,"), "{text}");
    assert!(lines[1].contains("A2"), "{text}");
    let again = run(&["import", "hxl", f, "--data-dir", d]);
    assert_eq!(
        stdout(&again).trim(),
        "imported 0, updated 0, unchanged 1, rejected 1"
    );
}

#[test]
fn an_import_told_the_order_of_day_and_month_corrects_dates_read_the_other_way() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let file = dir.path().join("us.csv");
    std::fs::write(
        &file,
        "Id,When,What\n#event+id,#date,#event+type\nU-1,05/01/2023,Battles\nU-2,06/02/2023,Battles\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let first = run(&["import", "hxl", f, "--data-dir", d]);
    assert_eq!(
        stdout(&first).trim(),
        "imported 2, updated 0, unchanged 0, rejected 0",
        "{}",
        stderr(&first)
    );
    let note = stderr(&first);
    assert!(note.contains("they were read day first"), "{note}");
    assert!(note.contains("--date-order month-first"), "{note}");

    let told = run(&[
        "import",
        "hxl",
        f,
        "--date-order",
        "month-first",
        "--data-dir",
        d,
    ]);
    assert_eq!(
        stdout(&told).trim(),
        "imported 0, updated 2, unchanged 0, rejected 0",
        "{}",
        stderr(&told)
    );
    assert!(
        !stderr(&told).contains("read day first"),
        "{}",
        stderr(&told)
    );
    let out = dir.path().join("out.csv");
    let exported = run(&[
        "export",
        "csv",
        "--output",
        out.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("2023-05-01") && text.contains("2023-06-02") && !text.contains("2023-01-05"),
        "{text}"
    );

    let wrong = run(&[
        "import",
        "hxl",
        f,
        "--date-order",
        "sideways",
        "--data-dir",
        d,
    ]);
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("month-first"), "{}", stderr(&wrong));
}

#[test]
fn vault_commands_key_file_audit_rotation_and_erasure() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let out = run(&["migrate", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = data.join("master.key");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("usalama-master-key 1 "), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = run(&[
        "token",
        "create",
        "--role",
        "analyst",
        "--label",
        "desk",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cp = run(&["audit", "checkpoint", "--data-dir", d]);
    assert!(cp.status.success(), "{}", stderr(&cp));
    let cp = stdout(&cp).trim().to_string();
    assert!(cp.starts_with("1:"), "{cp}");
    let out = run(&["keys", "rotate", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("master key version 2: 3 data keys rewrapped"),
        "{}",
        stdout(&out)
    );
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .contains("usalama-master-key 2 "));
    assert!(!dir.path().join("data/master.key.next").exists());
    let out = run(&[
        "audit",
        "verify",
        "--since-checkpoint",
        &cp,
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("audit log intact: 2 entries"),
        "{}",
        stdout(&out)
    );
    // The free space rewritten on demand: audited, the log still intact.
    let out = run(&["keys", "purge", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("database rewritten"),
        "{}",
        stdout(&out)
    );
    let out = run(&["audit", "verify", "--data-dir", d]);
    assert!(
        stdout(&out).contains("audit log intact: 3 entries"),
        "{}",
        stdout(&out)
    );
    let forged = format!("1:{}", "0".repeat(64));
    let out = run(&[
        "audit",
        "verify",
        "--since-checkpoint",
        &forged,
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("audit entry 1"), "{}", stderr(&out));
    // A wrong key file is refused before anything is read.
    std::fs::write(&key, format!("usalama-master-key 2 {}\n", "ab".repeat(32))).unwrap();
    let out = run(&["audit", "checkpoint", "--data-dir", d]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not open this database's keys"),
        "{}",
        stderr(&out)
    );
    // A missing key file for a database that has keys is refused, not regenerated.
    std::fs::remove_file(&key).unwrap();
    let out = run(&["audit", "checkpoint", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!key.exists());
}

/// `usalama backtest` on the demo: one JSON document with every horizon, the four models
/// with their scores and onset scores, and the detectors; bad flags name the field.
#[test]
fn backtest_prints_one_json_document_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&["demo", "--no-serve", "--data-dir", d])
        .status
        .success());
    let out = run(&[
        "backtest",
        "--level",
        "adm1",
        "--horizon",
        "1,3",
        "--from",
        "2022-10",
        "--to",
        "2022-12",
        "--refit-every",
        "12",
        "--format",
        "json",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["level"], "adm1");
    assert_eq!(doc["source"], "ucdp-ged");
    assert_eq!(doc["from"], "2022-10");
    assert_eq!(doc["to"], "2022-12");
    let horizons = doc["horizons"].as_array().unwrap();
    assert_eq!(horizons.len(), 2);
    for (h, want) in horizons.iter().zip([1, 3]) {
        assert_eq!(h["h"], want);
        // 17 provinces × 3 months.
        assert_eq!(h["n"], 51);
        for model in ["usalama", "no_change", "mean_12m", "zero"] {
            let m = &h["models"][model];
            for key in ["mse_log1p", "brier"] {
                let v = m[key]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{model} {key}: {m}"));
                assert!(v >= 0.0);
                assert!(m["onset"].get(key).is_some());
            }
            assert!(m.get("roc_auc").is_some());
        }
        assert_eq!(h["models"]["zero"]["roc_auc"], 0.5);
    }
    for det in ["nb_cusum", "farrington"] {
        let s = &doc["detectors"][det];
        assert!(s["in_control_months"].as_u64().unwrap() > 0, "{s}");
        assert!(s.get("detection_rate").is_some() && s.get("median_delay").is_some());
    }
    let bad = run(&["backtest", "--from", "1990-01", "--data-dir", d]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("from"), "{}", stderr(&bad));
    let bad = run(&["backtest", "--level", "adm9", "--data-dir", d]);
    assert!(stderr(&bad).contains("level"), "{}", stderr(&bad));
}
