//! Organisations, sharing and account hardening through the use-cases, on every backend:
//! organisation A cannot see organisation B's report by list, get, count, export,
//! verification queue or history, and sees it once B shares; failed log-ins lock an
//! account with the same answer as a wrong password; clients are throttled; TOTP; token
//! expiry; organisation admins manage only their own organisation.

use std::sync::Arc;
use usalama_app::{
    totp, App, AppError, FixedClock, ItemOutcome, LoginAttempt, LoginPolicy, PasswordCost,
    PlacePolicy, Principal, ReportInput, SubmitMode,
};
use usalama_domain::{Channel, EventId, OrgId, Role, ShareScope, DEFAULT_ORG};
use usalama_ingest::ExportFormat;
use usalama_store::{EventQuery, QueueQuery};
use usalama_test_support::{stores, t0, TestStore};

const PASSWORD: &str = "a-long-password-1";

fn app_at(s: &TestStore, at: chrono::DateTime<chrono::Utc>) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(at)))
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
        description: Some(format!("Report {n} of a planted organisation")),
        external_id: Some(format!("planted-{n}")),
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

/// What `who` can see of `id` through every read.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    list: bool,
    total: u64,
    get: bool,
    export: bool,
    queue: bool,
    history: bool,
}

fn seen(app: &App, who: &Principal, id: EventId) -> Seen {
    let q = EventQuery {
        source: Some("api".into()),
        ..Default::default()
    };
    let page = app.list_events(who, &q).unwrap();
    let mut csv = Vec::new();
    app.export_events(who, &q, ExportFormat::Csv, &mut csv)
        .unwrap();
    let queue = app.verification_queue(who, &QueueQuery::default());
    Seen {
        list: page.items.iter().any(|v| v.event.id == id),
        total: page.total,
        get: match app.get_event(who, id) {
            Ok(_) => true,
            Err(AppError::NotFound(_)) => false,
            Err(e) => panic!("{e}"),
        },
        export: String::from_utf8(csv).unwrap().contains(&id.to_string()),
        queue: match queue {
            Ok(p) => p.items.iter().any(|i| i.item.view.event.id == id),
            Err(AppError::Forbidden(_)) => false,
            Err(e) => panic!("{e}"),
        },
        history: app.history(who, id).is_ok(),
    }
}

const NOTHING: Seen = Seen {
    list: false,
    total: 0,
    get: false,
    export: false,
    queue: false,
    history: false,
};

#[test]
fn an_organisation_sees_another_s_report_only_once_shared() {
    for s in stores() {
        let app = app_at(&s, t0());
        let op = Principal::Operator;
        let a = app.create_org(&op, "org-a").unwrap().id;
        let b = app.create_org(&op, "org-b").unwrap().id;
        assert!(app.create_org(&op, "org-a").is_err(), "{}", s.name);
        let report = submit(&app, &token(Role::Reporter, b), 1);
        let stored = app.store().get_event(report).unwrap().unwrap();
        assert_eq!(stored.event.meta.owner_org, Some(b), "{}", s.name);

        let analyst_a = token(Role::Analyst, a);
        let analyst_b = token(Role::Analyst, b);
        let everything = Seen {
            list: true,
            total: 1,
            get: true,
            export: true,
            queue: true,
            history: true,
        };
        assert_eq!(seen(&app, &analyst_a, report), NOTHING, "{}", s.name);
        assert_eq!(seen(&app, &analyst_b, report), everything, "{}", s.name);
        assert_eq!(seen(&app, &token(Role::Admin, a), report), everything);
        // Changes are refused as if the record did not exist.
        assert!(matches!(
            app.decide(
                &analyst_a,
                report,
                &usalama_domain::Decision::new(
                    usalama_domain::DecisionStatus::Rejected,
                    Some("no"),
                    None,
                    None
                )
                .unwrap(),
                1
            ),
            Err(AppError::NotFound(_))
        ));

        // B shares verified records only: still nothing of an unverified report.
        app.set_share(&op, b, a, Some(ShareScope::Verified))
            .unwrap();
        assert_eq!(seen(&app, &analyst_a, report), NOTHING, "{}", s.name);
        // Then everything.
        app.set_share(&op, b, a, Some(ShareScope::All)).unwrap();
        assert_eq!(seen(&app, &analyst_a, report), everything, "{}", s.name);
        // Not the other way round.
        let mine = submit(&app, &token(Role::Reporter, a), 2);
        assert!(!seen(&app, &analyst_b, mine).get);
        // Only administrators manage sharing.
        assert!(matches!(
            app.set_share(&token(Role::OrgAdmin, b), b, a, None),
            Err(AppError::Forbidden(_))
        ));
        // Anonymous web-form reports go to the configured organisation.
        let anonymous = {
            let app = app_at(&s, t0()).with_report_org(b);
            let out = app
                .submit_reports(
                    &Principal::Anonymous,
                    Channel::WebForm,
                    vec![ReportInput {
                        category: Some("armed_violence".into()),
                        occurred_start: Some("2023-11-10".into()),
                        latitude: Some("5.76".into()),
                        longitude: Some("20.67".into()),
                        ..Default::default()
                    }],
                    SubmitMode::AllOrNothing,
                    PlacePolicy::Lenient,
                )
                .unwrap();
            match &out[0] {
                ItemOutcome::Stored(r) => r.id,
                other => panic!("{other:?}"),
            }
        };
        let e = app.store().get_event(anonymous).unwrap().unwrap();
        assert_eq!(e.event.meta.owner_org, Some(b), "{}", s.name);
    }
}

