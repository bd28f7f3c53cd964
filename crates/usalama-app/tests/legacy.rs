//! What older versions kept in clear is sealed at start-up: personal data of reports
//! stored before encryption at rest, and TOTP secrets; on every backend.

use std::sync::Arc;
use usalama_app::{
    totp, App, AppError, AuditCheck, FixedClock, ItemOutcome, Keyring, LoginAttempt, MemoryLedger,
    PasswordCost, PlacePolicy, Principal, ReportInput, SubmitMode, LEGACY_BATCH,
};
use usalama_domain::{Channel, Decision, DecisionStatus, EventId, Role};
use usalama_ingest::BoundaryFields;
use usalama_test_support::{stores, t0, TestStore, DEMO_BOUNDARIES};

const PASSWORD: &str = "correct horse battery staple";

fn app_for(s: &TestStore) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())))
        .with_password_cost(PasswordCost::OWASP_MINIMUM)
        .unwrap()
        .with_vault(Keyring::generate(), Arc::new(MemoryLedger::default()))
}

fn boundaries(app: &App) {
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json.as_bytes(),
            level,
            &BoundaryFields::default(),
        )
        .unwrap();
    }
}

fn analyst() -> Principal {
    Principal::Token {
        label: "desk".into(),
        role: Role::Analyst,
        org: usalama_domain::DEFAULT_ORG,
    }
}

/// Stores `n` reports without personal data (nothing sealed), as versions before
/// encryption at rest stored every report.
fn plain_reports(app: &App, n: usize) -> Vec<EventId> {
    let items = (0..n)
        .map(|i| ReportInput {
            category: Some("armed_violence".into()),
            occurred_start: Some("2023-11-10".into()),
            place_code: Some("CF4311".into()),
            killed: Some(i.to_string()),
            ..Default::default()
        })
        .collect();
    let who = Principal::Token {
        label: "monitors".into(),
        role: Role::Reporter,
        org: usalama_domain::DEFAULT_ORG,
    };
    app.submit_reports(
        &who,
        Channel::Api,
        items,
        SubmitMode::AllOrNothing,
        PlacePolicy::Strict,
    )
    .unwrap()
    .into_iter()
    .map(|o| match o {
        ItemOutcome::Stored(r) => r.id,
        other => panic!("{other:?}"),
    })
    .collect()
}

fn id_literal(s: &TestStore, id: EventId) -> String {
    match s.name {
        "sqlite" => format!("X'{}'", id.as_uuid().simple()),
        _ => format!("'{}'", id.as_uuid()),
    }
}

