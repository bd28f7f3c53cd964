//! Organisations, sharing and record visibility in the store, and the account-hardening
//! writes (failed log-ins, locks, TOTP secrets, disabling), on every backend.

use chrono::Duration;
use usalama_domain::{
    Dimension, LocalityPath, OrgId, Organisation, Role, ShareScope, VerificationStatus, DEFAULT_ORG,
};
use usalama_store::{
    EventQuery, GroupBy, PlacedEvent, QueueQuery, SessionRecord, UserRecord, Visibility,
};
use usalama_test_support::{event, on_every_backend, t0, taxonomy, TestStore};

fn owned(n: u32, owner: Option<OrgId>, status: VerificationStatus) -> PlacedEvent {
    let mut d = event(n, "2022-03-04", "armed_violence", Dimension::Lives);
    d.meta.owner_org = owner;
    d.status = status;
    PlacedEvent {
        event: d.validate(&taxonomy()).unwrap(),
        path: LocalityPath::default(),
    }
}

fn org(s: &TestStore, name: &str) -> OrgId {
    let o = Organisation {
        id: OrgId::derived(name),
        name: name.into(),
    };
    s.store.insert_org(&o, t0()).unwrap();
    o.id
}

fn ids(s: &TestStore, v: &Visibility) -> Vec<u32> {
    let q = EventQuery {
        visibility: v.clone(),
        ..Default::default()
    };
    let page = s.store.list_events(&q).unwrap();
    let mut found: Vec<u32> = page
        .items
        .iter()
        .map(|p| p.event.external_id.as_deref().unwrap().parse().unwrap())
        .collect();
    found.sort();
    // Counts, scans and the list agree.
    let counted: u64 = s
        .store
        .count_events(&q, GroupBy::Source)
        .unwrap()
        .iter()
        .map(|g| g.events)
        .sum();
    assert_eq!(counted, found.len() as u64, "{}", s.name);
    assert_eq!(page.total, found.len() as u64, "{}", s.name);
    let scanned = s.store.scan_events(&q, 10, &mut |_| Ok(())).unwrap();
    assert_eq!(scanned, found.len() as u64, "{}", s.name);
    found
}

