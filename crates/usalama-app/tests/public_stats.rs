//! Public aggregates count each incident once and false reports not at all: rejecting an
//! event or merging it into another takes it out of the home page's and map's figures at
//! once (the caches are dropped on every write), on every backend.

use std::sync::Arc;
use usalama_app::{App, DemoData, FixedClock, Principal};
use usalama_domain::{AdminLevel, Decision, DecisionStatus, Role};
use usalama_store::{EventQuery, GroupBy, PageRequest};
use usalama_test_support::{on_every_backend, t0, DEMO_BOUNDARIES, DEMO_EVENTS};

#[test]
fn rejected_and_duplicate_events_leave_the_public_figures() {
    on_every_backend(|s| {
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        let who = Principal::Token {
            label: "t".into(),
            role: Role::Analyst,
            org: usalama_domain::DEFAULT_ORG,
        };
        let before = app.public_stats().unwrap();
        assert_eq!(before.total_events, 1848, "{}", s.name);
        // The dashboard names the chosen source: it gets the figures already computed
        // without one (the start-up warms those), not a second computation.
        let named = app.public_stats_for(before.source.as_deref()).unwrap();
        assert!(before.source.is_some(), "{}", s.name);
        assert!(Arc::ptr_eq(&before, &named), "{}: one kept value", s.name);
        let listed_before = app.list_events(&who, &EventQuery::default()).unwrap().total;

        let two = app
            .list_events(
                &who,
                &EventQuery {
                    page: PageRequest {
                        limit: 2,
                        after: None,
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        let (a, b) = (&two.items[0].event, &two.items[1].event);
        let reject = Decision::new(
            DecisionStatus::Rejected,
            Some("not an incident"),
            None,
            None,
        )
        .unwrap();
        let va = app.get_event_versioned(&who, a.id).unwrap().version;
        app.decide(&who, a.id, &reject, va).unwrap();
        let vb = app.get_event_versioned(&who, b.id).unwrap().version;
        let root = third_event(&app, &who, a.id, b.id);
        app.merge(&who, b.id, root, Some("same incident"), vb)
            .unwrap();

        let after = app.public_stats().unwrap();
        assert_eq!(
            after.total_events, 1846,
            "{}: both left the public count at once",
            s.name
        );
        assert_eq!(
            after.total_fatalities,
            before.total_fatalities - u64::from(a.fatalities()) - u64::from(b.fatalities()),
            "{}",
            s.name
        );
        // The figures from the narrow scan are the store's grouped counts of the source's
        // countable events, by dimension and year and by province.
        let source = EventQuery {
            source: after.source.clone(),
            countable_only: true,
            ..Default::default()
        };
        assert_eq!(
            after.by_dimension_year,
            s.store
                .count_events(&source, GroupBy::DimensionYear)
                .unwrap(),
            "{}",
            s.name
        );
        let by_adm1 = s
            .store
            .count_events(&source, GroupBy::Locality(AdminLevel::Adm1))
            .unwrap();
        assert!(after.adm1.iter().any(|a| a.events > 0));
        for a in &after.adm1 {
            let g = by_adm1.iter().find(|g| g.key == a.locality.id.to_string());
            assert_eq!(
                (a.events, a.fatalities),
                g.map_or((0, 0), |g| (g.events, g.fatalities)),
                "{}: {}",
                s.name,
                a.locality.code
            );
        }
        // Records stay listed for analysts, with their statuses; the total is fresh.
        assert_eq!(
            app.list_events(&who, &EventQuery::default()).unwrap().total,
            listed_before
        );
    });
}

/// Some third event to merge into.
fn third_event(
    app: &App,
    who: &Principal,
    a: usalama_domain::EventId,
    b: usalama_domain::EventId,
) -> usalama_domain::EventId {
    let page = app
        .list_events(
            who,
            &EventQuery {
                page: PageRequest {
                    limit: 3,
                    after: None,
                },
                ..Default::default()
            },
        )
        .unwrap();
    page.items
        .iter()
        .map(|v| v.event.id)
        .find(|id| *id != a && *id != b)
        .unwrap()
}
