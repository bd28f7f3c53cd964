//! The storage conformance suite: every test runs unchanged against SQLite and, when
//! `USALAMA_TEST_POSTGRES_URL` is set, against PostgreSQL.

use chrono::Duration;
use usalama_domain::{
    Actor, ActorId, ActorKind, ActorRole, AdminLevel, Channel, Dimension, EventActor, EventId,
    LocalityPath, Role, VerificationStatus,
};
use usalama_store::{
    ActorQuery, Alertable, EventQuery, GroupBy, LocalityQuery, PageRequest, PlacedEvent,
    SessionRecord, StoreError, TokenRecord, UserRecord,
};
use usalama_test_support::{day, event, on_every_backend, square, t0, taxonomy, TestStore};

/// Two provinces, each with one district; returns (provinces, districts).
fn seed_localities(
    s: &TestStore,
) -> ([usalama_domain::Locality; 2], [usalama_domain::Locality; 2]) {
    let p1 = square(
        "P1",
        "North",
        AdminLevel::Adm1,
        None,
        (0.0, 5.0, 10.0, 10.0),
    );
    let p2 = square("P2", "South", AdminLevel::Adm1, None, (0.0, 0.0, 10.0, 5.0));
    let d1 = square(
        "P1D1",
        "North One",
        AdminLevel::Adm2,
        Some(p1.id),
        (0.0, 5.0, 5.0, 10.0),
    );
    let d2 = square(
        "P2D1",
        "South One",
        AdminLevel::Adm2,
        Some(p2.id),
        (0.0, 0.0, 5.0, 5.0),
    );
    // Children first: the store must still insert parents before children.
    let c = s
        .store
        .upsert_localities(&[d1.clone(), d2.clone(), p1.clone(), p2.clone()])
        .unwrap();
    assert_eq!(c.inserted, 4, "{}", s.name);
    ([p1, p2], [d1, d2])
}

fn placed(n: u32, date: &str, cat: &str, dim: Dimension, path: LocalityPath) -> PlacedEvent {
    let mut d = event(n, date, cat, dim);
    d.locality = path.deepest();
    PlacedEvent {
        event: d.validate(&taxonomy()).unwrap(),
        path,
    }
}

#[test]
fn migrations_are_applied_once() {
    on_every_backend(|s| {
        assert_eq!(s.store.schema_version().unwrap(), 15, "{}", s.name);
    });
}

