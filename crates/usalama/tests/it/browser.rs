//! The map and the report form in a real browser: headless Chromium (Debian's `chromium`)
//! opens `/map` and `/report` of the running demo, and the tests check the SVG holds one
//! shape per ADM1 area, that the report form's script runs under the CSP, and that the
//! browser requested nothing from outside the server (from Chromium's own network log).

use crate::common::start_demo;
use std::process::Command;

/// The `(url, initiator)` of every request job in a Chromium net log. Requests Chromium
/// makes for itself (updates, accounts) have no page initiator; those the page causes carry
/// the page's origin.
fn request_jobs(log: &serde_json::Value) -> Vec<(String, Option<String>)> {
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    log["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["type"].as_u64() == start_job)
                .filter_map(|e| {
                    let url = e["params"]["url"].as_str()?.to_string();
                    let initiator = e["params"]["initiator"].as_str().map(str::to_string);
                    Some((url, initiator))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn chromium() -> String {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let ok = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "headless Chromium is needed for this test: apt-get install chromium (or set CHROMIUM)"
    );
    bin
}

/// The DOM of `url` after its scripts ran (at a phone's width), and the request jobs the
/// browser logged.
fn render(url: &str) -> (String, String, Vec<(String, Option<String>)>) {
    let bin = chromium();
    let tmp = tempfile::tempdir().unwrap();
    let netlog = tmp.path().join("netlog.json");
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--window-size=360,800",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&netlog).unwrap()).unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        request_jobs(&log),
    )
}

#[test]
fn map_page_in_headless_chromium() {
    let server = start_demo(&[]);
    let (dom, stderr, jobs) = render(&format!("{}/map", server.base));
    assert!(
        dom.contains("<svg"),
        "no SVG in the rendered page: {stderr}"
    );
    let shapes = dom.matches("class=\"area\"").count();
    let codes = dom.matches("data-code=\"CF").count();
    assert_eq!((shapes, codes), (17, 17), "one shape per prefecture");

    assert!(
        jobs.iter()
            .any(|(u, _)| u == &format!("{}/map", server.base)),
        "the net log saw the page itself: {jobs:?}"
    );
    let from_page: Vec<&(String, Option<String>)> = jobs
        .iter()
        .filter(|(_, init)| init.as_deref() == Some(server.base.as_str()))
        .collect();
    assert!(
        from_page
            .iter()
            .any(|(u, _)| u.ends_with("/static/app.css")),
        "the page's own stylesheet is in the log: {from_page:?}"
    );
    let outside: Vec<_> = from_page
        .iter()
        .filter(|(u, _)| !u.starts_with(&server.base))
        .collect();
    assert!(
        outside.is_empty(),
        "the page made requests outside the server: {outside:?}"
    );
}

#[test]
fn report_form_in_headless_chromium() {
    let server = start_demo(&[]);
    let (dom, stderr, jobs) = render(&format!("{}/report", server.base));
    assert!(
        dom.contains("id=\"report-form\""),
        "no form in the rendered page: {stderr}"
    );
    // The script ran under the CSP: it showed the position button, hidden without it.
    let button = dom
        .split("id=\"use-position\"")
        .nth(1)
        .and_then(|s| s.split('>').next())
        .unwrap_or_default();
    assert!(
        !button.contains("hidden"),
        "the report script did not run: {button} {stderr}"
    );
    let from_page: Vec<&(String, Option<String>)> = jobs
        .iter()
        .filter(|(_, init)| init.as_deref() == Some(server.base.as_str()))
        .collect();
    assert!(
        from_page
            .iter()
            .any(|(u, _)| u.ends_with("/static/report.js")),
        "the page's script is in the log: {from_page:?}"
    );
    assert!(
        from_page.iter().all(|(u, _)| u.starts_with(&server.base)),
        "the page made requests outside the server: {from_page:?}"
    );
}
