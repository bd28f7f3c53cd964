//! The export's narrow read (`Store::scan_export_rows`) against the full event read
//! (`Store::scan_events`) on every backend: the same events in the same order, every
//! exported field equal, actors named in the order events list them, filters and
//! visibility applied, an error from the caller stopping the scan.

use usalama_domain::{
    Actor, ActorId, ActorKind, ActorRole, AdminLevel, Dimension, EventActor, LocalityPath,
    VerificationStatus,
};
use usalama_store::{EventQuery, ExportRow, PlacedEvent, StoreError, Visibility};
use usalama_test_support::{event, on_every_backend, square, t0, taxonomy, TestStore};

/// The exported fields of a row, owned, to compare after the scan.
#[derive(Debug, Clone, PartialEq)]
struct Owned {
    text: Vec<Option<String>>,
    rest: String,
    /// The source's country, as `Debug` writes it.
    country: String,
    /// Whether it has a country locality.
    in_country: bool,
}

fn owned(r: &ExportRow<'_>) -> Owned {
    let s = |x: &str| Some(x.to_string());
    Owned {
        text: vec![
            s(r.source),
            r.external_id.map(str::to_string),
            s(r.category),
            r.place_name.map(str::to_string),
            r.actors[0].map(str::to_string),
            r.actors[1].map(str::to_string),
            r.description.map(str::to_string),
        ],
        rest: format!(
            "{} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?} {:?}",
            r.id,
            r.occurred_start,
            r.occurred_end,
            r.date_precision,
            r.dimension,
            r.adm0,
            r.adm,
            r.point,
            r.location_precision,
            r.casualties,
            r.civilians_targeted,
            r.status,
            r.source_country,
        ),
        country: format!("{:?}", r.source_country.each_ref().map(|c| c.as_deref())),
        in_country: r.adm0.is_some(),
    }
}

/// What the export writes of a whole event, with its actors' names looked up.
fn expected(s: &TestStore, p: &PlacedEvent) -> Owned {
    let e = &p.event;
    let name = |i: usize| {
        e.actors
            .get(i)
            .and_then(|a| s.store.get_actor(a.actor).unwrap())
            .map(|a| a.name)
    };
    let adm = [
        p.path.at(AdminLevel::Adm1),
        p.path.at(AdminLevel::Adm2),
        p.path.at(AdminLevel::Adm3),
    ];
    let adm0 = p.path.at(AdminLevel::Adm0);
    // An event with no country locality brings the country its source codes name.
    let source_country = match adm0 {
        Some(_) => [None, None],
        None => usalama_store::export::SOURCE_COUNTRY_KEYS.map(|keys| {
            keys.iter()
                .find_map(|k| e.source_codes.get(k))
                .map(std::borrow::Cow::Borrowed)
        }),
    };
    let row = ExportRow {
        id: e.id,
        source: &e.source,
        external_id: e.external_id.as_deref(),
        occurred_start: e.occurred_start,
        occurred_end: e.occurred_end,
        date_precision: e.date_precision,
        category: &e.category,
        dimension: e.dimension,
        adm,
        place_name: e.place_name.as_deref(),
        point: e.point,
        location_precision: e.location_precision,
        casualties: e.casualties,
        civilians_targeted: e.civilians_targeted,
        actors: [None, None],
        status: e.status,
        description: e.description.as_deref(),
        adm0,
        source_country,
    };
    let mut o = owned(&row);
    o.text[4] = name(0);
    o.text[5] = name(1);
    o
}

fn export_rows(s: &TestStore, q: &EventQuery) -> Vec<Owned> {
    let mut got = Vec::new();
    let n = s
        .store
        .scan_export_rows(q, &mut |r| {
            got.push(owned(r));
            Ok(())
        })
        .unwrap();
    assert_eq!(n, got.len() as u64, "{}", s.name);
    got
}

fn full_rows(s: &TestStore, q: &EventQuery) -> Vec<Owned> {
    let mut all = Vec::new();
    s.store
        .scan_events(q, 4, &mut |b| {
            all.extend(b.iter().cloned());
            Ok(())
        })
        .unwrap();
    all.iter().map(|p| expected(s, p)).collect()
}

