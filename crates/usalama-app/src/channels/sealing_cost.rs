//! The figure "encryption costs under 20 % on the batch-insert benchmark", measured as what
//! encryption alone costs: the same 10,000 reports, each with a person and a contact, go
//! through the batch path's steps (check, then store in one `insert_reports`) once sealed
//! (a data key, two sealed fields and a blind index each, as `submit` does) and once with
//! their personal data left in the event's clear columns, which no channel does: only this
//! measurement can build such a batch. Nine pairs of runs, alternating which goes first,
//! SQLite in a fresh store per run; prints the median times of each side and the median
//! (and middle half) of the pairs' ratios, by wall-clock and by CPU time (everything runs
//! on the calling thread): a ratio within a pair cancels most of this machine's drift.
//! Run: `cargo test --release -p usalama-app --lib -- --ignored --nocapture
//! encryption_alone` (or `bench/app-figures`).

use super::{new_report, Extras, PlacePolicy};
use crate::auth::Principal;
use crate::{App, FixedClock, Keyring, MemoryLedger, PersonInput, ReportInput};
use std::sync::Arc;
use usalama_domain::{Channel, Role};
use usalama_ingest::BoundaryFields;
use usalama_test_support::{t0, DEMO_BOUNDARIES};

/// CPU time of the calling thread, in seconds (Linux).
fn thread_cpu_secs() -> Option<f64> {
    let t = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = t.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// An application on a fresh SQLite store with the demo boundaries.
fn fresh_app(store: &usalama_test_support::TestStore) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(store.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
        .with_vault(Keyring::generate(), Arc::new(MemoryLedger::default()));
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json,
            level,
            &BoundaryFields::default(),
        )
        .unwrap();
    }
    app
}

/// `n` reports near Bambari, each naming one person and giving a contact.
fn reports(app: &App, n: usize) -> Vec<ReportInput> {
    let bambari = app.resolve_locality("CF4311").unwrap();
    let (lon, lat) = bambari.centroid.unwrap();
    (0..n)
        .map(|i| ReportInput {
            category: Some("armed_violence".into()),
            occurred_start: Some("2023-11-10".into()),
            latitude: Some((lat + 0.001).to_string()),
            longitude: Some((lon + 0.001).to_string()),
            killed: Some((i % 4).to_string()),
            description: Some(format!("Shots near the market, report {i}")),
            people: vec![PersonInput {
                name: Some(format!("Person {i}")),
                age: Some("30".into()),
                ..Default::default()
            }],
            reporter_contact: Some(format!("+236 70 {i:06}")),
            ..Default::default()
        })
        .collect()
}

/// Checks and stores `items` as one batch, sealed or not; returns wall and CPU seconds.
fn store_batch(app: &App, items: &[ReportInput], sealed: bool) -> (f64, f64) {
    let who = Principal::Token {
        label: "monitors".into(),
        role: Role::Reporter,
        org: usalama_domain::DEFAULT_ORG,
    };
    let (t, c) = (std::time::Instant::now(), thread_cpu_secs());
    let places = app.place_index().unwrap();
    let ring = app.keyring().unwrap();
    let now = app.now();
    let mut batch = Vec::with_capacity(items.len());
    for input in items {
        let extras = Extras::default();
        let checked = app
            .check_report(
                &who,
                Channel::Api,
                input,
                &extras,
                PlacePolicy::Strict,
                &places,
            )
            .unwrap_or_else(|e| panic!("refused: {e:?}"));
        let mut report = new_report(checked.event, extras, Channel::Api, now);
        if sealed {
            app.seal_report(&ring, &mut report, &checked.secrets)
                .unwrap();
        }
        batch.push(report);
    }
    let stored = app.store.insert_reports(&batch).unwrap();
    let wall = t.elapsed().as_secs_f64();
    let cpu = c.zip(thread_cpu_secs()).map_or(wall, |(a, b)| b - a);
    assert_eq!(stored.len(), items.len());
    // Both sides stored the same personal data: sealed, or in the event's clear columns.
    let first = app.store.get_event(stored[0].event_id).unwrap().unwrap();
    assert_eq!(first.event.people.is_empty(), sealed);
    (wall, cpu)
}

#[test]
#[ignore]
fn encryption_alone_on_batch_insert() {
    let n = 10_000;
    let runs = 9;
    // (wall, CPU) of each run, in clear and sealed; run i of each side is a pair.
    let (mut clear, mut sealed) = (Vec::new(), Vec::new());
    for i in 0..runs {
        // Alternate which goes first.
        let order = if i % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for seal in order {
            let s = usalama_test_support::sqlite();
            let app = fresh_app(&s);
            let items = reports(&app, n);
            let side = if seal { &mut sealed } else { &mut clear };
            side.push(store_batch(&app, &items, seal));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() / 4], v[v.len() * 3 / 4])
    };
    let side = |v: &[(f64, f64)], cpu: bool| {
        median(v.iter().map(|r| if cpu { r.1 } else { r.0 }).collect()).0
    };
    let pairs = |cpu: bool| {
        median(
            clear
                .iter()
                .zip(&sealed)
                .map(|(c, s)| if cpu { s.1 / c.1 } else { s.0 / c.0 })
                .collect(),
        )
    };
    let (wall, cpu) = (pairs(false), pairs(true));
    println!(
        "encryption alone, {n} reports with personal data, {runs} pairs: wall in clear {:.3} s, sealed {:.3} s; CPU {:.3} s, {:.3} s; sealed/clear per pair, median (middle half): wall {:.3} ({:.3}-{:.3}), CPU {:.3} ({:.3}-{:.3})",
        side(&clear, false),
        side(&sealed, false),
        side(&clear, true),
        side(&sealed, true),
        wall.0,
        wall.1,
        wall.2,
        cpu.0,
        cpu.1,
        cpu.2
    );
}