fn attempt<'a>(user: &'a str, password: &'a str, client: &'a str) -> LoginAttempt<'a> {
    LoginAttempt {
        username: user,
        password,
        code: None,
        client: Some(client),
    }
}

#[test]
fn failed_logins_lock_the_account_with_the_generic_answer_until_unlocked() {
    for s in stores() {
        let app = app_at(&s, t0());
        app.set_password("ana", PASSWORD, Role::Analyst).unwrap();
        for i in 0..5 {
            // Each from another address: the account's own counter locks it.
            let c = format!("10.0.0.{i}");
            assert!(matches!(
                app.login_with(&attempt("ana", "wrong-password-xx", &c)),
                Err(AppError::Unauthenticated)
            ));
        }
        let locked = app.store().find_user("ana").unwrap().unwrap();
        assert_eq!(locked.failed_logins, 5, "{}", s.name);
        assert_eq!(
            locked.locked_until,
            Some(t0() + chrono::Duration::seconds(30))
        );
        // The right password now gets the same answer as a wrong one.
        assert!(matches!(
            app.login_with(&attempt("ana", PASSWORD, "10.0.1.1")),
            Err(AppError::Unauthenticated)
        ));
        // Unlocked by time...
        let later = app_at(&s, t0() + chrono::Duration::seconds(31));
        assert!(later
            .login_with(&attempt("ana", PASSWORD, "10.0.1.1"))
            .is_ok());
        assert_eq!(
            app.store().find_user("ana").unwrap().unwrap().failed_logins,
            0
        );
        // ... or by an administrator.
        for i in 0..5 {
            let _ = app.login_with(&attempt("ana", "wrong-password-xx", &format!("10.0.2.{i}")));
        }
        assert!(app.login("ana", PASSWORD).is_err());
        app.unlock_account(&Principal::Operator, "ana").unwrap();
        assert!(app.login("ana", PASSWORD).is_ok(), "{}", s.name);
        // A disabled account cannot log in and its sessions end.
        let (secret, _) = app.login("ana", PASSWORD).unwrap();
        app.set_disabled(&Principal::Operator, "ana", true).unwrap();
        assert!(app.session(secret.expose()).is_err());
        assert!(matches!(
            app.login("ana", PASSWORD),
            Err(AppError::Unauthenticated)
        ));
        app.set_disabled(&Principal::Operator, "ana", false)
            .unwrap();
        assert!(app.login("ana", PASSWORD).is_ok());
        // A new password ends the sessions too.
        let (secret, _) = app.login("ana", PASSWORD).unwrap();
        app.change_password(&Principal::Operator, "ana", "another-password-2")
            .unwrap();
        assert!(app.session(secret.expose()).is_err(), "{}", s.name);
        assert!(app.login("ana", "another-password-2").is_ok());
    }
}

#[test]
fn a_client_with_many_failures_is_throttled() {
    let s = usalama_test_support::sqlite();
    let app = app_at(&s, t0()).with_login_policy(LoginPolicy {
        client_free_failures: 3,
        ..Default::default()
    });
    app.set_password("ana", PASSWORD, Role::Analyst).unwrap();
    for user in ["nobody", "someone", "ana"] {
        assert!(matches!(
            app.login_with(&attempt(user, "wrong-password-xx", "192.0.2.7")),
            Err(AppError::Unauthenticated)
        ));
    }
    match app.login_with(&attempt("ana", PASSWORD, "192.0.2.7")) {
        Err(AppError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 30),
        other => panic!("{other:?}"),
    }
    // Another client is not affected.
    assert!(app
        .login_with(&attempt("ana", PASSWORD, "192.0.2.8"))
        .is_ok());
}

