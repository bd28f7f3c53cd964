//! The human-security index on the bundled demo data, on every backend: the ADM1 table is
//! sorted worst first with values in 0–10, explanations add up to the value, the series
//! covers every month with data, an empty store gives rows without values, and an unknown
//! source, a period outside the data or of another granularity is refused.

use std::sync::Arc;
use usalama_app::analytics::panel::Level;
use usalama_app::analytics::period::{Granularity, Period};
use usalama_app::{App, AppError, DemoData, FixedClock, Principal};
use usalama_domain::AdminLevel;
use usalama_test_support::{on_every_backend, t0};

const ADM1: &str = include_str!("../../../data/demo/caf_admin1.geojson");
const ADM2: &str = include_str!("../../../data/demo/caf_admin2.geojson");
const EVENTS: &str = include_str!("../../../data/demo/ucdp-ged-caf.geojson");

fn data() -> DemoData<'static> {
    DemoData {
        boundaries: vec![(AdminLevel::Adm1, ADM1), (AdminLevel::Adm2, ADM2)],
        ucdp_geojson: EVENTS,
    }
}

#[test]
fn index_on_the_demo_is_ranked_and_explained() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        let who = Principal::Anonymous;
        let empty = app
            .index_table(&who, Level::Adm1, Granularity::Month, None, None)
            .unwrap();
        assert_eq!(empty.source, None, "{}", s.name);
        assert!(empty.rows.iter().all(|r| r.value.is_none()), "{}", s.name);

        app.prepare_demo(&data()).unwrap();
        let table = app
            .index_table(&who, Level::Adm1, Granularity::Month, None, None)
            .unwrap();
        assert_eq!(table.source.as_deref(), Some("ucdp-ged"), "{}", s.name);
        assert_eq!(table.rows.len(), 17, "{}", s.name);
        let range = table.range.unwrap();
        assert_eq!(table.period, Some(range.last()), "{}", s.name);
        let values: Vec<f64> = table.rows.iter().filter_map(|r| r.value).collect();
        assert!(!values.is_empty(), "{}", s.name);
        assert!(
            values.windows(2).all(|w| w[0] >= w[1]),
            "{}: worst first",
            s.name
        );
        assert!(
            values.iter().all(|v| (0.0..=10.0).contains(v)),
            "{}",
            s.name
        );

        // A month with many events: the worst province has a positive value that its
        // inputs explain exactly.
        let june = Period::new(Granularity::Month, 2022, 6).unwrap();
        let t = app
            .index_table(&who, Level::Adm1, Granularity::Month, Some(june), None)
            .unwrap();
        let worst = &t.rows[0];
        let value = worst.value.unwrap();
        // Analysts see every input; anonymous callers only when no count is small.
        let analyst = Principal::Token {
            label: "t".into(),
            role: usalama_domain::Role::Analyst,
            org: usalama_domain::DEFAULT_ORG,
        };
        let e = app
            .index_explain(&analyst, worst.locality.code.as_str(), june, None)
            .unwrap();
        assert!(!e.withheld);
        let anon = app
            .index_explain(&who, worst.locality.code.as_str(), june, None)
            .unwrap();
        assert_eq!(anon.explanation.value, Some(value), "{}", s.name);
        if anon.withheld {
            assert!(anon.explanation.inputs.iter().all(|i| i.raw.is_none()));
        } else {
            assert_eq!(anon.explanation, e.explanation);
        }
        assert_eq!(e.explanation.value, Some(value), "{}", s.name);
        assert!(
            (e.explanation.total_contribution() - value).abs() < 1e-6,
            "{}",
            s.name
        );
        let series = app
            .index_series(
                &who,
                &worst.locality.id.to_string(),
                Granularity::Month,
                None,
            )
            .unwrap();
        assert_eq!(series.points.len(), range.len(), "{}", s.name);
        let at_june = series.points.iter().find(|p| p.period == june).unwrap();
        assert_eq!(at_june.value, Some(value), "{}", s.name);

        // ADM2 and quarters work the same way.
        let adm2 = app
            .index_table(&who, Level::Adm2, Granularity::Quarter, None, None)
            .unwrap();
        assert_eq!(adm2.rows.len(), 72, "{}", s.name);

        // Refusals.
        assert!(matches!(
            app.index_table(&who, Level::Adm1, Granularity::Month, None, Some("nope")),
            Err(AppError::Invalid { .. })
        ));
        let far = Period::new(Granularity::Month, 1900, 1).unwrap();
        assert!(matches!(
            app.index_explain(&who, worst.locality.code.as_str(), far, None),
            Err(AppError::Invalid { .. })
        ));
        let week = Period::new(Granularity::Week, 2022, 23).unwrap();
        assert!(matches!(
            app.index_table(&who, Level::Adm1, Granularity::Month, Some(week), None),
            Err(AppError::Invalid { .. })
        ));
        assert!(app.index_explain(&who, "XX99", june, None).is_err());
    });
}

