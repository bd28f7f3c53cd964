//! The demo on the bundled real data, on every backend: boundaries and UCDP GED events load,
//! events are placed, the public aggregates add up, and a second run adds nothing.

use std::sync::Arc;
use usalama_app::{App, DemoData, FixedClock, Principal};
use usalama_domain::AdminLevel;
use usalama_store::{EventQuery, LocalityQuery};
use usalama_test_support::{on_every_backend, t0};

const ADM1: &str = include_str!("../../../data/demo/caf_admin1.geojson");
const ADM2: &str = include_str!("../../../data/demo/caf_admin2.geojson");
const ADM3: &str = include_str!("../../../data/demo/caf_admin3.geojson");
const EVENTS: &str = include_str!("../../../data/demo/ucdp-ged-caf.geojson");

fn data() -> DemoData<'static> {
    DemoData {
        boundaries: vec![
            (AdminLevel::Adm1, ADM1),
            (AdminLevel::Adm2, ADM2),
            (AdminLevel::Adm3, ADM3),
        ],
        ucdp_geojson: EVENTS,
    }
}

#[test]
fn demo_loads_real_data_and_is_idempotent() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        let first = app.prepare_demo(&data()).unwrap();
        assert_eq!(first.events.imported, 1848, "{}", s.name);
        assert_eq!(
            first.events.rejected(),
            0,
            "{}: {:?}",
            s.name,
            first.events.problems.first()
        );
        let levels: Vec<u64> = first
            .boundaries
            .iter()
            .map(|(_, r)| r.localities.inserted)
            .collect();
        assert_eq!(levels, vec![17, 72, 175], "{}", s.name);
        assert!(
            first.boundaries.iter().all(|(_, r)| r.orphans.is_empty()),
            "{}: every locality has a parent",
            s.name
        );

        let who = Principal::Operator;
        let adm1 = app
            .list_localities(
                &who,
                &LocalityQuery {
                    level: Some(AdminLevel::Adm1),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(adm1.total, 17);
        let all = app.list_events(&who, &EventQuery::default()).unwrap();
        assert_eq!(all.total, 1848);

        let stats = app.public_stats().unwrap();
        assert_eq!(stats.total_events, 1848);
        assert_eq!(stats.total_fatalities, 14_948, "{}", s.name);
        assert_eq!(stats.adm1.len(), 17);
        let placed: u64 = stats.adm1.iter().map(|c| c.events).sum();
        // Events located only to the country (where_prec >= 5) have no province.
        assert!(
            placed > 1700 && placed < 1848,
            "{}: {placed} events in provinces",
            s.name
        );

        // A province filter counts its descendants.
        let bangui = app.resolve_locality("CF71").unwrap();
        let in_bangui = app
            .list_events(
                &who,
                &EventQuery {
                    locality: Some((bangui.id, bangui.level)),
                    ..Default::default()
                },
            )
            .unwrap();
        let expected = stats
            .adm1
            .iter()
            .find(|c| c.locality.code.as_str() == "CF71")
            .unwrap()
            .events;
        assert_eq!(in_bangui.total, expected);
        assert!(
            in_bangui.items[0].lineage.len() >= 2,
            "lineage runs from the country down"
        );

        // The second run adds nothing.
        let second = app.prepare_demo(&data()).unwrap();
        assert_eq!(
            (
                second.events.imported,
                second.events.updated,
                second.events.unchanged
            ),
            (0, 0, 1848),
            "{}",
            s.name
        );
        assert!(second
            .boundaries
            .iter()
            .all(|(_, r)| r.localities.inserted == 0 && r.localities.updated == 0));
        assert_eq!(
            app.list_events(&who, &EventQuery::default()).unwrap().total,
            1848
        );

        // The new token works, the old one no longer does.
        assert!(app.authenticate_token(first.token.expose()).is_err());
        assert!(app.authenticate_token(second.token.expose()).is_ok());
        assert!(app.login("admin", &second.password).is_ok());
        assert!(app.login("admin", &first.password).is_err());
    });
}