fn base32_decode(s: &str) -> Vec<u8> {
    let (mut buf, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("{c}"),
        };
        buf = (buf << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

#[test]
fn totp_is_asked_for_and_checked() {
    for s in stores() {
        let app = app_at(&s, t0());
        app.set_password("ana", PASSWORD, Role::Analyst).unwrap();
        let uri = app.enroll_totp(&Principal::Operator, "ana").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Usalama:ana?secret="),
            "{uri}"
        );
        let secret = base32_decode(
            uri.split("secret=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap(),
        );
        assert_eq!(secret.len(), 20);
        let code = format!(
            "{:06}",
            totp::hotp(&secret, (t0().timestamp() / 30) as u64, 6)
        );
        let with = |code: Option<&str>, password: &str| {
            app.login_with(&LoginAttempt {
                username: "ana",
                password,
                code,
                client: None,
            })
        };
        assert!(matches!(
            with(None, PASSWORD),
            Err(AppError::SecondFactorRequired)
        ));
        // A wrong password never reveals that a code is needed.
        assert!(matches!(
            with(None, "wrong-password-xx"),
            Err(AppError::Unauthenticated)
        ));
        assert!(matches!(
            with(Some("000000"), PASSWORD),
            Err(AppError::Unauthenticated)
        ));
        assert!(with(Some(&code), PASSWORD).is_ok(), "{}", s.name);
        // HTTP Basic (OpenRosa) cannot carry a code.
        assert!(app.authenticate_password("ana", PASSWORD).is_err());
        app.remove_totp(&Principal::Operator, "ana").unwrap();
        assert!(with(None, PASSWORD).is_ok());
    }
}

#[test]
fn tokens_expire_and_belong_to_an_organisation() {
    for s in stores() {
        let app = app_at(&s, t0());
        let a = app.create_org(&Principal::Operator, "org-a").unwrap().id;
        let t = app
            .create_token_for(
                &Principal::Operator,
                Role::Analyst,
                "short",
                Some(a),
                Some(t0() + chrono::Duration::days(1)),
            )
            .unwrap();
        match app.authenticate_token(t.expose()).unwrap() {
            Principal::Token { org, role, .. } => assert_eq!((org, role), (a, Role::Analyst)),
            other => panic!("{other:?}"),
        }
        let later = app_at(&s, t0() + chrono::Duration::days(2));
        assert!(matches!(
            later.authenticate_token(t.expose()),
            Err(AppError::Unauthenticated)
        ));
        assert!(app
            .create_token_for(
                &Principal::Operator,
                Role::Analyst,
                "past",
                None,
                Some(t0())
            )
            .is_err());
        let plain = app.create_token(Role::Responder, "plain").unwrap();
        assert_eq!(
            app.authenticate_token(plain.expose()).unwrap().org(),
            Some(DEFAULT_ORG),
            "{}",
            s.name
        );
    }
}

#[test]
fn organisation_admins_manage_only_their_own_organisation() {
    for s in stores() {
        let app = app_at(&s, t0());
        let op = Principal::Operator;
        let a = app.create_org(&op, "org-a").unwrap().id;
        let b = app.create_org(&op, "org-b").unwrap().id;
        app.set_account(&op, "bob", PASSWORD, Role::Analyst, b)
            .unwrap();
        let admin_a = token(Role::OrgAdmin, a);
        app.set_account(&admin_a, "alice", PASSWORD, Role::Analyst, a)
            .unwrap();
        let forbidden = |r: Result<(), AppError>| matches!(r, Err(AppError::Forbidden(_)));
        assert!(forbidden(app.set_account(
            &admin_a,
            "eve",
            PASSWORD,
            Role::Analyst,
            b
        )));
        assert!(forbidden(app.set_account(
            &admin_a,
            "root",
            PASSWORD,
            Role::Admin,
            a
        )));
        // Not even by taking over an account of another organisation.
        assert!(forbidden(app.set_account(
            &admin_a,
            "bob",
            PASSWORD,
            Role::Analyst,
            a
        )));
        assert!(forbidden(app.set_disabled(&admin_a, "bob", true)));
        assert!(forbidden(app.unlock_account(&admin_a, "bob")));
        assert!(app.set_disabled(&admin_a, "alice", true).is_ok());
        assert!(app
            .create_token_for(&admin_a, Role::Analyst, "x", Some(b), None)
            .is_err());
        let t = app
            .create_token_for(&admin_a, Role::Analyst, "x", None, None)
            .unwrap();
        assert_eq!(app.authenticate_token(t.expose()).unwrap().org(), Some(a));
        // Analysts manage nobody; the store still says who belongs where.
        assert!(forbidden(app.set_account(
            &token(Role::Analyst, a),
            "zed",
            PASSWORD,
            Role::Reporter,
            a
        )));
        assert_eq!(
            app.store().find_user("bob").unwrap().unwrap().org,
            b,
            "{}",
            s.name
        );
    }
}

#[test]
fn hashes_use_the_configured_cost_and_weaker_ones_are_upgraded_at_log_in() {
    let s = usalama_test_support::sqlite();
    let cheap = app_at(&s, t0());
    cheap.set_password("ana", PASSWORD, Role::Analyst).unwrap();
    let stored = cheap
        .store()
        .find_user("ana")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    // The default cost: 96 MiB, 4 passes.
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let strong = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    assert!(strong.login("ana", PASSWORD).is_ok());
    let stored = strong
        .store()
        .find_user("ana")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(
        stored.starts_with("$argon2id$v=19$m=98304,t=4,p=1$"),
        "{stored}"
    );
    assert!(strong.login("ana", PASSWORD).is_ok());
    // Below OWASP's minimum is refused.
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    assert!(
        App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
            .with_password_cost(PasswordCost {
                memory_kib: 8192,
                iterations: 2
            })
            .is_err()
    );
}