/// Writes personal data in clear into the columns older versions used, with raw SQL.
fn plant_clear(s: &TestStore, id: EventId, name: &str, contact: &str, sms: &str) {
    let people = format!(r#"[{{"name":"{name}","age":30,"sex":null,"role":"witness"}}]"#);
    let id = id_literal(s, id);
    s.execute_sql(&format!(
        "UPDATE events SET people = '{people}', reporter_contact = '{contact}' WHERE id = {id}"
    ));
    s.execute_sql(&format!(
        "UPDATE report_receipts SET raw_text = '{sms}' WHERE event_id = {id}"
    ));
}

/// The database as it lies on disk (SQLite: main file and WAL) or every table as text
/// (PostgreSQL).
fn database_bytes(s: &TestStore) -> Vec<u8> {
    if let Some(db) = s.sqlite_file() {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-journal"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            if let Ok(b) = std::fs::read(&p) {
                all.extend(b);
            }
        }
        return all;
    }
    let (url, schema) = s.postgres_schema().unwrap();
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let tables: Vec<String> = c
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut all = Vec::new();
    for t in tables {
        for r in c
            .query(&format!("SELECT t::text FROM {schema}.{t} t"), &[])
            .unwrap()
        {
            all.extend(r.get::<_, String>(0).into_bytes());
            all.push(b'\n');
        }
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn audit_actions(app: &App) -> Vec<(String, String)> {
    let mut out = Vec::new();
    app.store()
        .scan_audit(&mut |e| {
            out.push((e.draft.action.clone(), e.draft.details.clone()));
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn reports_stored_in_clear_are_sealed_in_batches_once() {
    for s in stores() {
        let app = app_for(&s);
        boundaries(&app);
        // More clear reports than one batch, and one that stays without personal data.
        let n = LEGACY_BATCH + 3;
        let mut ids = plain_reports(&app, n + 1);
        let untouched = ids.pop().unwrap();
        for (i, id) in ids.iter().enumerate() {
            plant_clear(
                &s,
                *id,
                &format!("Legacy Person {i:04}"),
                &format!("+236 99 {i:06}"),
                &format!("R legacy sms {i:04}"),
            );
        }
        // A decision keeps the record as it was (people in clear) in the history.
        let v = app.get_event_versioned(&analyst(), ids[0]).unwrap();
        let d = Decision::new(DecisionStatus::Verified, None, None, None).unwrap();
        app.decide(&analyst(), ids[0], &d, v.version).unwrap();
        let before = database_bytes(&s);
        assert!(contains(&before, b"Legacy Person 0000"), "{}", s.name);
        assert!(contains(&before, b"R legacy sms 0001"));

        // Refused to other roles.
        assert!(matches!(
            app.seal_legacy(&analyst()),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            app.purge_free_space(&analyst()),
            Err(AppError::Forbidden(_))
        ));
        let done = app.seal_legacy(&Principal::Operator).unwrap();
        assert_eq!(done.reports, n as u64, "{}", s.name);
        assert_eq!(done.batches, 2, "one transaction per batch");
        assert!(done.purged, "the store is rewritten after sealing");
        // Idempotent: nothing left, nothing rewritten.
        let again = app.seal_legacy(&Principal::Operator).unwrap();
        assert_eq!((again.reports, again.batches), (0, 0));
        assert!(!again.purged);

        // The events keep nothing; the sealed copy opens for roles that may read it.
        let e = app.store().get_event(ids[0]).unwrap().unwrap();
        assert!(e.event.people.is_empty() && e.event.reporter_contact.is_none());
        assert_eq!(
            app.store().get_receipt(ids[1]).unwrap().unwrap().raw_text,
            None
        );
        let p = app.personal_data(&analyst(), ids[1]).unwrap().unwrap();
        assert_eq!(p.people[0].name.as_deref(), Some("Legacy Person 0001"));
        assert_eq!(p.people[0].role.as_deref(), Some("witness"));
        assert_eq!(p.reporter_contact.as_deref(), Some("+236 99 000001"));
        assert_eq!(p.raw_text.as_deref(), Some("R legacy sms 0001"));
        assert!(app.personal_data(&analyst(), untouched).unwrap().is_none());
        // The blind index was built: search by contact finds it.
        assert_eq!(
            app.find_reports_by_contact(&analyst(), "+23699000002")
                .unwrap(),
            vec![ids[2]]
        );
        // History names the change but keeps no value.
        let hist = app.store().event_history(ids[0]).unwrap();
        assert!(!hist.is_empty());
        assert!(!format!("{hist:?}").contains("Legacy Person"));

        // No clear byte of any report is left: SQLite main file and WAL (secure_delete,
        // checkpoint, and the rewrite that drops the stale copies the writer without
        // secure_delete left in free space), every PostgreSQL table.
        let after = database_bytes(&s);
        for planted in ["Legacy Person ", "+236 99 ", "R legacy sms "] {
            assert!(
                !contains(&after, planted.as_bytes()),
                "{planted:?} left in {}",
                s.name
            );
        }

        // Audited: one entry per batch with its count; the chain is intact.
        let seals: Vec<String> = audit_actions(&app)
            .into_iter()
            .filter(|(a, _)| a == "legacy.seal")
            .map(|(_, d)| d)
            .collect();
        assert_eq!(seals.len(), 2, "{seals:?}");
        let purges = audit_actions(&app)
            .into_iter()
            .filter(|(a, _)| a == "store.purge")
            .count();
        assert_eq!(purges, 1, "one rewrite, audited");
        assert!(seals[0].contains(&format!("\"reports\":{LEGACY_BATCH}")));
        assert!(seals[1].contains("\"reports\":3"));
        assert!(matches!(
            app.verify_audit(&Principal::Operator, None).unwrap(),
            AuditCheck::Intact { .. }
        ));
        // A version bump from the content hash: re-reading is consistent.
        assert!(app.get_event_versioned(&analyst(), ids[2]).is_ok());
    }
}

fn login(app: &App, code: Option<&str>) -> Result<(), AppError> {
    app.login_with(&LoginAttempt {
        username: "ana",
        password: PASSWORD,
        code,
        client: None,
    })
    .map(|_| ())
}

fn code_for(secret: &[u8]) -> String {
    format!(
        "{:06}",
        totp::hotp(secret, (t0().timestamp() / 30) as u64, 6)
    )
}

#[test]
fn totp_secrets_are_sealed_and_clear_ones_sealed_at_start() {
    for s in stores() {
        let app = app_for(&s);
        app.set_password("ana", PASSWORD, Role::Analyst).unwrap();
        let uri = app.enroll_totp(&Principal::Operator, "ana").unwrap();
        let b32 = uri
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        let secret = base32_decode(b32);
        let u = app.store().find_user("ana").unwrap().unwrap();
        assert_eq!(u.totp_secret, None, "{}", s.name);
        let sealed = u.totp_sealed.clone().unwrap();
        assert!(!contains(&sealed, &secret), "sealed, not in clear");
        assert_eq!(sealed.len(), 24 + 20 + 16);
        assert!(matches!(
            login(&app, None),
            Err(AppError::SecondFactorRequired)
        ));
        assert!(login(&app, Some(&code_for(&secret))).is_ok());
        assert!(matches!(
            login(&app, Some("000000")),
            Err(AppError::Unauthenticated)
        ));

        // A sealed secret moved to another account does not open there.
        app.set_password("ben", PASSWORD, Role::Analyst).unwrap();
        let ben = app.store().find_user("ben").unwrap().unwrap();
        app.store().set_user_totp(ben.id, Some(&sealed)).unwrap();
        let e = app
            .login_with(&LoginAttempt {
                username: "ben",
                password: PASSWORD,
                code: Some(&code_for(&secret)),
                client: None,
            })
            .unwrap_err();
        assert!(e.to_string().contains("decryption failed"), "{e}");

        // A secret enrolled in clear by an older version still asks for its code, and is
        // sealed (then cleared) by the start-up step.
        let old = [7u8; 20];
        let hex: String = old.iter().map(|b| format!("{b:02x}")).collect();
        let uid = match s.name {
            "sqlite" => format!("X'{}'", u.id.simple()),
            _ => format!("'{}'", u.id),
        };
        let blob = match s.name {
            "sqlite" => format!("X'{hex}'"),
            _ => format!("decode('{hex}', 'hex')"),
        };
        s.execute_sql(&format!(
            "UPDATE users SET totp_secret = {blob}, totp_sealed = NULL WHERE id = {uid}"
        ));
        assert!(matches!(
            login(&app, None),
            Err(AppError::SecondFactorRequired)
        ));
        assert!(login(&app, Some(&code_for(&old))).is_ok());
        let done = app.seal_legacy(&Principal::Operator).unwrap();
        assert_eq!(done.totp_secrets, 1, "{}", s.name);
        let u = app.store().find_user("ana").unwrap().unwrap();
        assert_eq!(u.totp_secret, None);
        assert!(u.totp_sealed.is_some());
        assert!(login(&app, Some(&code_for(&old))).is_ok());
        assert!(matches!(
            login(&app, None),
            Err(AppError::SecondFactorRequired)
        ));
        assert_eq!(
            app.seal_legacy(&Principal::Operator).unwrap().totp_secrets,
            0
        );
        assert!(audit_actions(&app)
            .iter()
            .any(|(a, d)| a == "totp.seal" && d.contains("\"accounts\":1")));
    }
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
