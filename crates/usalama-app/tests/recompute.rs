//! The full recompute (`App::recompute_index`) against the application's own index and a
//! panel built the established way (`Panel::build` from every stored event), on the demo
//! data and every backend: the same counts, the same index value and dimension scores for
//! every locality and month, and the same detector signals.

use std::sync::Arc;
use usalama_app::analytics::detect::{CusumConfig, Farrington, FarringtonConfig, NbCusum};
use usalama_app::analytics::panel::{EventFact, Level, Measure, Panel, PanelSpec, Scope, Unit};
use usalama_app::analytics::period::{Granularity, PeriodRange};
use usalama_app::analytics::recompute::{flag, SeriesKind};
use usalama_app::{App, DemoData, FixedClock, Principal, RecomputeOptions};
use usalama_domain::{AdminLevel, VerificationStatus};
use usalama_store::EventQuery;
use usalama_test_support::{on_every_backend, t0};

const ADM1: &str = include_str!("../../../data/demo/caf_admin1.geojson");
const ADM2: &str = include_str!("../../../data/demo/caf_admin2.geojson");
const EVENTS: &str = include_str!("../../../data/demo/ucdp-ged-caf.geojson");

#[test]
fn the_recompute_equals_the_index_and_the_detectors_on_the_demo() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(
            s.store.clone(),
            taxonomy.clone(),
            Arc::new(FixedClock(t0())),
        );
        let empty = app
            .recompute_index(&RecomputeOptions::new(AdminLevel::Adm1))
            .unwrap();
        assert_eq!(empty.source, None, "{}", s.name);
        assert!(
            empty.index.is_none() && empty.events_read == 0,
            "{}",
            s.name
        );

        assert!(s.store.countable_events_by_source().unwrap().is_empty());
        app.prepare_demo(&DemoData {
            boundaries: vec![(AdminLevel::Adm1, ADM1), (AdminLevel::Adm2, ADM2)],
            ucdp_geojson: EVENTS,
        })
        .unwrap();
        // The recompute's count of each source's countable events (from the indexes on
        // SQLite) is the established grouped count's.
        let mut grouped: Vec<(String, u64)> = s
            .store
            .count_events(
                &EventQuery {
                    countable_only: true,
                    ..Default::default()
                },
                usalama_store::GroupBy::Source,
            )
            .unwrap()
            .into_iter()
            .map(|g| (g.key, g.events))
            .collect();
        let mut by_source = s.store.countable_events_by_source().unwrap();
        grouped.sort();
        by_source.sort();
        assert_eq!(by_source, grouped, "{}", s.name);
        assert!(!by_source.is_empty());

        // The established way: every event as a domain value, the panel of every level.
        let mut facts = Vec::new();
        s.store
            .scan_events(
                &EventQuery {
                    source: Some("ucdp-ged".into()),
                    ..Default::default()
                },
                1000,
                &mut |batch| {
                    for p in batch {
                        if !matches!(
                            p.event.status,
                            VerificationStatus::Rejected | VerificationStatus::DuplicateOf(_)
                        ) {
                            facts.push(EventFact::from_event(&p.event, p.path, None));
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
        let first = facts.iter().map(|f| f.occurred_end).min().unwrap();
        let last = facts.iter().map(|f| f.occurred_end).max().unwrap();
        let range = PeriodRange::covering(Granularity::Month, first, last).unwrap();
        let localities = s.store.all_localities().unwrap();
        let spec = PanelSpec::new(range)
            .with_localities(localities.iter().map(|l| (l.id, l.level)))
            .with_taxonomy(&taxonomy)
            .with_sources(["ucdp-ged".to_string()]);
        let panel = Panel::build(&spec, &facts, &[]);
        let all_events = Measure::Events(Scope::All);
        let all_fatalities = Measure::Fatalities(Scope::All);

        let mut signals_seen = 0;
        for level in [AdminLevel::Adm1, AdminLevel::Adm2] {
            let r = app.recompute_index(&RecomputeOptions::new(level)).unwrap();
            assert_eq!(r.source.as_deref(), Some("ucdp-ged"), "{}", s.name);
            assert_eq!(r.range, Some(range), "{}", s.name);
            assert_eq!(r.events_read as usize, facts.len(), "{}", s.name);
            let expected_units = localities.iter().filter(|l| l.level == level).count();
            assert_eq!(r.localities.len(), expected_units, "{}", s.name);
            assert!(r.events_counted > 0, "{}", s.name);
            let names: Vec<&str> = r.timings.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                names,
                ["source", "localities", "read", "panel", "index", "detect"]
            );
            let dense = r.panel.as_ref().unwrap();
            let index = r.index.as_ref().unwrap();
            let detection = r.detection.as_ref().unwrap();
            let mut cusum = NbCusum::new(CusumConfig::default()).unwrap();
            let farrington =
                Farrington::new(FarringtonConfig::for_granularity(Granularity::Month), 12).unwrap();
            let mut valued = 0;
            // Periods judged and signals per flag bit, as `assess` gives them (the
            // recompute skips the periods that cannot signal but counts them as judged).
            let mut judged = [0usize; 4];
            let mut signals = [0usize; 4];
            for (u, id) in r.localities.iter().enumerate() {
                let code = localities
                    .iter()
                    .find(|l| l.id == *id)
                    .unwrap()
                    .code
                    .clone();
                let p = panel.unit_index(&Unit::Locality(*id)).unwrap();
                assert_eq!(panel.units()[p].level, Level::from(level));
                // Counts.
                for t in 0..range.len() {
                    assert_eq!(
                        u64::from(dense.events(u, t)),
                        panel.events(p, t, None),
                        "{}: {code} t={t}",
                        s.name
                    );
                    assert_eq!(
                        u64::from(dense.fatalities(u, t)),
                        panel.fatalities(p, t, None)
                    );
                    assert_eq!(dense.civilian_events(u, t), panel.civilian_events(p, t));
                    assert_eq!(dense.displaced(u, t), panel.displaced(p, t));
                }
                // The index: the application's series of this locality, every month, as a
                // reader of records sees it (public callers see small cells withheld).
                let series = app
                    .index_series(
                        &Principal::Operator,
                        code.as_str(),
                        Granularity::Month,
                        None,
                    )
                    .unwrap();
                assert_eq!(series.points.len(), range.len());
                for (t, point) in series.points.iter().enumerate() {
                    let fast = index.at(u, t);
                    assert_eq!(
                        fast.map(|v| v.value),
                        point.value,
                        "{}: {code} {} index",
                        s.name,
                        point.period
                    );
                    if point.value.is_some() {
                        valued += 1;
                        assert_eq!(fast.unwrap().scores, point.scores, "{code} scores");
                    }
                }
                // The detectors, on the established panel's series.
                for (kind, measure) in [
                    (SeriesKind::Events, &all_events),
                    (SeriesKind::Fatalities, &all_fatalities),
                ] {
                    let series = panel.count_series(p, measure).unwrap();
                    assert_eq!(
                        dense.series(u, kind == SeriesKind::Fatalities),
                        series,
                        "{code}"
                    );
                    let mut expected = vec![0u8; range.len()];
                    for a in cusum
                        .assess(&series)
                        .into_iter()
                        .chain(farrington.assess(&series))
                    {
                        let bit = flag(a.method, kind).trailing_zeros() as usize;
                        judged[bit] += 1;
                        if a.signal {
                            signals[bit] += 1;
                            expected[a.index] |= flag(a.method, kind);
                            signals_seen += 1;
                            if a.index == range.len() - 1 {
                                assert!(
                                    detection.latest.iter().any(|l| l.unit == u
                                        && l.series == kind
                                        && l.assessment == a),
                                    "{code}: latest signal"
                                );
                            }
                        }
                    }
                    let got: Vec<u8> = (0..range.len())
                        .map(|t| detection.flags(u, t) & flag_mask(kind))
                        .collect();
                    assert_eq!(got, expected, "{}: {code} {kind:?} signals", s.name);
                }
            }
            assert_eq!(detection.judged, judged, "{}: periods judged", s.name);
            assert_eq!(detection.signals, signals, "{}: signals", s.name);
            assert!(valued > 0, "{}: some index values", s.name);
            assert_eq!(index.with_value(), valued, "{}: cells with a value", s.name);
            let cells = dense.cells_with_events();
            assert!(
                cells > 0 && cells < r.localities.len() * range.len(),
                "{cells}"
            );
        }
        assert!(
            signals_seen > 0,
            "{}: the detectors signal somewhere",
            s.name
        );

        // The threads do not change the result: the read in parts, the index beside the
        // detectors, the detectors on several threads.
        for level in [AdminLevel::Adm1, AdminLevel::Adm2] {
            let one = app.recompute_index(&RecomputeOptions::new(level)).unwrap();
            for threads in [2, 3] {
                let mut opts = RecomputeOptions::new(level);
                opts.threads = threads;
                let many = app.recompute_index(&opts).unwrap();
                assert_eq!(many.events_read, one.events_read, "{}", s.name);
                assert_eq!(many.events_counted, one.events_counted, "{}", s.name);
                assert_eq!(many.range, one.range, "{}", s.name);
                let names: Vec<&str> = many.timings.iter().map(|(n, _)| *n).collect();
                assert_eq!(
                    names,
                    ["source", "localities", "read", "panel", "index", "detect"]
                );
                let (p1, pn) = (one.panel.as_ref().unwrap(), many.panel.as_ref().unwrap());
                let (i1, i_n) = (one.index.as_ref().unwrap(), many.index.as_ref().unwrap());
                let (a, b) = (
                    one.detection.as_ref().unwrap(),
                    many.detection.as_ref().unwrap(),
                );
                assert_eq!(a.signals, b.signals);
                assert_eq!(a.judged, b.judged);
                assert_eq!(a.latest, b.latest);
                assert_eq!(p1.cells_with_events(), pn.cells_with_events());
                for u in 0..one.localities.len() {
                    for t in 0..range.len() {
                        assert_eq!(a.flags(u, t), b.flags(u, t));
                        let cell = |p: &usalama_app::analytics::recompute::DensePanel| {
                            (
                                p.events(u, t),
                                p.fatalities(u, t),
                                p.civilian_events(u, t),
                                p.displaced(u, t),
                            )
                        };
                        assert_eq!(cell(p1), cell(pn), "{}: {u} {t}", s.name);
                        assert_eq!(i1.at(u, t), i_n.at(u, t), "{}: {u} {t}", s.name);
                    }
                }
            }
        }

        // The read in parts hands over every fact of the whole scan exactly once, however
        // many parts (each part numbers its own categories).
        let facts_of = |parts: Option<usize>| {
            let mut all: Vec<String> = Vec::new();
            let mut total = 0;
            for part in 0..parts.unwrap_or(1) {
                let sink = &mut |b: usalama_store::FactBatch<'_>| {
                    for f in b.facts {
                        all.push(format!(
                            "{:?} {} {:?} {} {:?} {:?} {}",
                            f.locality,
                            f.occurred_end,
                            f.dimension,
                            b.categories[usize::from(f.category)],
                            f.killed_best,
                            f.displaced,
                            f.civilians_targeted
                        ));
                    }
                    Ok(())
                };
                total += match parts {
                    None => s
                        .store
                        .scan_index_facts("ucdp-ged", AdminLevel::Adm2, 7, sink)
                        .unwrap(),
                    Some(n) => s
                        .store
                        .scan_index_facts_part("ucdp-ged", AdminLevel::Adm2, 7, (part, n), sink)
                        .unwrap(),
                };
            }
            assert_eq!(total as usize, all.len());
            all.sort();
            all
        };
        let whole = facts_of(None);
        assert_eq!(whole.len(), facts.len(), "{}", s.name);
        for parts in [1, 2, 3, 5] {
            assert_eq!(facts_of(Some(parts)), whole, "{}: {parts} parts", s.name);
        }
        let one = app
            .recompute_index(&RecomputeOptions::new(AdminLevel::Adm1))
            .unwrap();

        // With a CPU clock every stage also has a CPU time.
        let mut opts = RecomputeOptions::new(AdminLevel::Adm1);
        opts.cpu_clock = Some(|| Some(std::time::Duration::from_millis(7)));
        let timed = app.recompute_index(&opts).unwrap();
        let names: Vec<&str> = timed.cpu_timings.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["source", "localities", "read", "panel", "index", "detect"]
        );
        assert!(one.cpu_timings.is_empty());

        // An unknown source is no data; the grid has no recompute.
        let mut opts = RecomputeOptions::new(AdminLevel::Adm1);
        opts.source = Some("nobody".into());
        let none = app.recompute_index(&opts).unwrap();
        assert!(none.index.is_none() && none.events_read == 0);
    });
}

fn flag_mask(kind: SeriesKind) -> u8 {
    use usalama_app::analytics::detect::Method;
    flag(Method::NbCusum, kind) | flag(Method::Farrington, kind)
}
