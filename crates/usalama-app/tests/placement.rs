//! Placement follows the boundaries: events imported before any boundary are unplaced, and
//! importing (or re-importing changed) boundaries places them, on every backend.

use std::sync::Arc;
use usalama_app::{App, FixedClock, Principal};
use usalama_domain::AdminLevel;
use usalama_ingest::BoundaryFields;
use usalama_store::EventQuery;
use usalama_test_support::{on_every_backend, t0, DEMO_BOUNDARIES, DEMO_EVENTS};

#[test]
fn importing_boundaries_places_events_already_stored() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        let who = Principal::Operator;
        let r = app
            .import_ucdp_json(&who, DEMO_EVENTS.into(), None, &mut |_| {})
            .unwrap();
        assert_eq!(
            (r.imported, r.unplaced),
            (1848, 1848),
            "{}: no boundaries yet",
            s.name
        );

        let (level, adm1) = DEMO_BOUNDARIES[0];
        let b = app
            .import_boundaries(&who, adm1.as_bytes(), level, &BoundaryFields::default())
            .unwrap();
        // Every event gets at least its country; those located more precisely a province.
        assert_eq!(b.replaced_events, 1848, "{}", s.name);
        let stats = app.public_stats().unwrap();
        let placed: u64 = stats.adm1.iter().map(|c| c.events).sum();
        assert!(
            placed > 1700 && placed < 1848,
            "{}: {placed} in provinces",
            s.name
        );

        // Districts arrive later: events move down to them, provinces keep their counts.
        let (level2, adm2) = DEMO_BOUNDARIES[1];
        let b2 = app
            .import_boundaries(&who, adm2.as_bytes(), level2, &BoundaryFields::default())
            .unwrap();
        assert!(
            b2.replaced_events > 1000,
            "{}: {} events re-placed",
            s.name,
            b2.replaced_events
        );
        let ouaka = app.resolve_locality("CF43").unwrap();
        let in_ouaka = app
            .list_events(
                &who,
                &EventQuery {
                    locality: Some((ouaka.id, AdminLevel::Adm1)),
                    ..Default::default()
                },
            )
            .unwrap()
            .total;
        let expected = stats
            .adm1
            .iter()
            .find(|c| c.locality.code.as_str() == "CF43")
            .unwrap()
            .events;
        assert_eq!(in_ouaka, expected, "{}", s.name);

        // Re-importing the same boundaries moves nothing.
        let again = app
            .import_boundaries(&who, adm2.as_bytes(), level2, &BoundaryFields::default())
            .unwrap();
        assert_eq!(again.replaced_events, 0, "{}", s.name);
    });
}

/// Districts imported before their provinces are linked to them when the provinces
/// arrive, so that events in a district count in its province whatever the order.
#[test]
fn districts_imported_before_their_provinces_are_linked_to_them() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        let who = Principal::Operator;
        let [(adm1_level, adm1), (adm2_level, adm2)] = [DEMO_BOUNDARIES[0], DEMO_BOUNDARIES[1]];
        let b2 = app
            .import_boundaries(
                &who,
                adm2.as_bytes(),
                adm2_level,
                &BoundaryFields::default(),
            )
            .unwrap();
        assert!(!b2.orphans.is_empty(), "{}: no provinces yet", s.name);
        assert!(
            b2.to_string()
                .ends_with("without a parent until the level above is imported, which links them"),
            "{b2}"
        );
        let b1 = app
            .import_boundaries(
                &who,
                adm1.as_bytes(),
                adm1_level,
                &BoundaryFields::default(),
            )
            .unwrap();
        assert_eq!(b1.adopted as usize, b2.orphans.len(), "{}: {b1}", s.name);
        let r = app
            .import_ucdp_json(&who, DEMO_EVENTS.into(), None, &mut |_| {})
            .unwrap();
        assert_eq!(r.imported, 1848);
        let stats = app.public_stats().unwrap();
        let in_provinces: u64 = stats.adm1.iter().map(|c| c.events).sum();
        assert!(in_provinces > 1700, "{}: {in_provinces}", s.name);
        // The same districts as when the provinces come first.
        let bambari = app.resolve_locality("CF431").unwrap();
        assert_eq!(
            bambari.parent,
            Some(app.resolve_locality("CF43").unwrap().id),
            "{}",
            s.name
        );
    });
}

/// A file imported at the wrong level with its code named explicitly (provinces read as
/// districts) is refused feature by feature: a province does not become its own parent,
/// which would leave a store no command can read.
#[test]
fn a_code_already_stored_at_another_level_is_refused() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        let who = Principal::Operator;
        let (adm1_level, adm1) = DEMO_BOUNDARIES[0];
        app.import_boundaries(
            &who,
            adm1.as_bytes(),
            adm1_level,
            &BoundaryFields::default(),
        )
        .unwrap();
        let as_districts = BoundaryFields {
            code: Some("adm1_pcode".into()),
            name: Some("adm1_name".into()),
            parent_code: None,
        };
        let r = app
            .import_boundaries(&who, adm1.as_bytes(), AdminLevel::Adm2, &as_districts)
            .unwrap();
        assert_eq!(
            r.localities.inserted + r.localities.updated,
            0,
            "{}",
            s.name
        );
        assert_eq!(r.problems.len(), 17, "{}", s.name);
        assert!(
            r.problems[0].reason.contains("a level-1 locality")
                && r.problems[0].reason.contains("--level adm1"),
            "{}",
            r.problems[0]
        );
        let ouaka = app.resolve_locality("CF43").unwrap();
        assert_eq!(
            (ouaka.level, ouaka.parent.is_some()),
            (AdminLevel::Adm1, true)
        );
        // The store is still readable: events import and are placed.
        let r = app
            .import_ucdp_json(&who, DEMO_EVENTS.into(), None, &mut |_| {})
            .unwrap();
        assert_eq!(r.imported, 1848, "{}", s.name);
    });
}
