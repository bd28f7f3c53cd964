//! Verification on the bundled real data plus planted reports, on every backend: the queue's
//! order and filters, who may do what, decisions with grading and version checks,
//! duplicate candidates, merges (into duplicates, refusing cycles) and un-merges, history,
//! and re-imports that keep the analysts' work.

use std::sync::Arc;
use usalama_app::{App, AppError, DemoData, FixedClock, Principal};
use usalama_domain::{
    Decision, DecisionStatus, EventData, EventId, InformationCredibility, LocalityPath, Role,
    Severity, SourceReliability, VerificationStatus,
};
use usalama_store::{EventQuery, HistoryKind, PageRequest, PlacedEvent, QueueQuery};
use usalama_test_support::{on_every_backend, report, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use uuid::Uuid;

const BAMBARI: (f64, f64) = (5.7617, 20.6672);
const BANGUI: (f64, f64) = (4.3731, 18.5623);

fn demo_app(s: &usalama_test_support::TestStore) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    app.prepare_demo(&DemoData {
        boundaries: DEMO_BOUNDARIES.to_vec(),
        ucdp_geojson: DEMO_EVENTS,
    })
    .unwrap();
    app
}

/// Stores reports and places them against the demo boundaries.
fn plant(app: &App, reports: &[EventData]) {
    let placed: Vec<PlacedEvent> = reports
        .iter()
        .map(|d| PlacedEvent {
            event: d.clone().validate(app.taxonomy()).unwrap(),
            path: LocalityPath::default(),
        })
        .collect();
    app.store().upsert_events(&placed, t0()).unwrap();
    app.replace_all_events().unwrap();
}

fn analyst() -> Principal {
    Principal::User {
        id: Uuid::from_u128(1),
        username: "ana".into(),
        role: Role::Analyst,
        org: usalama_domain::DEFAULT_ORG,
    }
}

fn token(role: Role) -> Principal {
    Principal::Token {
        label: "t".into(),
        role,
        org: usalama_domain::DEFAULT_ORG,
    }
}

fn verify(grade: Option<(SourceReliability, u8)>) -> Decision {
    Decision::new(
        DecisionStatus::Verified,
        Some("confirmed by phone"),
        grade.map(|g| g.0),
        grade.map(|g| InformationCredibility::new(g.1).unwrap()),
    )
    .unwrap()
}