#[test]
fn localities_round_trip_with_geometry_and_lineage() {
    on_every_backend(|s| {
        let ([p1, _], [d1, _]) = seed_localities(s);
        let again = s
            .store
            .upsert_localities(&[p1.clone(), d1.clone()])
            .unwrap();
        assert_eq!((again.inserted, again.unchanged), (0, 2), "{}", s.name);
        let got = s.store.get_locality(d1.id).unwrap().unwrap();
        assert_eq!(got, d1, "{}", s.name);
        assert_eq!(s.store.all_localities().unwrap().len(), 4);
        let lineage: Vec<String> = s
            .store
            .locality_lineage(d1.id)
            .unwrap()
            .into_iter()
            .map(|l| l.code.to_string())
            .collect();
        assert_eq!(lineage, vec!["P1D1", "P1"], "{}", s.name);
        let adm1 = s
            .store
            .list_localities(&LocalityQuery {
                level: Some(AdminLevel::Adm1),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(adm1.total, 2);
        let found = s
            .store
            .list_localities(&LocalityQuery {
                text: Some("south o".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.items.len(), 1, "{}", s.name);
        assert_eq!(found.items[0].code.as_str(), "P2D1");
        assert_eq!(
            s.store.locality_by_code("P2").unwrap().unwrap().name,
            "South"
        );
        assert!(s.store.locality_by_code("nope").unwrap().is_none());
        // Renaming updates.
        let mut renamed = p1.clone();
        renamed.name = "North Province".into();
        assert_eq!(s.store.upsert_localities(&[renamed]).unwrap().updated, 1);
    });
}

#[test]
fn locality_pages_cover_everything_once() {
    on_every_backend(|s| {
        seed_localities(s);
        let mut seen = Vec::new();
        let mut page = PageRequest {
            limit: 3,
            after: None,
        };
        loop {
            let p = s
                .store
                .list_localities(&LocalityQuery {
                    page: page.clone(),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(p.total, 4);
            seen.extend(p.items.iter().map(|l| l.code.to_string()));
            match p.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, vec!["P1", "P1D1", "P2", "P2D1"], "{}", s.name);
    });
}

#[test]
fn events_upsert_is_idempotent_and_keeps_history_and_verification() {
    on_every_backend(|s| {
        let ([p1, _], [d1, _]) = seed_localities(s);
        let path = LocalityPath([None, Some(p1.id), Some(d1.id), None]);
        let actor = Actor::new(
            ActorId::derived("ucdp:1"),
            "Government of X",
            ActorKind::StateSecurityForce,
            Default::default(),
        )
        .unwrap();
        s.store.upsert_actors(std::slice::from_ref(&actor)).unwrap();
        let mut e = placed(1, "2022-03-04", "armed_violence", Dimension::Lives, path);
        let mut data = e.event.clone().into_data();
        data.actors = vec![EventActor {
            actor: actor.id,
            role: ActorRole::SideA,
        }];
        data.people = vec![usalama_domain::Person {
            name: Some("Planted Name".into()),
            age: Some(30),
            sex: None,
            role: Some("witness".into()),
        }];
        data.status = VerificationStatus::Unverified;
        e.event = data.validate(&taxonomy()).unwrap();
        let c = s.store.upsert_events(&[e.clone()], t0()).unwrap();
        assert_eq!(c.inserted, 1, "{}", s.name);
        let c = s.store.upsert_events(&[e.clone()], t0()).unwrap();
        assert_eq!(
            (c.inserted, c.updated, c.unchanged),
            (0, 0, 1),
            "{}",
            s.name
        );

        let stored = s.store.get_event(e.event.id).unwrap().unwrap();
        assert_eq!(stored, e, "{}: stored event differs", s.name);

        // An analyst's verification survives a re-import of a changed row.
        let mut verified = stored.event.clone().into_data();
        verified.status = VerificationStatus::Verified;
        // (Verification is owned by analysts: simulate it with a direct upsert of the same
        // content, which counts as unchanged and so keeps the stored status.)
        let unchanged = s
            .store
            .upsert_events(
                &[PlacedEvent {
                    event: verified.validate(&taxonomy()).unwrap(),
                    path,
                }],
                t0(),
            )
            .unwrap();
        assert_eq!(unchanged.unchanged, 1);

        let mut changed = e.event.clone().into_data();
        changed.casualties.killed_best = Some(40);
        changed.casualties.killed_high = Some(50);
        let later = t0() + Duration::days(1);
        let c = s
            .store
            .upsert_events(
                &[PlacedEvent {
                    event: changed.validate(&taxonomy()).unwrap(),
                    path,
                }],
                later,
            )
            .unwrap();
        assert_eq!(c.updated, 1, "{}", s.name);
        let got = s.store.get_event(e.event.id).unwrap().unwrap();
        assert_eq!(got.event.casualties.killed_best, Some(40));
        assert_eq!(got.event.meta.created_at, t0());
        assert_eq!(got.event.meta.updated_at, later);
        assert_eq!(got.event.status, VerificationStatus::Unverified);
        assert_eq!(got.event.actors.len(), 1);
    });
}

/// One batch holding a new event with its actor, a stored one unchanged, stored ones
/// changed (with and without an external id), an event named twice and a source key named
/// twice under two ids: each is written as if the batch's events came one by one.
#[test]
fn one_batch_of_new_unchanged_changed_and_repeated_events_is_written_in_order() {
    on_every_backend(|s| {
        let ([p1, _], [d1, _]) = seed_localities(s);
        let path = LocalityPath([None, Some(p1.id), Some(d1.id), None]);
        let actor = Actor::new(
            ActorId::derived("ucdp:7"),
            "Militia Y",
            ActorKind::Militia,
            Default::default(),
        )
        .unwrap();
        s.store.upsert_actors(std::slice::from_ref(&actor)).unwrap();
        let make = |n: u32, killed: u32, ext: bool, id: Option<&str>| {
            let mut d = event(n, "2022-05-06", "armed_violence", Dimension::Lives);
            d.casualties.killed_best = Some(killed);
            if !ext {
                d.external_id = None;
            }
            if let Some(id) = id {
                d.id = EventId::derived(id);
            }
            d.locality = path.deepest();
            PlacedEvent {
                event: d.validate(&taxonomy()).unwrap(),
                path,
            }
        };
        let (kept, no_ext, changed) = (
            make(1, 1, true, None),
            make(2, 1, false, None),
            make(3, 1, true, None),
        );
        let c = s
            .store
            .upsert_events(&[kept.clone(), no_ext.clone(), changed.clone()], t0())
            .unwrap();
        assert_eq!(c.inserted, 3, "{}", s.name);

        let mut new = make(4, 2, true, None);
        let mut data = new.event.clone().into_data();
        data.actors = vec![EventActor {
            actor: actor.id,
            role: ActorRole::SideA,
        }];
        new.event = data.validate(&taxonomy()).unwrap();
        let batch = [
            kept.clone(),
            make(2, 9, false, None),
            make(3, 9, true, None),
            new.clone(),
            make(5, 1, true, None),
            make(5, 7, true, None),
            make(6, 1, true, Some("first")),
            make(6, 8, true, Some("second")),
        ];
        let later = t0() + Duration::days(1);
        let c = s.store.upsert_events(&batch, later).unwrap();
        assert_eq!(
            (c.inserted, c.updated, c.unchanged),
            (3, 4, 1),
            "{}: new 4, 5, 6; changed 2, 3, 5, 6; unchanged 1",
            s.name
        );
        let killed = |id: EventId| {
            s.store
                .get_event(id)
                .unwrap()
                .unwrap()
                .event
                .casualties
                .killed_best
        };
        assert_eq!(killed(kept.event.id), Some(1), "{}", s.name);
        assert_eq!(killed(no_ext.event.id), Some(9), "{}", s.name);
        assert_eq!(killed(changed.event.id), Some(9), "{}", s.name);
        assert_eq!(killed(batch[4].event.id), Some(7), "{}", s.name);
        // A batch is written in the order of its ids: the smaller id is inserted, the
        // other's content updates it.
        let (first, second) = (&batch[6].event, &batch[7].event);
        let (kept_id, gone_id, content) = if first.id.as_uuid() < second.id.as_uuid() {
            (first.id, second.id, Some(8))
        } else {
            (second.id, first.id, Some(1))
        };
        assert_eq!(killed(kept_id), content, "{}", s.name);
        assert!(
            s.store.get_event(gone_id).unwrap().is_none(),
            "{}: a source key named twice is one event",
            s.name
        );
        let got = s.store.get_event(new.event.id).unwrap().unwrap();
        assert_eq!(got, new, "{}: the new event and its actor", s.name);
        assert_eq!(
            s.store.event_history(changed.event.id).unwrap().len(),
            1,
            "{}",
            s.name
        );

        let again = s.store.upsert_events(&batch[..4], later).unwrap();
        assert_eq!(
            (again.inserted, again.updated, again.unchanged),
            (0, 0, 4),
            "{}",
            s.name
        );
    });
}

#[test]
fn event_filters_and_cursor_pages() {
    on_every_backend(|s| {
        let ([p1, p2], [d1, d2]) = seed_localities(s);
        let actor = Actor::new(
            ActorId::derived("a"),
            "Militia Z",
            ActorKind::Militia,
            Default::default(),
        )
        .unwrap();
        s.store.upsert_actors(std::slice::from_ref(&actor)).unwrap();
        let mut events = Vec::new();
        for n in 0..30u32 {
            let (cat, dim) = match n % 3 {
                0 => ("armed_violence", Dimension::Lives),
                1 => ("food_insecurity", Dimension::Livelihood),
                _ => ("arbitrary_arrest", Dimension::Dignity),
            };
            let path = if n % 2 == 0 {
                LocalityPath([None, Some(p1.id), Some(d1.id), None])
            } else {
                LocalityPath([None, Some(p2.id), Some(d2.id), None])
            };
            let date = format!("2021-{:02}-{:02}", 1 + n % 12, 1 + n % 28);
            let mut e = placed(n, &date, cat, dim, path);
            if n % 5 == 0 {
                let mut d = e.event.into_data();
                d.actors = vec![EventActor {
                    actor: actor.id,
                    role: ActorRole::Perpetrator,
                }];
                d.description = Some(format!("Attack near the MARKET, case {n}"));
                e.event = d.validate(&taxonomy()).unwrap();
            }
            events.push(e);
        }
        s.store.upsert_events(&events, t0()).unwrap();
        let count = |q: EventQuery| s.store.list_events(&q).unwrap().total;
        assert_eq!(count(EventQuery::default()), 30, "{}", s.name);
        assert_eq!(
            count(EventQuery {
                locality: Some((p1.id, AdminLevel::Adm1)),
                ..Default::default()
            }),
            15
        );
        assert_eq!(
            count(EventQuery {
                locality: Some((d2.id, AdminLevel::Adm2)),
                ..Default::default()
            }),
            15
        );
        assert_eq!(
            count(EventQuery {
                dimension: Some(Dimension::Dignity),
                ..Default::default()
            }),
            10
        );
        assert_eq!(
            count(EventQuery {
                category: Some("food_insecurity".into()),
                ..Default::default()
            }),
            10
        );
        assert_eq!(
            count(EventQuery {
                actor: Some(actor.id),
                ..Default::default()
            }),
            6
        );
        assert_eq!(
            count(EventQuery {
                text: Some("market".into()),
                ..Default::default()
            }),
            6,
            "{}: text search is case-insensitive",
            s.name
        );
        assert_eq!(
            count(EventQuery {
                text: Some("100%".into()),
                ..Default::default()
            }),
            0
        );
        assert_eq!(
            count(EventQuery {
                status: Some("verified".into()),
                ..Default::default()
            }),
            30
        );
        assert_eq!(
            count(EventQuery {
                from: Some(day("2021-06-01")),
                to: Some(day("2021-06-30")),
                ..Default::default()
            }),
            3
        );

        // Pages are newest first, cover everything exactly once.
        let mut seen: Vec<EventId> = Vec::new();
        let mut page = PageRequest {
            limit: 7,
            after: None,
        };
        let mut last_date = day("2100-01-01");
        loop {
            let p = s
                .store
                .list_events(&EventQuery {
                    page: page.clone(),
                    ..Default::default()
                })
                .unwrap();
            for e in &p.items {
                assert!(e.event.occurred_end <= last_date, "{}: not sorted", s.name);
                last_date = e.event.occurred_end;
            }
            seen.extend(p.items.iter().map(|e| e.event.id));
            match p.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        let mut dedup = seen.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!((seen.len(), dedup.len()), (30, 30), "{}", s.name);

        let by_level = s
            .store
            .count_events(&EventQuery::default(), GroupBy::Locality(AdminLevel::Adm1))
            .unwrap();
        assert_eq!(by_level.len(), 2);
        assert_eq!(by_level.iter().map(|g| g.events).sum::<u64>(), 30);
        assert!(
            by_level.iter().any(|g| g.key == p1.id.to_string()),
            "{}: keys are locality ids",
            s.name
        );
        let by_dim = s
            .store
            .count_events(&EventQuery::default(), GroupBy::DimensionYear)
            .unwrap();
        assert_eq!(by_dim.len(), 3);
        assert!(by_dim.iter().all(|g| g.year == Some(2021)));
        let fatalities: u64 = by_dim.iter().map(|g| g.fatalities).sum();
        assert_eq!(fatalities, (0..30u64).map(|n| n % 5).sum::<u64>());

        // Re-placement moves an event between provinces.
        let moved = s
            .store
            .set_placements(&[(
                events[0].event.id,
                LocalityPath([None, Some(p2.id), None, None]),
            )])
            .unwrap();
        assert_eq!(moved, 1);
        assert_eq!(
            count(EventQuery {
                locality: Some((p2.id, AdminLevel::Adm1)),
                ..Default::default()
            }),
            16
        );
        let again = s
            .store
            .set_placements(&[(
                events[0].event.id,
                LocalityPath([None, Some(p2.id), None, None]),
            )])
            .unwrap();
        assert_eq!(again, 0, "{}: unchanged placement is not a write", s.name);
    });
}

#[test]
fn bad_cursor_is_an_error() {
    on_every_backend(|s| {
        let q = EventQuery {
            page: PageRequest {
                limit: 5,
                after: Some(usalama_store::Cursor {
                    key: "not-a-date".into(),
                    id: uuid::Uuid::nil(),
                }),
            },
            ..Default::default()
        };
        assert!(
            matches!(s.store.list_events(&q), Err(StoreError::InvalidCursor)),
            "{}",
            s.name
        );
    });
}

#[test]
fn actors_list_and_filter() {
    on_every_backend(|s| {
        let a = Actor::new(
            ActorId::derived("1"),
            "LRA",
            ActorKind::NonStateArmedGroup,
            Default::default(),
        )
        .unwrap()
        .with_aliases(["Lord's Resistance Army".to_string()]);
        let b = Actor::new(
            ActorId::derived("2"),
            "Government of CAR",
            ActorKind::StateSecurityForce,
            Default::default(),
        )
        .unwrap();
        assert_eq!(
            s.store
                .upsert_actors(&[a.clone(), b.clone()])
                .unwrap()
                .inserted,
            2
        );
        assert_eq!(
            s.store
                .upsert_actors(std::slice::from_ref(&a))
                .unwrap()
                .unchanged,
            1
        );
        assert_eq!(s.store.get_actor(a.id).unwrap().unwrap(), a);
        let found = s
            .store
            .list_actors(&ActorQuery {
                text: Some("resistance".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            found.items,
            vec![a.clone()],
            "{}: aliases are searched",
            s.name
        );
        let state = s
            .store
            .list_actors(&ActorQuery {
                kind: Some("state_security_force".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(state.total, 1);
    });
}

#[test]
fn users_tokens_and_sessions() {
    on_every_backend(|s| {
        let u = UserRecord {
            id: uuid::Uuid::from_u128(7),
            username: "admin".into(),
            password_hash: "$argon2id$fake".into(),
            role: Role::Admin,
            created_at: t0(),
            disabled_at: None,
            org: usalama_domain::DEFAULT_ORG,
            failed_logins: 0,
            locked_until: None,
            totp_secret: None,
            totp_sealed: None,
        };
        s.store.upsert_user(&u).unwrap();
        assert_eq!(
            s.store.find_user("admin").unwrap().unwrap(),
            u,
            "{}",
            s.name
        );
        let mut changed = u.clone();
        changed.password_hash = "$argon2id$other".into();
        s.store.upsert_user(&changed).unwrap();
        assert_eq!(
            s.store.find_user("admin").unwrap().unwrap().password_hash,
            "$argon2id$other"
        );

        let t = TokenRecord {
            id: uuid::Uuid::from_u128(9),
            token_hash: vec![1; 32],
            role: Role::Analyst,
            label: "ci".into(),
            created_at: t0(),
            revoked_at: None,
            org: usalama_domain::DEFAULT_ORG,
            expires_at: Some(t0() + Duration::days(30)),
        };
        s.store.insert_token(&t).unwrap();
        assert_eq!(s.store.find_token(&[1; 32]).unwrap().unwrap(), t);
        assert!(s.store.find_token(&[2; 32]).unwrap().is_none());
        assert_eq!(s.store.revoke_tokens("ci", t0()).unwrap(), 1);
        assert!(s
            .store
            .find_token(&[1; 32])
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());

        let sess = SessionRecord {
            token_hash: vec![3; 32],
            user_id: u.id,
            created_at: t0(),
            expires_at: t0() + Duration::hours(8),
        };
        s.store.insert_session(&sess).unwrap();
        let (got, user) = s.store.find_session(&[3; 32]).unwrap().unwrap();
        assert_eq!((got, user.username.as_str()), (sess, "admin"));
        s.store.delete_session(&[3; 32]).unwrap();
        assert!(s.store.find_session(&[3; 32]).unwrap().is_none());
        // A token hash is unique.
        assert!(
            matches!(
                s.store.insert_token(&TokenRecord {
                    id: uuid::Uuid::from_u128(10),
                    ..t
                }),
                Err(StoreError::Conflict(_))
            ),
            "{}",
            s.name
        );
    });
}

#[test]
fn scan_events_streams_filtered_events_oldest_first_in_batches() {
    on_every_backend(|s| {
        let (provinces, _) = seed_localities(s);
        let p1 = provinces[0].id;
        let actor = Actor::new(
            ActorId::derived("scan-actor"),
            "Scan Group",
            ActorKind::Militia,
            Default::default(),
        )
        .unwrap();
        s.store.upsert_actors(std::slice::from_ref(&actor)).unwrap();
        let mut events = Vec::new();
        for n in 0..25u32 {
            let date = format!("2021-{:02}-{:02}", 1 + n % 12, 1 + n % 28);
            let path = LocalityPath([None, (n % 2 == 0).then_some(p1), None, None]);
            let mut e = placed(n, &date, "armed_violence", Dimension::Lives, path);
            if n == 3 {
                let mut d = e.event.into_data();
                d.actors = vec![EventActor {
                    actor: actor.id,
                    role: ActorRole::SideA,
                }];
                d.source = "other".into();
                e.event = d.validate(&taxonomy()).unwrap();
            }
            events.push(e);
        }
        s.store.upsert_events(&events, t0()).unwrap();

        let mut batches = Vec::new();
        let mut seen = Vec::new();
        let n = s
            .store
            .scan_events(&EventQuery::default(), 7, &mut |b| {
                batches.push(b.len());
                seen.extend(b.iter().map(|p| (p.event.occurred_end, p.event.id)));
                Ok(())
            })
            .unwrap();
        assert_eq!(n, 25, "{}", s.name);
        assert_eq!(batches, vec![7, 7, 7, 4], "{}", s.name);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "{}: oldest first", s.name);
        sorted.dedup();
        assert_eq!(sorted.len(), 25, "{}: each event once", s.name);

        // Filters apply; actors and placement come with each event.
        let mut got = Vec::new();
        s.store
            .scan_events(
                &EventQuery {
                    locality: Some((p1, AdminLevel::Adm1)),
                    ..Default::default()
                },
                100,
                &mut |b| {
                    got.extend(b.iter().cloned());
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(got.len(), 13, "{}", s.name);
        assert!(got.iter().all(|p| p.path.at(AdminLevel::Adm1) == Some(p1)));
        let mut other = Vec::new();
        s.store
            .scan_events(
                &EventQuery {
                    source: Some("other".into()),
                    ..Default::default()
                },
                1,
                &mut |b| {
                    other.extend(b.iter().cloned());
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(other.len(), 1, "{}", s.name);
        assert_eq!(other[0].event.actors.len(), 1, "{}", s.name);

        // An error from the callback stops the scan.
        let mut calls = 0;
        let err = s.store.scan_events(&EventQuery::default(), 5, &mut |_| {
            calls += 1;
            Err(StoreError::Backend("stop".into()))
        });
        assert!(matches!(err, Err(StoreError::Backend(m)) if m == "stop"));
        assert_eq!(calls, 1);

        // Nothing matches: no call.
        let n = s
            .store
            .scan_events(
                &EventQuery {
                    category: Some("none".into()),
                    ..Default::default()
                },
                0,
                &mut |_| panic!("no batch expected"),
            )
            .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn alertable_keeps_only_events_an_event_rule_could_fire_on() {
    on_every_backend(|s| {
        // (n, category, killed, channel, status)
        let rows = [
            (1, "food_insecurity", Some(0), Channel::Import, "verified"),
            (2, "armed_violence", Some(4), Channel::Import, "verified"),
            (3, "armed_violence", Some(2), Channel::Import, "verified"),
            (4, "armed_violence", None, Channel::Import, "verified"),
            (5, "armed_violence", Some(0), Channel::Api, "verified"),
            (6, "armed_violence", Some(0), Channel::Api, "unverified"),
        ];
        let events: Vec<PlacedEvent> = rows
            .iter()
            .map(|(n, cat, killed, channel, status)| {
                let dim = taxonomy().category(cat).unwrap().dimension;
                let mut d = event(*n, "2022-05-01", cat, dim);
                d.casualties.killed_best = *killed;
                d.channel = *channel;
                d.status = VerificationStatus::from_parts(status, None).unwrap();
                PlacedEvent {
                    event: d.validate(&taxonomy()).unwrap(),
                    path: LocalityPath::default(),
                }
            })
            .collect();
        s.store.upsert_events(&events, t0()).unwrap();
        let found = |alertable: Option<Alertable>| -> Vec<u32> {
            let mut got = Vec::new();
            s.store
                .scan_events(
                    &EventQuery {
                        alertable,
                        ..Default::default()
                    },
                    100,
                    &mut |b| {
                        got.extend(b.iter().map(|p| p.event.id));
                        Ok(())
                    },
                )
                .unwrap();
            let mut ns: Vec<u32> = (1..=6)
                .filter(|n| got.contains(&EventId::derived(&format!("test:{n}"))))
                .collect();
            ns.sort();
            ns
        };
        let rules = Alertable {
            categories: vec!["food_insecurity".into()],
            min_killed: Some(3),
            verified_reports: false,
        };
        assert_eq!(found(Some(rules.clone())), vec![1, 2], "{}", s.name);
        let with_reports = Alertable {
            verified_reports: true,
            ..rules
        };
        assert_eq!(found(Some(with_reports)), vec![1, 2, 5], "{}", s.name);
        // A threshold of one counts an unknown number as none, as the rules do.
        let one = Alertable {
            min_killed: Some(1),
            ..Default::default()
        };
        assert_eq!(found(Some(one)), vec![2, 3], "{}", s.name);
        assert!(found(Some(Alertable::default())).is_empty(), "{}", s.name);
        assert_eq!(found(None), vec![1, 2, 3, 4, 5, 6], "{}", s.name);
    });
}

#[test]
fn counts_group_by_source() {
    on_every_backend(|s| {
        let mut events = Vec::new();
        for n in 0..10u32 {
            let mut e = placed(
                n,
                "2022-05-01",
                "armed_violence",
                Dimension::Lives,
                LocalityPath::default(),
            );
            if n >= 6 {
                let mut d = e.event.into_data();
                d.source = "acled".into();
                e.event = d.validate(&taxonomy()).unwrap();
            }
            events.push(e);
        }
        s.store.upsert_events(&events, t0()).unwrap();
        let by_source = s
            .store
            .count_events(&EventQuery::default(), GroupBy::Source)
            .unwrap();
        let got: Vec<(String, u64, u64)> = by_source
            .into_iter()
            .map(|g| (g.key, g.events, g.fatalities))
            .collect();
        assert_eq!(
            got,
            vec![
                ("acled".to_string(), 4, (6..10u64).map(|n| n % 5).sum()),
                ("test".to_string(), 6, (0..6u64).map(|n| n % 5).sum()),
            ],
            "{}",
            s.name
        );
    });
}

#[test]
fn prepared_batches_write_in_file_order_with_actor_links_and_history() {
    on_every_backend(|s| {
        let ([p1, _], [d1, _]) = seed_localities(s);
        let path = LocalityPath([None, Some(p1.id), Some(d1.id), None]);
        let actors: Vec<Actor> = (1..=3)
            .map(|i| {
                Actor::new(
                    ActorId::derived(&format!("ucdp:{i}")),
                    &format!("Group {i}"),
                    ActorKind::NonStateArmedGroup,
                    Default::default(),
                )
                .unwrap()
            })
            .collect();
        s.store.upsert_actors(&actors).unwrap();
        // Many events (the batch is reordered by id), one with three actor links (one pair
        // and one single link), and the first event again later in the batch, changed.
        let mut events: Vec<PlacedEvent> = (1..=40)
            .map(|n| placed(n, "2022-03-04", "armed_violence", Dimension::Lives, path))
            .collect();
        let mut three = events[5].event.clone().into_data();
        three.actors = actors
            .iter()
            .map(|a| EventActor {
                actor: a.id,
                role: ActorRole::SideA,
            })
            .collect();
        events[5].event = three.validate(&taxonomy()).unwrap();
        let mut again = events[0].event.clone().into_data();
        again.casualties.killed_best = Some(7);
        again.casualties.killed_high = Some(7);
        events.push(PlacedEvent {
            event: again.validate(&taxonomy()).unwrap(),
            path,
        });
        let batch = usalama_store::EventBatch::new(&events);
        assert_eq!(batch.len(), 41);
        let c = s.store.upsert_event_batch(&batch, t0()).unwrap();
        assert_eq!(
            (c.inserted, c.updated, c.unchanged),
            (40, 1, 0),
            "{}",
            s.name
        );
        // The later row of the file wins, and the earlier one is in the history.
        let first = s.store.get_event(events[0].event.id).unwrap().unwrap();
        assert_eq!(first.event.casualties.killed_best, Some(7), "{}", s.name);
        let history = s.store.event_history(events[0].event.id).unwrap();
        assert_eq!(history.len(), 1, "{}", s.name);
        let linked = s.store.get_event(events[5].event.id).unwrap().unwrap();
        assert_eq!(linked.event.actors.len(), 3, "{}", s.name);
        // The same batch again changes nothing.
        let c = s.store.upsert_event_batch(&batch, t0()).unwrap();
        assert_eq!(c.inserted, 0, "{}", s.name);
        assert_eq!(c.updated + c.unchanged, 41, "{}", s.name);
    });
}
