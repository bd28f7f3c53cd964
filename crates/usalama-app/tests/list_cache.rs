//! Pages of events are shared between callers asking for the same page with the same
//! visibility, and never outlive a write: on every backend, a verification decision, a
//! new report and a sharing change show at the next list.

use std::sync::Arc;
use usalama_app::{
    App, FixedClock, ItemOutcome, PasswordCost, PlacePolicy, Principal, ReportInput, SubmitMode,
};
use usalama_domain::{Channel, Decision, DecisionStatus, EventId, OrgId, Role, ShareScope};
use usalama_store::EventQuery;
use usalama_test_support::{stores, t0, TestStore};

fn app(s: &TestStore) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
        .with_password_cost(PasswordCost::OWASP_MINIMUM)
        .unwrap()
}

fn token(role: Role, org: OrgId) -> Principal {
    Principal::Token {
        label: format!("{role}"),
        role,
        org,
    }
}

fn submit(app: &App, who: &Principal, n: u32) -> EventId {
    let input = ReportInput {
        category: Some("armed_violence".into()),
        occurred_start: Some("2023-11-10".into()),
        latitude: Some("5.76".into()),
        longitude: Some("20.67".into()),
        external_id: Some(format!("cached-{n}")),
        ..Default::default()
    };
    let out = app
        .submit_reports(
            who,
            Channel::Api,
            vec![input],
            SubmitMode::AllOrNothing,
            PlacePolicy::Lenient,
        )
        .unwrap();
    match &out[0] {
        ItemOutcome::Stored(r) => r.id,
        other => panic!("not stored: {other:?}"),
    }
}

#[test]
fn a_shared_page_never_outlives_a_write() {
    for s in stores() {
        let app = app(&s);
        let op = Principal::Operator;
        let a = app.create_org(&op, "org-a").unwrap().id;
        let b = app.create_org(&op, "org-b").unwrap().id;
        let first = submit(&app, &token(Role::Reporter, b), 1);
        let analyst_a = token(Role::Analyst, a);
        let analyst_b = token(Role::Analyst, b);
        let q = EventQuery {
            source: Some("api".into()),
            ..Default::default()
        };

        // The same page with the same visibility is shared …
        let p1 = app.list_events_shared(&analyst_b, &q).unwrap();
        let p2 = app.list_events_shared(&analyst_b, &q).unwrap();
        assert!(Arc::ptr_eq(&p1, &p2), "{}", s.name);
        assert_eq!((p1.total, p1.items.len()), (1, 1), "{}", s.name);
        assert_eq!(p1.items[0].event.status.as_str(), "unverified");
        // … but not with another organisation's visibility.
        let other = app.list_events_shared(&analyst_a, &q).unwrap();
        assert!(!Arc::ptr_eq(&p1, &other), "{}", s.name);
        assert_eq!((other.total, other.items.len()), (0, 0), "{}", s.name);

        // A decision shows at once.
        let verified = Decision::new(DecisionStatus::Verified, Some("seen"), None, None).unwrap();
        app.decide(&analyst_b, first, &verified, 1).unwrap();
        let p3 = app.list_events_shared(&analyst_b, &q).unwrap();
        assert!(!Arc::ptr_eq(&p1, &p3), "{}", s.name);
        assert_eq!(p3.items[0].event.status.as_str(), "verified", "{}", s.name);

        // A new report shows at once, with its total.
        let second = submit(&app, &token(Role::Reporter, b), 2);
        let p4 = app.list_events_shared(&analyst_b, &q).unwrap();
        assert_eq!(p4.total, 2, "{}", s.name);
        assert!(p4.items.iter().any(|v| v.event.id == second), "{}", s.name);

        // A sharing change shows at once to the organisation it opens to.
        assert_eq!(app.list_events_shared(&analyst_a, &q).unwrap().total, 0);
        app.set_share(&op, b, a, Some(ShareScope::Verified))
            .unwrap();
        let shared = app.list_events_shared(&analyst_a, &q).unwrap();
        assert_eq!(shared.total, 1, "{}", s.name);
        assert_eq!(shared.items[0].event.id, first, "{}", s.name);
        // Callers who may not read records get nothing, shared or not.
        assert!(app
            .list_events_shared(&token(Role::Reporter, b), &q)
            .is_err());
    }
}

#[test]
fn menus_list_the_localities_of_a_level_as_the_store_orders_them() {
    use usalama_domain::AdminLevel;
    use usalama_test_support::square;
    for s in stores() {
        let country = square(
            "XC",
            "Country",
            AdminLevel::Adm0,
            None,
            (0.0, 0.0, 4.0, 4.0),
        );
        let mut areas = vec![country.clone()];
        for (i, code) in ["XC03", "XC01", "XC04", "XC02"].iter().enumerate() {
            let x = i as f64;
            areas.push(square(
                code,
                &format!("Area {code}"),
                AdminLevel::Adm1,
                Some(country.id),
                (x, 0.0, x + 1.0, 1.0),
            ));
        }
        areas.push(square(
            "XC0101",
            "District",
            AdminLevel::Adm2,
            Some(areas[2].id),
            (1.0, 0.0, 1.5, 0.5),
        ));
        s.store.upsert_localities(&areas).unwrap();
        let app = app(&s);
        let who = token(Role::Analyst, usalama_domain::DEFAULT_ORG);
        let stored = app
            .list_localities(
                &who,
                &usalama_store::LocalityQuery {
                    level: Some(AdminLevel::Adm1),
                    ..Default::default()
                },
            )
            .unwrap()
            .items;
        let menu = app.localities_at(&who, AdminLevel::Adm1, 1000).unwrap();
        let codes = |l: &[usalama_store::LocalitySummary]| -> Vec<String> {
            l.iter().map(|l| l.code.to_string()).collect()
        };
        assert_eq!(codes(&menu), ["XC01", "XC02", "XC03", "XC04"], "{}", s.name);
        assert_eq!(codes(&menu), codes(&stored), "{}", s.name);
        assert_eq!(
            codes(&app.localities_at(&who, AdminLevel::Adm1, 2).unwrap()),
            ["XC01", "XC02"]
        );
        assert_eq!(
            codes(&app.localities_at(&who, AdminLevel::Adm2, 10).unwrap()),
            ["XC0101"]
        );
        assert!(app
            .localities_at(&Principal::Anonymous, AdminLevel::Adm1, 10)
            .is_err());
    }
}
