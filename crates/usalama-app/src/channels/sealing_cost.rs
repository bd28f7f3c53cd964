//! The figure "encryption costs under 20 % on the batch-insert benchmark". The same 10,000
//! reports go through the batch path's steps (check, then store in one `insert_reports`) in
//! three ways: with a person and a contact each, sealed (a data key, two sealed fields and a
//! blind index, as `submit` does); the same personal data left in the event's clear
//! columns, which no channel does (only this measurement builds such a batch); and without
//! personal data. Sealed against clear is what encryption alone costs; sealed against none
//! also counts carrying the data at all. Nine rounds, the three ways in a rotating order,
//! SQLite in a fresh store per run; prints the median times and the median (and middle
//! half) of each round's ratios, by wall-clock and by CPU time (everything runs on the
//! calling thread): a ratio within a round cancels most of this machine's drift.
//! Run: `cargo test --release -p usalama-app --lib -- --ignored --nocapture
//! encryption_on_batch_insert` (or `bench/app-figures`).

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
            json.as_bytes(),
            level,
            &BoundaryFields::default(),
        )
        .unwrap();
    }
    app
}

/// `n` reports near Bambari, each naming one person and giving a contact when `personal`.
fn reports(app: &App, n: usize, personal: bool) -> Vec<ReportInput> {
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
            people: if personal {
                vec![PersonInput {
                    name: Some(format!("Person {i}")),
                    age: Some("30".into()),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            reporter_contact: personal.then(|| format!("+236 70 {i:06}")),
            ..Default::default()
        })
        .collect()
}

/// How a run stores its reports.
#[derive(Clone, Copy, PartialEq)]
enum Way {
    /// With personal data, sealed.
    Sealed,
    /// With personal data, left in the clear.
    Clear,
    /// Without personal data.
    None,
}

/// A fresh store, `n` reports stored the `way` given; returns wall and CPU seconds.
fn run(n: usize, way: Way) -> (f64, f64) {
    let s = usalama_test_support::sqlite();
    let app = fresh_app(&s);
    let items = reports(&app, n, way != Way::None);
    store_batch(&app, &items, way != Way::Clear)
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
    // The personal data went where the run said: sealed (the event keeps none), or in the
    // event's clear columns.
    let first = app.store.get_event(stored[0].event_id).unwrap().unwrap();
    assert_eq!(
        first.event.people.is_empty(),
        sealed || items[0].people.is_empty()
    );
    (wall, cpu)
}

#[test]
fn the_three_ways_store_what_they_say() {
    for way in [Way::Sealed, Way::Clear, Way::None] {
        run(20, way);
    }
}

#[test]
#[ignore]
fn encryption_on_batch_insert() {
    let n = 10_000;
    let rounds = 9;
    let ways = [Way::Sealed, Way::Clear, Way::None];
    // (wall, CPU) of each run, by way; run i of each way belongs to round i.
    let mut times: [Vec<(f64, f64)>; 3] = Default::default();
    for i in 0..rounds {
        // Rotate which way goes first.
        for k in 0..ways.len() {
            let w = (i + k) % ways.len();
            times[w].push(run(n, ways[w]));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() / 4], v[v.len() * 3 / 4])
    };
    let side = |w: usize, cpu: bool| {
        median(
            times[w]
                .iter()
                .map(|r| if cpu { r.1 } else { r.0 })
                .collect(),
        )
        .0
    };
    let ratio = |w: usize, cpu: bool| {
        let r = median(
            times[0]
                .iter()
                .zip(&times[w])
                .map(|(s, o)| if cpu { s.1 / o.1 } else { s.0 / o.0 })
                .collect(),
        );
        format!("{:.3} ({:.3}-{:.3})", r.0, r.1, r.2)
    };
    println!(
        "encryption alone, {n} reports with personal data, {rounds} rounds: wall in clear {:.3} s, sealed {:.3} s; CPU {:.3} s, {:.3} s; sealed/clear per round, median (middle half): wall {}, CPU {}",
        side(1, false),
        side(0, false),
        side(1, true),
        side(0, true),
        ratio(1, false),
        ratio(1, true)
    );
    println!(
        "sealed against the same reports without personal data: wall {:.3} s, CPU {:.3} s; sealed/none per round: wall {}, CPU {}",
        side(2, false),
        side(2, true),
        ratio(2, false),
        ratio(2, true)
    );
}