/// What the index and forecast panels count of one event, comparable across both reads.
type FactKey = (
    String,
    chrono::NaiveDate,
    String,
    String,
    Option<u32>,
    Option<u32>,
    bool,
    Option<u8>,
    Option<(u64, u64)>,
);

fn path_key(p: &usalama_domain::LocalityPath) -> String {
    p.0.iter()
        .map(|l| l.map_or_else(String::new, |l| l.to_string()))
        .collect::<Vec<_>>()
        .join("/")
}

/// The narrow panel scan hands over exactly the countable events of a source (a rejected
/// one is left out), each with what reading the whole event gives: path, end date,
/// dimension, category, counts, location precision and point.
#[test]
fn panel_facts_are_the_countable_events_narrowed() {
    use usalama_domain::{Decision, DecisionStatus, VerificationStatus};
    use usalama_store::EventQuery;
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&data()).unwrap();
        let admin = Principal::Token {
            label: "t".into(),
            role: usalama_domain::Role::Admin,
            org: usalama_domain::DEFAULT_ORG,
        };
        let q = EventQuery {
            source: Some("ucdp-ged".into()),
            ..Default::default()
        };
        let mut first = None;
        s.store
            .scan_events(&q, 1, &mut |b| {
                first = first.or(Some(b[0].event.id));
                Ok(())
            })
            .unwrap();
        let rejected = first.unwrap();
        let v = app.get_event_versioned(&admin, rejected).unwrap().version;
        let reject = Decision::new(DecisionStatus::Rejected, Some("a test"), None, None).unwrap();
        app.decide(&admin, rejected, &reject, v).unwrap();

        let mut wide: Vec<FactKey> = Vec::new();
        s.store
            .scan_events(&q, 500, &mut |batch| {
                for p in batch {
                    let e = &p.event;
                    if matches!(
                        e.status,
                        VerificationStatus::Rejected | VerificationStatus::DuplicateOf(_)
                    ) {
                        continue;
                    }
                    wide.push((
                        path_key(&p.path),
                        e.occurred_end,
                        e.dimension.to_string(),
                        e.category.clone(),
                        e.casualties.killed_best,
                        e.casualties.displaced,
                        e.civilians_targeted,
                        e.location_precision.map(|p| p.code()),
                        e.point.map(|pt| (pt.lat().to_bits(), pt.lon().to_bits())),
                    ));
                }
                Ok(())
            })
            .unwrap();
        let mut narrow: Vec<FactKey> = Vec::new();
        let n = s
            .store
            .scan_panel_facts("ucdp-ged", 300, &mut |b| {
                assert!(b.facts.len() <= 300);
                for f in b.facts {
                    narrow.push((
                        path_key(&f.path),
                        f.occurred_end,
                        f.dimension.to_string(),
                        b.categories[usize::from(f.category)].clone(),
                        f.killed_best,
                        f.displaced,
                        f.civilians_targeted,
                        f.where_prec,
                        f.point.map(|(lat, lon)| (lat.to_bits(), lon.to_bits())),
                    ));
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(n as usize, narrow.len(), "{}", s.name);
        assert!(wide.len() > 1_000, "{}: {}", s.name, wide.len());
        wide.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        narrow.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(narrow, wide, "{}", s.name);
        let countable = s.store.countable_events_by_source().unwrap();
        assert_eq!(
            countable.iter().find(|c| c.0 == "ucdp-ged").map(|c| c.1),
            Some(n),
            "{}",
            s.name
        );

        // The span a panel covers: the first and last end dates of the countable events,
        // and it moves when the earliest events are rejected.
        let span = |store: &dyn usalama_store::Store| store.countable_span("ucdp-ged").unwrap();
        let first_end = narrow.iter().map(|k| k.1).min().unwrap();
        let last_end = narrow.iter().map(|k| k.1).max().unwrap();
        assert_eq!(span(&*s.store), Some((first_end, last_end)), "{}", s.name);
        assert_eq!(s.store.countable_span("no-such-source").unwrap(), None);
        let mut earliest = Vec::new();
        s.store
            .scan_events(&q, 500, &mut |batch| {
                earliest.extend(
                    batch
                        .iter()
                        .filter(|p| p.event.occurred_end == first_end)
                        .map(|p| p.event.id),
                );
                Ok(())
            })
            .unwrap();
        for id in earliest {
            let v = app.get_event_versioned(&admin, id).unwrap().version;
            app.decide(&admin, id, &reject, v).unwrap();
        }
        let (moved, last) = span(&*s.store).unwrap();
        assert!(moved > first_end, "{}: {moved} after {first_end}", s.name);
        assert_eq!(last, last_end, "{}", s.name);
    });
}