fn conflict_code(r: Result<impl std::fmt::Debug, AppError>) -> &'static str {
    match r {
        Err(AppError::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn queue_orders_planted_reports_among_real_data() {
    on_every_backend(|s| {
        let app = demo_app(s);
        let who = analyst();
        // The UCDP events are curated: none waits for verification.
        assert_eq!(
            app.verification_queue(&who, &QueueQuery::default())
                .unwrap()
                .total,
            0
        );
        let mut reports = Vec::new();
        for (n, killed, injured, displaced, civilians, date, at) in [
            (1, 0, 0, 0, false, "2024-05-10", BAMBARI),
            (2, 5, 0, 0, false, "2024-05-01", BAMBARI),
            (3, 0, 2, 0, true, "2024-05-03", BANGUI),
            (4, 0, 0, 2, false, "2024-05-09", BAMBARI),
            (5, 5, 1, 0, false, "2024-04-01", BANGUI),
            (6, 0, 0, 0, true, "2024-05-11", BANGUI),
            (7, 5, 0, 0, false, "2024-05-02", BANGUI),
        ] {
            let mut r = report(n, date, "violence_against_civilians", at, "Planted report");
            r.casualties.killed_best = Some(killed);
            r.casualties.injured = Some(injured);
            r.casualties.displaced = Some(displaced);
            r.civilians_targeted = civilians;
            reports.push(r);
        }
        reports[3].category = "displacement".into();
        plant(&app, &reports);

        let q = app
            .verification_queue(&who, &QueueQuery::default())
            .unwrap();
        let order: Vec<&str> = q
            .items
            .iter()
            .map(|i| i.item.view.event.external_id.as_deref().unwrap())
            .collect();
        // 5 killed + 1 injured; 5 killed, newest first; then 2 injured with civilians
        // targeted above 2 displaced; civilians targeted alone; nothing.
        assert_eq!(
            order,
            ["R-5", "R-7", "R-2", "R-3", "R-4", "R-6", "R-1"],
            "{}",
            s.name
        );
        assert_eq!(q.total, 7);
        assert_eq!(q.items[0].severity.killed, 5);
        assert!(q.items.iter().all(|i| i.item.version == 1));
        assert!(
            q.items[0].item.view.lineage.len() >= 2,
            "planted reports are placed in the real boundaries"
        );

        // Filters: the Ouaka subtree (Bambari) and a category; cursor pages.
        let ouaka = app.resolve_locality("CF43").unwrap();
        let in_ouaka = app
            .verification_queue(
                &who,
                &QueueQuery {
                    locality: Some((ouaka.id, ouaka.level)),
                    ..Default::default()
                },
            )
            .unwrap();
        let ids: Vec<&str> = in_ouaka
            .items
            .iter()
            .map(|i| i.item.view.event.external_id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, ["R-2", "R-4", "R-1"], "{}", s.name);
        let displaced = app
            .verification_queue(
                &who,
                &QueueQuery {
                    category: Some("displacement".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(displaced.total, 1);
        let first = app
            .verification_queue(
                &who,
                &QueueQuery {
                    page: PageRequest {
                        limit: 3,
                        after: None,
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        let rest = app
            .verification_queue(
                &who,
                &QueueQuery {
                    page: PageRequest {
                        limit: 10,
                        after: first.next_cursor.clone(),
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(first.items.len() + rest.items.len(), 7);
        assert_eq!(
            rest.items[0].item.view.event.external_id.as_deref(),
            Some("R-3")
        );
        assert!(Severity::of(&rest.items[0].item.view.event) <= first.items[2].severity);

        // Who may look.
        for (p, code) in [
            (Principal::Anonymous, "unauthenticated"),
            (token(Role::Reporter), "forbidden"),
            (token(Role::Responder), "forbidden"),
        ] {
            let got = app.verification_queue(&p, &QueueQuery::default());
            let ok = matches!(
                (&got, code),
                (Err(AppError::Unauthenticated), "unauthenticated")
                    | (Err(AppError::Forbidden(_)), "forbidden")
            );
            assert!(ok, "{p:?}: {got:?}");
        }
        assert!(app
            .verification_queue(&token(Role::Admin), &QueueQuery::default())
            .is_ok());
    });
}

#[test]
fn decisions_duplicates_merges_and_history() {
    on_every_backend(|s| {
        let app = demo_app(s);
        let who = analyst();
        let text = "Armed men attacked the market in Bambari, three people killed";
        let original = report(
            10,
            "2024-05-10",
            "violence_against_civilians",
            BAMBARI,
            text,
        );
        let near = report(
            11,
            "2024-05-11",
            "violence_against_civilians",
            (5.7700, 20.6600),
            "Three people killed when armed men attacked the Bambari market",
        );
        let far = report(
            12,
            "2024-05-10",
            "violence_against_civilians",
            (4.7500, 22.8200),
            text,
        );
        let other = report(13, "2024-05-10", "abduction", BAMBARI, text);
        plant(
            &app,
            &[original.clone(), near.clone(), far.clone(), other.clone()],
        );
        let (a, b, c) = (original.id, near.id, far.id);

        // Candidates: the near copy, not the far one nor the other category.
        let d = app.duplicates(&who, a).unwrap();
        let found: Vec<EventId> = d.candidates.iter().map(|c| c.item.view.event.id).collect();
        assert_eq!(found, vec![b], "{}", s.name);
        let m = d.candidates[0].matched;
        assert!(m.distance_km.unwrap() < 2.0 && m.days_apart == 1, "{m:?}");
        assert!(m.text_similarity.unwrap() > 0.5 && m.score > 0.6, "{m:?}");
        assert!(d.merged.is_empty() && d.duplicate_of.is_none());
        assert!(matches!(
            app.duplicates(&token(Role::Reporter), a),
            Err(AppError::Forbidden(_))
        ));

        // Decisions: grading, reasons, versions.
        let v = app.get_event_versioned(&who, a).unwrap().version;
        let decided = app
            .decide(&who, a, &verify(Some((SourceReliability::B, 2))), v)
            .unwrap();
        assert_eq!(decided.version, v + 1);
        assert_eq!(decided.view.event.status, VerificationStatus::Verified);
        assert_eq!(decided.view.event.reliability, Some(SourceReliability::B));
        assert_eq!(
            conflict_code(app.decide(&who, a, &verify(None), v)),
            "version_conflict",
            "a second analyst with the old version is refused"
        );
        assert!(matches!(
            app.decide(&Principal::Anonymous, a, &verify(None), v + 1),
            Err(AppError::Unauthenticated)
        ));
        assert!(matches!(
            app.decide(&token(Role::Reporter), a, &verify(None), v + 1),
            Err(AppError::Forbidden(_))
        ));
        let reject = Decision::new(DecisionStatus::Rejected, Some("a hoax"), None, None).unwrap();
        let cv = app.get_event_versioned(&who, c).unwrap().version;
        app.decide(&token(Role::Admin), c, &reject, cv).unwrap();

        // Merge the near copy into the original; both records and sources remain.
        let vb = app.get_event_versioned(&who, b).unwrap().version;
        let merged = app.merge(&who, b, a, Some("same attack"), vb).unwrap();
        assert_eq!(merged.view.event.status, VerificationStatus::DuplicateOf(a));
        assert_eq!(merged.view.event.source, "web");
        let d = app.duplicates(&who, a).unwrap();
        assert_eq!(
            d.merged.iter().map(|m| m.event.id).collect::<Vec<_>>(),
            vec![b]
        );
        assert!(
            d.candidates.is_empty(),
            "a merged record is not proposed again"
        );
        assert_eq!(
            app.merged_duplicates(&token(Role::Responder), a)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(app.duplicates(&who, b).unwrap().duplicate_of, Some(a));
        // Deciding on a duplicate is refused; so is merging the root into its duplicate.
        let vb = app.get_event_versioned(&who, b).unwrap().version;
        assert_eq!(
            conflict_code(app.decide(&who, b, &verify(None), vb)),
            "duplicate_record"
        );
        let va = app.get_event_versioned(&who, a).unwrap().version;
        assert_eq!(
            conflict_code(app.merge(&who, a, b, None, va)),
            "merge_cycle",
            "{}",
            s.name
        );
        assert!(matches!(
            app.merge(&who, a, a, None, va),
            Err(AppError::Invalid { ref field, .. }) if field == "into"
        ));
        assert!(matches!(
            app.merge(&who, a, EventId::derived("nothing"), None, va),
            Err(AppError::Invalid { ref field, .. }) if field == "into"
        ));
        assert_eq!(
            conflict_code(app.merge(&who, b, c, None, vb)),
            "already_duplicate"
        );
        // Merging into a duplicate resolves to its root.
        let vo = app.get_event_versioned(&who, other.id).unwrap().version;
        let into_dup = app.merge(&who, other.id, b, None, vo).unwrap();
        assert_eq!(
            into_dup.view.event.status,
            VerificationStatus::DuplicateOf(a)
        );

        // Un-merge restores the status the record had: unverified, back in the queue.
        let un = app
            .unmerge(&who, other.id, Some("another incident"), into_dup.version)
            .unwrap();
        assert_eq!(un.view.event.status, VerificationStatus::Unverified);
        assert_eq!(
            conflict_code(app.unmerge(&who, other.id, None, un.version)),
            "not_duplicate"
        );
        let queue = app
            .verification_queue(&who, &QueueQuery::default())
            .unwrap();
        assert!(queue.items.iter().any(|i| i.item.view.event.id == other.id));

        // A re-import of the original with new content keeps the decision and the grading.
        let mut updated = original.clone();
        updated.casualties.killed_best = Some(4);
        let placed = PlacedEvent {
            event: updated.validate(app.taxonomy()).unwrap(),
            path: LocalityPath::default(),
        };
        let c2 = app
            .store()
            .upsert_events(&[placed], t0() + chrono::Duration::days(1))
            .unwrap();
        assert_eq!(c2.updated, 1);
        let now = app.get_event_versioned(&who, a).unwrap();
        assert_eq!(now.view.event.status, VerificationStatus::Verified);
        assert_eq!(now.view.event.credibility.map(|c| c.grade()), Some(2));
        assert_eq!(now.view.event.casualties.killed_best, Some(4));

        // History: who, when, what and why.
        let h = app.history(&token(Role::Responder), a).unwrap();
        let kinds: Vec<HistoryKind> = h.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                HistoryKind::Decision,
                HistoryKind::DuplicateAdded,
                HistoryKind::DuplicateAdded,
                HistoryKind::DuplicateRemoved,
                HistoryKind::ContentUpdate
            ],
            "{}",
            s.name
        );
        assert_eq!(h[0].by.as_deref(), Some("ana"));
        assert_eq!(h[0].at, t0());
        assert_eq!(h[0].reason.as_deref(), Some("confirmed by phone"));
        assert_eq!(h[1].related, Some(b));
        assert_eq!(h[1].reason.as_deref(), Some("same attack"));
        assert_eq!(h[3].reason.as_deref(), Some("another incident"));
        assert!(h[4].changes.iter().any(|c| c.field == "killed_best"));
        let hb = app.history(&who, b).unwrap();
        assert_eq!(hb[0].kind, HistoryKind::MergedInto);
        assert!(matches!(
            app.history(&token(Role::Reporter), a),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            app.history(&who, EventId::derived("none")),
            Err(AppError::NotFound(_))
        ));
        // The rejected record keeps its reason.
        assert_eq!(
            app.history(&who, c).unwrap()[0].reason.as_deref(),
            Some("a hoax")
        );
    });
}

#[test]
fn a_report_is_proposed_as_duplicate_of_a_real_ucdp_event() {
    on_every_backend(|s| {
        let app = demo_app(s);
        let who = analyst();
        let ucdp = app
            .list_events(
                &who,
                &EventQuery {
                    source: Some("ucdp-ged".into()),
                    category: Some("violence_against_civilians".into()),
                    page: PageRequest {
                        limit: 1,
                        after: None,
                    },
                    ..Default::default()
                },
            )
            .unwrap()
            .items
            .remove(0)
            .event;
        let p = ucdp.point.unwrap();
        let mut r = report(
            20,
            &ucdp.occurred_end.to_string(),
            &ucdp.category,
            (p.lat() + 0.01, p.lon()),
            ucdp.description.as_deref().unwrap_or("attack"),
        );
        r.place_name = ucdp.place_name.clone();
        plant(&app, &[r.clone()]);
        let d = app.duplicates(&who, r.id).unwrap();
        assert!(
            d.candidates.iter().any(|c| c.item.view.event.id == ucdp.id),
            "{}: {:?}",
            s.name,
            d.candidates
                .iter()
                .map(|c| (c.item.view.event.source.clone(), c.matched))
                .collect::<Vec<_>>()
        );
        let v = app.get_event_versioned(&who, r.id).unwrap().version;
        app.merge(&who, r.id, ucdp.id, Some("UCDP has it"), v)
            .unwrap();
        let dups = app.merged_duplicates(&who, ucdp.id).unwrap();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].event.source, "web");
        assert_eq!(dups[0].event.external_id.as_deref(), Some("R-20"));
        let real = app.get_event(&who, ucdp.id).unwrap();
        assert_eq!(real.event.source, "ucdp-ged");
        assert_eq!(real.event.status, VerificationStatus::Verified);
    });
}