#[test]
fn organisations_see_their_own_public_data_and_what_is_shared() {
    on_every_backend(|s| {
        let a = org(s, "org-a");
        let b = org(s, "org-b");
        let names: Vec<String> = s
            .store
            .list_orgs()
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["default", "org-a", "org-b"], "{}", s.name);
        assert_eq!(s.store.find_org("org-a").unwrap().unwrap().id, a);
        assert!(s.store.find_org("nope").unwrap().is_none());
        assert!(
            matches!(
                s.store.insert_org(
                    &Organisation {
                        id: OrgId::derived("x"),
                        name: "org-a".into()
                    },
                    t0()
                ),
                Err(usalama_store::StoreError::Conflict(_))
            ),
            "{}",
            s.name
        );
        s.store
            .upsert_events(
                &[
                    owned(1, None, VerificationStatus::Verified),
                    owned(2, Some(a), VerificationStatus::Unverified),
                    owned(3, Some(b), VerificationStatus::Unverified),
                    owned(4, Some(b), VerificationStatus::Verified),
                ],
                t0(),
            )
            .unwrap();
        let stored = s
            .store
            .get_event(owned(3, None, VerificationStatus::Verified).event.id);
        assert_eq!(stored.unwrap().unwrap().event.meta.owner_org, Some(b));

        let as_a = |shared| Visibility::Org { org: a, shared };
        assert_eq!(ids(s, &Visibility::All), [1, 2, 3, 4], "{}", s.name);
        assert_eq!(ids(s, &as_a(vec![])), [1, 2], "{}", s.name);
        // B shares its verified records, then all of them.
        s.store
            .set_share(b, a, Some(ShareScope::Verified), t0())
            .unwrap();
        let shared = s.store.shares_to(a).unwrap();
        assert_eq!(shared.len(), 1);
        assert_eq!((shared[0].from, shared[0].scope), (b, ShareScope::Verified));
        assert_eq!(
            ids(s, &as_a(vec![(b, ShareScope::Verified)])),
            [1, 2, 4],
            "{}",
            s.name
        );
        s.store
            .set_share(b, a, Some(ShareScope::All), t0())
            .unwrap();
        assert_eq!(s.store.shares_to(a).unwrap()[0].scope, ShareScope::All);
        assert_eq!(ids(s, &as_a(vec![(b, ShareScope::All)])), [1, 2, 3, 4]);
        // Sharing is one-way.
        assert!(s.store.shares_to(b).unwrap().is_empty());
        assert_eq!(
            ids(
                s,
                &Visibility::Org {
                    org: b,
                    shared: vec![]
                }
            ),
            [1, 3, 4],
            "{}",
            s.name
        );
        s.store.set_share(b, a, None, t0()).unwrap();
        assert!(s.store.shares_to(a).unwrap().is_empty());

        // The verification queue (unverified only) follows the same rule.
        let queue = |v: Visibility| {
            s.store
                .verification_queue(&QueueQuery {
                    visibility: v,
                    ..Default::default()
                })
                .unwrap()
                .items
                .iter()
                .map(|e| e.stored.event.external_id.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(queue(as_a(vec![])), ["2"], "{}", s.name);
        assert_eq!(
            queue(Visibility::Org {
                org: b,
                shared: vec![]
            }),
            ["3"]
        );
        assert_eq!(queue(Visibility::All).len(), 2);
        // The rule in memory matches the SQL.
        let v = as_a(vec![(b, ShareScope::Verified)]);
        assert!(v.admits(None, false) && v.admits(Some(a), false));
        assert!(v.admits(Some(b), true) && !v.admits(Some(b), false));
        assert!(!v.admits(Some(DEFAULT_ORG), true));
    });
}

#[test]
fn list_totals_under_a_visibility_match_the_listed_events_for_every_filter() {
    on_every_backend(|s| {
        let (a, b, c) = (org(s, "org-a"), org(s, "org-b"), org(s, "org-c"));
        let owners = [None, Some(a), Some(b), Some(c)];
        let mut events = Vec::new();
        for n in 0..48u32 {
            let status = if n % 3 == 0 {
                VerificationStatus::Unverified
            } else {
                VerificationStatus::Verified
            };
            let (category, dimension) = if n % 5 < 2 {
                ("arbitrary_arrest", Dimension::Dignity)
            } else {
                ("armed_violence", Dimension::Lives)
            };
            let date = if n % 2 == 1 {
                "2023-11-14"
            } else {
                "2022-03-04"
            };
            let mut d = event(n, date, category, dimension);
            d.meta.owner_org = owners[(n % 4) as usize];
            d.status = status;
            events.push(PlacedEvent {
                event: d.validate(&taxonomy()).unwrap(),
                path: LocalityPath::default(),
            });
        }
        s.store.upsert_events(&events, t0()).unwrap();
        let visibilities = [
            Visibility::Org {
                org: a,
                shared: vec![],
            },
            Visibility::Org {
                org: a,
                shared: vec![(b, ShareScope::Verified)],
            },
            Visibility::Org {
                org: c,
                shared: vec![(a, ShareScope::All), (b, ShareScope::Verified)],
            },
            Visibility::All,
        ];
        let filters = [
            EventQuery::default(),
            EventQuery {
                category: Some("arbitrary_arrest".into()),
                ..Default::default()
            },
            EventQuery {
                from: Some(chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()),
                ..Default::default()
            },
            EventQuery {
                status: Some("unverified".into()),
                category: Some("armed_violence".into()),
                ..Default::default()
            },
        ];
        let check = |events: &[PlacedEvent]| {
            for v in &visibilities {
                for f in &filters {
                    let q = EventQuery {
                        visibility: v.clone(),
                        ..f.clone()
                    };
                    let page = s.store.list_events(&q).unwrap();
                    let expected = events
                        .iter()
                        .filter(|p| {
                            let e = &p.event;
                            v.admits(e.meta.owner_org, e.status == VerificationStatus::Verified)
                                && f.category.as_ref().is_none_or(|c| *c == e.category)
                                && f.from.is_none_or(|d| e.occurred_end >= d)
                                && f.status
                                    .as_ref()
                                    .is_none_or(|_| e.status == VerificationStatus::Unverified)
                        })
                        .count() as u64;
                    assert!(expected > 0, "{v:?} {f:?}");
                    assert_eq!(page.total, expected, "{} {v:?} {f:?}", s.name);
                    assert_eq!(
                        page.items.len() as u64,
                        expected.min(50),
                        "{} {v:?} {f:?}",
                        s.name
                    );
                }
            }
        };
        // Every filter matches few events: counted with the visibility in the filter.
        check(&events);
        // Past `DIRECT_COUNT_MAX` (20,000) events the broad filters are counted as every
        // matching event less those the visibility hides.
        let public: Vec<PlacedEvent> = (1000..21_000u32)
            .map(|n| PlacedEvent {
                event: event(n, "2021-06-01", "armed_violence", Dimension::Lives)
                    .validate(&taxonomy())
                    .unwrap(),
                path: LocalityPath::default(),
            })
            .collect();
        s.store.upsert_events(&public, t0()).unwrap();
        events.extend(public);
        check(&events);
    });
}

#[test]
fn failed_logins_lock_and_reset_and_disabling_ends_sessions() {
    on_every_backend(|s| {
        let a = org(s, "org-a");
        let u = UserRecord {
            id: uuid::Uuid::from_u128(7),
            username: "ana".into(),
            password_hash: "$argon2id$fake".into(),
            role: Role::Analyst,
            created_at: t0(),
            disabled_at: None,
            org: a,
            failed_logins: 0,
            locked_until: None,
            totp_secret: None,
            totp_sealed: None,
        };
        s.store.upsert_user(&u).unwrap();
        let found = s.store.find_user("ana").unwrap().unwrap();
        assert_eq!(found.org, a, "{}", s.name);
        let lock = |n: u32| (n >= 2).then(|| t0() + Duration::seconds(30 * i64::from(n)));
        assert_eq!(s.store.record_login_failure(u.id, &lock).unwrap(), 1);
        assert_eq!(
            s.store.find_user("ana").unwrap().unwrap().locked_until,
            None
        );
        assert_eq!(s.store.record_login_failure(u.id, &lock).unwrap(), 2);
        let locked = s.store.find_user("ana").unwrap().unwrap();
        assert_eq!(locked.failed_logins, 2, "{}", s.name);
        assert_eq!(locked.locked_until, Some(t0() + Duration::seconds(60)));
        s.store.reset_login_failures(u.id).unwrap();
        let reset = s.store.find_user("ana").unwrap().unwrap();
        assert_eq!((reset.failed_logins, reset.locked_until), (0, None));

        s.store.set_user_totp(u.id, Some(&[9; 60])).unwrap();
        let with = s.store.find_user("ana").unwrap().unwrap();
        assert_eq!(with.totp_sealed, Some(vec![9; 60]));
        assert_eq!(with.totp_secret, None, "the clear column stays empty");
        s.store.set_user_totp(u.id, None).unwrap();
        assert_eq!(s.store.find_user("ana").unwrap().unwrap().totp_sealed, None);

        for h in [1u8, 2] {
            s.store
                .insert_session(&SessionRecord {
                    token_hash: vec![h; 32],
                    user_id: u.id,
                    created_at: t0(),
                    expires_at: t0() + Duration::hours(1),
                })
                .unwrap();
        }
        let (_, with_user) = s.store.find_session(&[1; 32]).unwrap().unwrap();
        assert_eq!(with_user.org, a);
        s.store.set_user_disabled(u.id, Some(t0())).unwrap();
        assert!(
            s.store.find_session(&[1; 32]).unwrap().is_none(),
            "{}",
            s.name
        );
        assert!(s.store.find_session(&[2; 32]).unwrap().is_none());
        assert!(s
            .store
            .find_user("ana")
            .unwrap()
            .unwrap()
            .disabled_at
            .is_some());
        s.store.set_user_disabled(u.id, None).unwrap();
        assert!(s
            .store
            .find_user("ana")
            .unwrap()
            .unwrap()
            .disabled_at
            .is_none());
        s.store
            .insert_session(&SessionRecord {
                token_hash: vec![5; 32],
                user_id: u.id,
                created_at: t0(),
                expires_at: t0() + Duration::hours(1),
            })
            .unwrap();
        assert_eq!(s.store.delete_user_sessions(u.id).unwrap(), 1);
    });
}
