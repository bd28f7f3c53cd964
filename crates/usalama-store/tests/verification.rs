//! The verification part of the storage conformance suite, on SQLite and (when
//! `USALAMA_TEST_POSTGRES_URL` is set) PostgreSQL: the queue's order and pages, decisions
//! checked against versions and written with their history, re-imports that keep the
//! analysts' fields, merges and un-merges, and the pool of possible duplicates.

use chrono::Duration;
use usalama_domain::{
    AdminLevel, Dimension, EventData, EventId, GeoPoint, InformationCredibility, LocalityPath,
    Severity, SourceReliability, VerificationStatus,
};
use usalama_store::{
    ChangeNote, Cursor, DecisionWrite, DuplicatePoolQuery, HistoryKind, MergeWrite, PageRequest,
    PlacedEvent, QueueQuery, StoreError, UnmergeWrite, WriteOutcome,
};
use usalama_test_support::{day, event, on_every_backend, square, t0, taxonomy, TestStore};

/// Two provinces; returns their ids.
fn provinces(s: &TestStore) -> [usalama_domain::LocalityId; 2] {
    let p1 = square(
        "P1",
        "North",
        AdminLevel::Adm1,
        None,
        (0.0, 5.0, 10.0, 10.0),
    );
    let p2 = square("P2", "South", AdminLevel::Adm1, None, (0.0, 0.0, 10.0, 5.0));
    s.store
        .upsert_localities(&[p1.clone(), p2.clone()])
        .unwrap();
    [p1.id, p2.id]
}

fn placed(d: EventData, province: usalama_domain::LocalityId) -> PlacedEvent {
    let path = LocalityPath([None, Some(province), None, None]);
    let mut d = d;
    d.locality = path.deepest();
    PlacedEvent {
        event: d.validate(&taxonomy()).unwrap(),
        path,
    }
}

fn report(n: u32, date: &str) -> EventData {
    let mut d = event(n, date, "armed_violence", Dimension::Lives);
    d.status = VerificationStatus::Unverified;
    d.casualties = Default::default();
    d.civilians_targeted = false;
    d
}

fn note(by: &str, reason: Option<&str>, hours: i64) -> ChangeNote {
    ChangeNote {
        by: by.into(),
        at: t0() + Duration::hours(hours),
        reason: reason.map(str::to_string),
    }
}

fn version(s: &TestStore, id: EventId) -> i64 {
    s.store.get_event_versioned(id).unwrap().unwrap().version
}

fn status(s: &TestStore, id: EventId) -> VerificationStatus {
    s.store.get_event(id).unwrap().unwrap().event.status
}

