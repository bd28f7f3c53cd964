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