#[test]
fn export_rows_are_the_exported_fields_of_every_event_oldest_first() {
    on_every_backend(|s| {
        let c0 = square(
            "XY",
            "Xland",
            AdminLevel::Adm0,
            None,
            (0.0, 0.0, 10.0, 10.0),
        );
        let p1 = square(
            "P1",
            "North",
            AdminLevel::Adm1,
            Some(c0.id),
            (0.0, 5.0, 10.0, 10.0),
        );
        let d1 = square(
            "P1D1",
            "North One",
            AdminLevel::Adm2,
            Some(p1.id),
            (0.0, 5.0, 5.0, 10.0),
        );
        s.store
            .upsert_localities(&[c0.clone(), p1.clone(), d1.clone()])
            .unwrap();
        let actors: Vec<Actor> = ["Zeta Front", "Alpha Militia", "Civilians"]
            .into_iter()
            .map(|n| {
                Actor::new(
                    ActorId::derived(n),
                    n,
                    ActorKind::Militia,
                    Default::default(),
                )
                .unwrap()
            })
            .collect();
        s.store.upsert_actors(&actors).unwrap();
        let mut events = Vec::new();
        for n in 0..23u32 {
            // Several events share a date, so the id decides their order.
            let date = format!("2020-{:02}-{:02}", 1 + n % 4, 1 + n % 3);
            let mut d = event(n, &date, "armed_violence", Dimension::Lives);
            let path = match n % 3 {
                0 => LocalityPath([Some(c0.id), Some(p1.id), Some(d1.id), None]),
                1 => LocalityPath([None, Some(p1.id), None, None]),
                _ => LocalityPath::default(),
            };
            d.locality = path.deepest();
            if n % 4 == 0 {
                d.point = None;
                d.location_precision = None;
                d.place_name = None;
                d.description = None;
                d.external_id = None;
            }
            if n % 5 == 0 {
                d.status = VerificationStatus::Rejected;
            }
            if n % 6 == 1 {
                // Listed side B first: the order read is by role, then actor id.
                d.actors = vec![
                    EventActor {
                        actor: actors[0].id,
                        role: ActorRole::SideB,
                    },
                    EventActor {
                        actor: actors[1].id,
                        role: ActorRole::SideA,
                    },
                    EventActor {
                        actor: actors[2].id,
                        role: ActorRole::Target,
                    },
                ];
            } else if n % 6 == 2 {
                d.actors = vec![EventActor {
                    actor: actors[2].id,
                    role: ActorRole::SideA,
                }];
            }
            d.casualties.injured = (n % 7 == 0).then_some(n);
            // The country as sources name it: ACLED's number and name, HXL's code alone,
            // and a value the compact form cannot hold (kept as JSON).
            match n % 4 {
                0 => d
                    .source_codes
                    .extend([("iso", "562"), ("country", "Niger")]),
                1 => d.source_codes.insert("country_code", "NER"),
                2 => d
                    .source_codes
                    .extend([("country", "Ni\u{1e}ger"), ("iso3", "NER")]),
                _ => {}
            }
            if n == 9 {
                d.source = "other".into();
            }
            events.push(PlacedEvent {
                event: d.validate(&taxonomy()).unwrap(),
                path,
            });
        }
        s.store.upsert_events(&events, t0()).unwrap();

        let all = EventQuery::default();
        let got = export_rows(s, &all);
        assert_eq!(got.len(), 23, "{}", s.name);
        assert_eq!(got, full_rows(s, &all), "{}", s.name);
        // The source's country comes with the events in no country, whatever the form
        // their codes are stored in; an event in a country brings none.
        let countries: std::collections::BTreeSet<(bool, String)> = got
            .iter()
            .map(|o| (o.in_country, o.country.clone()))
            .collect();
        let want: std::collections::BTreeSet<(bool, String)> = [
            (true, "[None, None]"),
            (false, "[Some(\"562\"), Some(\"Niger\")]"),
            (false, "[Some(\"NER\"), None]"),
            (false, "[Some(\"NER\"), Some(\"Ni\\u{1e}ger\")]"),
            (false, "[None, None]"),
        ]
        .into_iter()
        .map(|(placed, c)| (placed, c.to_string()))
        .collect();
        assert_eq!(countries, want, "{}", s.name);
        // Actors by role: side A (Alpha) before side B (Zeta); the target is not exported.
        let with_three: Vec<&Owned> = got.iter().filter(|o| o.text[5].is_some()).collect();
        assert!(!with_three.is_empty());
        for o in with_three {
            assert_eq!(o.text[4].as_deref(), Some("Alpha Militia"), "{}", s.name);
            assert_eq!(o.text[5].as_deref(), Some("Zeta Front"), "{}", s.name);
        }

        // Filters, as every event query applies them.
        for q in [
            EventQuery {
                locality: Some((p1.id, AdminLevel::Adm1)),
                ..Default::default()
            },
            EventQuery {
                locality: Some((d1.id, AdminLevel::Adm2)),
                from: Some(usalama_test_support::day("2020-02-01")),
                ..Default::default()
            },
            EventQuery {
                source: Some("other".into()),
                ..Default::default()
            },
            EventQuery {
                status: Some("rejected".into()),
                ..Default::default()
            },
        ] {
            let got = export_rows(s, &q);
            assert!(!got.is_empty(), "{}: {q:?}", s.name);
            assert_eq!(got, full_rows(s, &q), "{}: {q:?}", s.name);
        }
        // Visibility: an organisation with nothing shared sees only unowned events (all
        // of them here); nothing matching means no call.
        let vis = EventQuery {
            visibility: Visibility::Org {
                org: usalama_domain::DEFAULT_ORG,
                shared: Vec::new(),
            },
            ..Default::default()
        };
        assert_eq!(export_rows(s, &vis), full_rows(s, &vis), "{}", s.name);
        let none = EventQuery {
            category: Some("none".into()),
            ..Default::default()
        };
        let n = s
            .store
            .scan_export_rows(&none, &mut |_| panic!("no row expected"))
            .unwrap();
        assert_eq!(n, 0);

        // An error from the caller stops the scan and is returned.
        let mut calls = 0;
        let err = s.store.scan_export_rows(&all, &mut |_| {
            calls += 1;
            Err(StoreError::Backend("stop".into()))
        });
        assert!(matches!(err, Err(StoreError::Backend(m)) if m == "stop"));
        assert_eq!(calls, 1, "{}", s.name);
    });
}