#[test]
fn queue_is_most_severe_first_and_pages_cover_it_once() {
    on_every_backend(|s| {
        let [p1, p2] = provinces(s);
        let mut all = Vec::new();
        for n in 0..26u32 {
            let mut d = report(n, &format!("2024-01-{:02}", 1 + n % 9));
            let c = &mut d.casualties;
            match n % 6 {
                0 => c.killed_best = Some(n % 4),
                1 => c.injured = Some(n % 3),
                2 => c.displaced = Some(2),
                3 => d.civilians_targeted = true,
                4 => {
                    c.killed_best = Some(1);
                    c.abducted = Some(n % 2);
                }
                _ => {}
            }
            if n % 7 == 0 {
                d.category = "arbitrary_arrest".into();
                d.dimension = Dimension::Dignity;
            }
            if n == 25 {
                d.status = VerificationStatus::Verified;
            }
            all.push(placed(d, if n % 2 == 0 { p1 } else { p2 }));
        }
        s.store.upsert_events(&all, t0()).unwrap();
        let mut expected: Vec<EventData> = all
            .iter()
            .filter(|p| p.event.status == VerificationStatus::Unverified)
            .map(|p| p.event.clone().into_data())
            .collect();
        expected.sort_by(Severity::queue_order);
        let expected: Vec<EventId> = expected.iter().map(|e| e.id).collect();

        let mut seen = Vec::new();
        let mut page = PageRequest {
            limit: 4,
            after: None,
        };
        loop {
            let p = s
                .store
                .verification_queue(&QueueQuery {
                    page: page.clone(),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(p.total, 25, "{}", s.name);
            assert!(p.items.iter().all(|v| v.version == 1));
            seen.extend(p.items.iter().map(|v| v.stored.event.id));
            match p.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{}: queue order", s.name);

        let in_p1 = s
            .store
            .verification_queue(&QueueQuery {
                locality: Some((p1, AdminLevel::Adm1)),
                category: Some("armed_violence".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(
            in_p1
                .items
                .iter()
                .all(|v| v.stored.path.0[1] == Some(p1)
                    && v.stored.event.category == "armed_violence")
        );
        assert_eq!(in_p1.total, in_p1.items.len() as u64);
        assert_eq!(in_p1.total, 11, "{}", s.name);

        // A cursor of the events list is not one of the queue's.
        let foreign = QueueQuery {
            page: PageRequest {
                limit: 5,
                after: Some(Cursor {
                    key: "2024-01-01".into(),
                    id: uuid::Uuid::nil(),
                }),
            },
            ..Default::default()
        };
        assert!(matches!(
            s.store.verification_queue(&foreign),
            Err(StoreError::InvalidCursor)
        ));
    });
}

#[test]
fn decisions_check_the_version_keep_history_and_survive_reimport() {
    on_every_backend(|s| {
        let [p1, _] = provinces(s);
        let mut d = report(1, "2024-02-01");
        d.casualties.killed_best = Some(3);
        d.people = vec![usalama_domain::Person {
            name: Some("Planted Name".into()),
            ..Default::default()
        }];
        let e = placed(d, p1);
        let id = e.event.id;
        s.store
            .upsert_events(std::slice::from_ref(&e), t0())
            .unwrap();
        assert_eq!(version(s, id), 1);

        let write = |expected, hours| DecisionWrite {
            event: id,
            expected_version: expected,
            status: VerificationStatus::Verified,
            reliability: Some(SourceReliability::B),
            credibility: Some(InformationCredibility::new(2).unwrap()),
            note: note("ana", Some("two witnesses"), hours),
        };
        assert_eq!(
            s.store.record_decision(&write(1, 1)).unwrap(),
            WriteOutcome::Written { version: 2 },
            "{}",
            s.name
        );
        // A second analyst who loaded version 1 does not overwrite silently.
        assert_eq!(
            s.store.record_decision(&write(1, 2)).unwrap(),
            WriteOutcome::Stale {
                event: id,
                current: 2
            }
        );
        let unknown = EventId::derived("nope");
        assert_eq!(
            s.store
                .record_decision(&DecisionWrite {
                    event: unknown,
                    ..write(1, 2)
                })
                .unwrap(),
            WriteOutcome::Missing(unknown)
        );
        let got = s.store.get_event(id).unwrap().unwrap().event;
        assert_eq!(got.status, VerificationStatus::Verified);
        assert_eq!(got.reliability, Some(SourceReliability::B));
        assert_eq!(got.credibility.map(|c| c.grade()), Some(2));
        assert_eq!(got.meta.updated_at, t0() + Duration::hours(1));
        assert!(s
            .store
            .verification_queue(&QueueQuery::default())
            .unwrap()
            .items
            .is_empty());

        // Re-importing the same row changes nothing; a changed row keeps the decision and
        // bumps the version, so a decision taken on the old content would be refused.
        let c = s
            .store
            .upsert_events(std::slice::from_ref(&e), t0())
            .unwrap();
        assert_eq!(c.unchanged, 1);
        assert_eq!(version(s, id), 2);
        let mut changed = e.event.clone().into_data();
        changed.casualties.killed_best = Some(40);
        changed.people[0].name = Some("Other Name".into());
        let c = s
            .store
            .upsert_events(&[placed(changed, p1)], t0() + Duration::days(1))
            .unwrap();
        assert_eq!(c.updated, 1, "{}", s.name);
        assert_eq!(
            version(s, id),
            3,
            "{}: content change bumps the version",
            s.name
        );
        let got = s.store.get_event(id).unwrap().unwrap().event;
        assert_eq!(got.casualties.killed_best, Some(40));
        assert_eq!(got.status, VerificationStatus::Verified);
        assert_eq!(got.reliability, Some(SourceReliability::B));
        assert!(matches!(
            s.store.record_decision(&write(2, 30)).unwrap(),
            WriteOutcome::Stale { current: 3, .. }
        ));

        let h = s.store.event_history(id).unwrap();
        let kinds: Vec<HistoryKind> = h.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [HistoryKind::Decision, HistoryKind::ContentUpdate],
            "{}",
            s.name
        );
        let decision = &h[0];
        assert_eq!(
            (
                decision.by.as_deref(),
                decision.reason.as_deref(),
                decision.at
            ),
            (
                Some("ana"),
                Some("two witnesses"),
                t0() + Duration::hours(1)
            )
        );
        let fields = |i: usize| -> Vec<(String, Option<String>, Option<String>, bool)> {
            h[i].changes
                .iter()
                .map(|c| (c.field.clone(), c.from.clone(), c.to.clone(), c.withheld))
                .collect()
        };
        assert_eq!(
            fields(0),
            [
                ("credibility".into(), None, Some("2".into()), false),
                ("reliability".into(), None, Some("B".into()), false),
                (
                    "status".into(),
                    Some("unverified".into()),
                    Some("verified".into()),
                    false
                ),
            ],
            "{}",
            s.name
        );
        assert_eq!(
            fields(1),
            [
                (
                    "killed_best".into(),
                    Some("3".into()),
                    Some("40".into()),
                    false
                ),
                ("people".into(), None, None, true),
            ],
            "{}",
            s.name
        );
        assert_eq!(h[1].at, t0() + Duration::days(1));
        assert!(s.store.event_history(unknown).unwrap().is_empty());
    });
}

#[test]
fn merges_keep_every_duplicate_on_a_root_and_unmerge() {
    on_every_backend(|s| {
        let [p1, _] = provinces(s);
        let evs: Vec<PlacedEvent> = (1..=4)
            .map(|n| placed(report(n, "2024-03-01"), p1))
            .collect();
        s.store.upsert_events(&evs, t0()).unwrap();
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| evs[i].event.id);
        let merge = |event, root, hours| MergeWrite {
            event,
            expected_version: version(s, event),
            root,
            root_version: version(s, root),
            note: note("ana", Some("same incident"), hours),
        };
        // b into a, then a (with b) into c: both end on c, the root.
        assert_eq!(
            s.store.merge_event(&merge(b, a, 1)).unwrap(),
            WriteOutcome::Written { version: 2 }
        );
        assert_eq!(status(s, b), VerificationStatus::DuplicateOf(a));
        assert!(matches!(
            s.store.merge_event(&merge(a, c, 2)).unwrap(),
            WriteOutcome::Written { .. }
        ));
        assert_eq!(
            status(s, a),
            VerificationStatus::DuplicateOf(c),
            "{}",
            s.name
        );
        assert_eq!(
            status(s, b),
            VerificationStatus::DuplicateOf(c),
            "{}",
            s.name
        );
        assert_eq!(version(s, b), 3);
        let dups = s
            .store
            .list_events(&usalama_store::EventQuery {
                duplicate_of: Some(c),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(dups.total, 2);
        // Duplicates keep their own record and source.
        let got_b = s.store.get_event(b).unwrap().unwrap().event;
        assert_eq!(got_b.external_id.as_deref(), Some("2"));

        // Stale and missing targets write nothing.
        let mut stale = merge(d, c, 3);
        stale.root_version -= 1;
        assert_eq!(
            s.store.merge_event(&stale).unwrap(),
            WriteOutcome::Stale {
                event: c,
                current: stale.root_version + 1
            }
        );
        let ghost = EventId::derived("ghost");
        let mut missing = merge(d, c, 3);
        missing.root = ghost;
        assert_eq!(
            s.store.merge_event(&missing).unwrap(),
            WriteOutcome::Missing(ghost)
        );
        // The store refuses a merge into a duplicate (the application resolves roots).
        assert!(matches!(
            s.store.merge_event(&merge(d, a, 3)),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(status(s, d), VerificationStatus::Unverified);

        // Un-merge a: it stands alone again; b stays with c.
        let un = UnmergeWrite {
            event: a,
            expected_version: version(s, a),
            restore: VerificationStatus::Unverified,
            note: note("ben", Some("different day"), 4),
        };
        assert!(matches!(
            s.store.unmerge_event(&un).unwrap(),
            WriteOutcome::Written { .. }
        ));
        assert_eq!(status(s, a), VerificationStatus::Unverified);
        assert_eq!(status(s, b), VerificationStatus::DuplicateOf(c));
        assert!(matches!(
            s.store.unmerge_event(&UnmergeWrite {
                expected_version: version(s, a),
                ..un.clone()
            }),
            Err(StoreError::Conflict(_))
        ));

        let kinds = |id| -> Vec<(HistoryKind, Option<EventId>)> {
            s.store
                .event_history(id)
                .unwrap()
                .iter()
                .map(|e| (e.kind, e.related))
                .collect()
        };
        assert_eq!(
            kinds(c),
            [
                (HistoryKind::DuplicateAdded, Some(a)),
                (HistoryKind::DuplicateAdded, Some(b)),
                (HistoryKind::DuplicateRemoved, Some(a)),
            ],
            "{}",
            s.name
        );
        assert_eq!(
            kinds(a),
            [
                (HistoryKind::DuplicateAdded, Some(b)),
                (HistoryKind::MergedInto, Some(c)),
                (HistoryKind::Unmerged, Some(c)),
            ]
        );
        let ha = s.store.event_history(a).unwrap();
        let status_change = ha[1].changes.iter().find(|c| c.field == "status").unwrap();
        assert_eq!(
            (status_change.from.as_deref(), status_change.to.as_deref()),
            (Some("unverified"), Some("duplicate"))
        );
        assert_eq!(ha[2].by.as_deref(), Some("ben"));
        assert_eq!(ha[2].reason.as_deref(), Some("different day"));
        assert!(
            ha[0].changes.is_empty(),
            "a root is unchanged by a new duplicate"
        );
    });
}

#[test]
fn duplicate_pool_filters_by_category_dates_and_place() {
    on_every_backend(|s| {
        let [p1, p2] = provinces(s);
        let at = |n: u32, date: &str, lat: f64, lon: f64| {
            let mut d = report(n, date);
            d.point = Some(GeoPoint::new(lat, lon).unwrap());
            d
        };
        let base = at(1, "2024-04-10", 6.0, 4.0);
        let near = at(2, "2024-04-12", 6.05, 4.02);
        let far = at(3, "2024-04-10", 7.5, 4.0);
        let late = at(4, "2024-04-20", 6.0, 4.0);
        let mut other = at(5, "2024-04-10", 6.0, 4.0);
        other.category = "food_insecurity".into();
        other.dimension = Dimension::Livelihood;
        let mut nowhere = report(6, "2024-04-09");
        nowhere.point = None;
        nowhere.location_precision = None;
        let mut elsewhere = report(7, "2024-04-09");
        elsewhere.point = None;
        elsewhere.location_precision = None;
        let evs = vec![
            placed(base.clone(), p1),
            placed(near, p1),
            placed(far, p1),
            placed(late, p1),
            placed(other, p1),
            placed(nowhere, p1),
            placed(elsewhere, p2),
        ];
        s.store.upsert_events(&evs, t0()).unwrap();
        let rules = usalama_domain::DuplicateRules::default();
        let q = DuplicatePoolQuery {
            exclude: base.id,
            category: "armed_violence".into(),
            occurred_from: day("2024-04-07"),
            occurred_to: day("2024-04-13"),
            bbox: Some(rules.bounding_box(base.point.unwrap())),
            locality: Some(p1),
            limit: 100,
        };
        let mut got: Vec<String> = s
            .store
            .duplicate_pool(&q)
            .unwrap()
            .into_iter()
            .map(|v| v.stored.event.external_id.clone().unwrap())
            .collect();
        got.sort();
        assert_eq!(got, ["2", "6"], "{}", s.name);
        // Without coordinates, only the same locality counts.
        let got: Vec<String> = s
            .store
            .duplicate_pool(&DuplicatePoolQuery {
                bbox: None,
                locality: Some(p2),
                ..q
            })
            .unwrap()
            .into_iter()
            .map(|v| v.stored.event.external_id.clone().unwrap())
            .collect();
        assert_eq!(got, ["7"], "{}", s.name);
    });
}

/// The pool is read in two parts (events ending within a week after the window, then
/// longer events through `events_long_span`); together they hold every event overlapping
/// the window that lasts at most a year, newest first, and the limit counts across both.
#[test]
fn duplicate_pool_holds_long_events_overlapping_the_window_newest_first() {
    on_every_backend(|s| {
        let [p1, _] = provinces(s);
        let spanning = |n: u32, start: &str, end: &str| {
            let mut d = report(n, end);
            d.occurred_start = day(start);
            d.point = Some(GeoPoint::new(6.0, 4.0).unwrap());
            placed(d, p1)
        };
        let evs = vec![
            spanning(1, "2024-04-10", "2024-04-10"),
            // Overlaps the window and ends half a year after it: only the long part has it.
            spanning(2, "2024-01-01", "2024-10-01"),
            // Lasts 7 days, ending 7 days after the window: the short part's last day.
            spanning(3, "2024-04-13", "2024-04-20"),
            // Long, but starts after the window.
            spanning(4, "2024-05-01", "2024-12-01"),
            // Short, after the window.
            spanning(5, "2024-04-20", "2024-04-21"),
            // Long, ended before the window.
            spanning(6, "2023-06-01", "2024-04-01"),
            // Long and ending inside the window (the short part's range).
            spanning(7, "2023-06-01", "2024-04-08"),
            // Known only to two years: too vague to be proposed.
            spanning(8, "2023-06-01", "2025-05-31"),
        ];
        s.store.upsert_events(&evs, t0()).unwrap();
        let rules = usalama_domain::DuplicateRules::default();
        let q = DuplicatePoolQuery {
            exclude: evs[0].event.id,
            category: "armed_violence".into(),
            occurred_from: day("2024-04-07"),
            occurred_to: day("2024-04-13"),
            bbox: Some(rules.bounding_box(GeoPoint::new(6.0, 4.0).unwrap())),
            locality: Some(p1),
            limit: 100,
        };
        let ids = |q: &DuplicatePoolQuery| -> Vec<String> {
            s.store
                .duplicate_pool(q)
                .unwrap()
                .into_iter()
                .map(|v| v.stored.event.external_id.clone().unwrap())
                .collect()
        };
        assert_eq!(ids(&q), ["2", "3", "7"], "{}", s.name);
        assert_eq!(
            ids(&DuplicatePoolQuery {
                limit: 2,
                ..q.clone()
            }),
            ["2", "3"],
            "{}",
            s.name
        );
        assert_eq!(
            ids(&DuplicatePoolQuery { limit: 1, ..q }),
            ["2"],
            "{}",
            s.name
        );
    });
}

#[test]
fn concurrent_decisions_on_one_version_write_once() {
    on_every_backend(|s| {
        let [p1, _] = provinces(s);
        let e = placed(report(9, "2024-06-01"), p1);
        let id = e.event.id;
        s.store.upsert_events(&[e], t0()).unwrap();
        let outcomes: Vec<WriteOutcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|n| {
                    let store = s.store.clone();
                    scope.spawn(move || {
                        store
                            .record_decision(&DecisionWrite {
                                event: id,
                                expected_version: 1,
                                status: if n % 2 == 0 {
                                    VerificationStatus::Verified
                                } else {
                                    VerificationStatus::Rejected
                                },
                                reliability: None,
                                credibility: None,
                                note: note(&format!("analyst{n}"), Some("seen"), 1),
                            })
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let written = outcomes
            .iter()
            .filter(|o| matches!(o, WriteOutcome::Written { version: 2 }))
            .count();
        let stale = outcomes
            .iter()
            .filter(|o| matches!(o, WriteOutcome::Stale { current: 2, .. }))
            .count();
        assert_eq!((written, stale), (1, 5), "{}: {outcomes:?}", s.name);
        assert_eq!(s.store.event_history(id).unwrap().len(), 1, "{}", s.name);
        assert_eq!(version(s, id), 2);
    });
}

#[test]
fn crossed_merges_cannot_make_a_cycle() {
    on_every_backend(|s| {
        let [p1, _] = provinces(s);
        for round in 0..4u32 {
            let a = placed(report(100 + 2 * round, "2024-06-01"), p1);
            let b = placed(report(101 + 2 * round, "2024-06-01"), p1);
            let (ia, ib) = (a.event.id, b.event.id);
            s.store.upsert_events(&[a, b], t0()).unwrap();
            let outcomes: Vec<WriteOutcome> = std::thread::scope(|scope| {
                let handles: Vec<_> = [(ia, ib), (ib, ia)]
                    .into_iter()
                    .map(|(event, root)| {
                        let store = s.store.clone();
                        scope.spawn(move || {
                            store
                                .merge_event(&MergeWrite {
                                    event,
                                    expected_version: 1,
                                    root,
                                    root_version: 1,
                                    note: note("ana", None, 1),
                                })
                                .unwrap()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let written = outcomes
                .iter()
                .filter(|o| matches!(o, WriteOutcome::Written { .. }))
                .count();
            assert_eq!(written, 1, "{}: {outcomes:?}", s.name);
            let dups = [status(s, ia), status(s, ib)]
                .iter()
                .filter(|st| matches!(st, VerificationStatus::DuplicateOf(_)))
                .count();
            assert_eq!(dups, 1, "{}: exactly one is the root", s.name);
        }
    });
}
