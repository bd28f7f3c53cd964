//! Encryption at rest, the audit log, key rotation, erasure reaching backups and the blind
//! index, on every backend, through the application's use-cases.

use std::sync::Arc;
use usalama_app::{
    App, AppError, AuditCheck, ErasureLedger, FixedClock, ItemOutcome, Keyring, MasterKey,
    MemoryLedger, PersonInput, PlacePolicy, Principal, ReportInput, SubmitMode,
};
use usalama_domain::{Channel, Decision, DecisionStatus, EventId, Role};
use usalama_ingest::BoundaryFields;
use usalama_store::sqlite::SqliteStore;
use usalama_store::{AuditHead, Store};
use usalama_test_support::{stores, t0, TestStore, DEMO_BOUNDARIES};

fn app_with(s: &TestStore, ring: Keyring, ledger: Arc<dyn ErasureLedger>) -> App {
    app_on(s.store.clone(), ring, ledger)
}

fn app_on(store: Arc<dyn Store>, ring: Keyring, ledger: Arc<dyn ErasureLedger>) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    App::new(store, taxonomy, Arc::new(FixedClock(t0()))).with_vault(ring, ledger)
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

fn monitor() -> Principal {
    Principal::Token {
        label: "monitors".into(),
        role: Role::Reporter,
        org: usalama_domain::DEFAULT_ORG,
    }
}

fn analyst() -> Principal {
    Principal::Token {
        label: "desk".into(),
        role: Role::Analyst,
        org: usalama_domain::DEFAULT_ORG,
    }
}

fn report(app: &App, name: &str, contact: &str) -> ReportInput {
    let bambari = app.resolve_locality("CF4311").unwrap();
    let (lon, lat) = bambari.centroid.unwrap();
    ReportInput {
        category: Some("armed_violence".into()),
        occurred_start: Some("2023-11-10".into()),
        latitude: Some((lat + 0.001).to_string()),
        longitude: Some((lon + 0.001).to_string()),
        killed: Some("1".into()),
        description: Some("Shots near the market".into()),
        people: vec![PersonInput {
            name: Some(name.into()),
            age: Some("30".into()),
            ..Default::default()
        }],
        reporter_contact: Some(contact.into()),
        ..Default::default()
    }
}

fn submit(app: &App, input: ReportInput) -> EventId {
    let out = app
        .submit_reports(
            &monitor(),
            Channel::Api,
            vec![input],
            SubmitMode::AllOrNothing,
            PlacePolicy::Strict,
        )
        .unwrap();
    match &out[0] {
        ItemOutcome::Stored(r) => r.id,
        other => panic!("{other:?}"),
    }
}

fn intact(app: &App) -> (u64, AuditHead) {
    match app.verify_audit(&Principal::Operator, None).unwrap() {
        AuditCheck::Intact { entries, head } => (entries, head),
        AuditCheck::Broken(b) => panic!("{b}"),
    }
}

fn broken(app: &App, cp: Option<AuditHead>) -> usalama_store::ChainBreak {
    match app.verify_audit(&Principal::Operator, cp).unwrap() {
        AuditCheck::Broken(b) => b,
        other => panic!("not detected: {other:?}"),
    }
}

/// Flips one bit of a byte of a sealed column of an event's row (migration 0011), in SQL
/// of the backend.
fn flip(s: &TestStore, column: &str, id: EventId) {
    let id = id.as_uuid();
    match s.name {
        "sqlite" => s.execute_sql(&format!(
            "UPDATE events SET {column} = CAST(substr({column}, 1, 30) ||
               CASE WHEN substr({column}, 31, 1) = X'00' THEN X'01' ELSE X'00' END ||
               substr({column}, 32) AS BLOB) WHERE id = X'{}'",
            id.simple()
        )),
        _ => s.execute_sql(&format!(
            "UPDATE events SET {column} = set_byte({column}, 30, get_byte({column}, 30) # 1)
             WHERE id = '{id}'"
        )),
    }
}

/// The SQL literal of an event id on the backend.
fn id_sql(s: &TestStore, id: EventId) -> String {
    match s.name {
        "sqlite" => format!("X'{}'", id.as_uuid().simple()),
        _ => format!("'{}'", id.as_uuid()),
    }
}

/// Copies the sealed `columns` of event `from`'s row onto event `to`'s row.
fn move_sealed(s: &TestStore, columns: &[&str], from: EventId, to: EventId) {
    let set: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "{c} = (SELECT {c} FROM events WHERE id = {})",
                id_sql(s, from)
            )
        })
        .collect();
    s.execute_sql(&format!(
        "UPDATE events SET {} WHERE id = {}",
        set.join(", "),
        id_sql(s, to)
    ));
}

#[test]
fn personal_data_is_sealed_and_only_allowed_roles_read_it() {
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        let mut input = report(&app, "Amina Sealed", "+236 70 11 22 33");
        input.description = Some("Where the witness hides".into());
        input.description_sensitive = true;
        input.location_sensitive = true;
        let id = submit(&app, input);
        let stored = app.store().get_event(id).unwrap().unwrap();
        assert!(stored.event.people.is_empty(), "{}", s.name);
        assert_eq!(stored.event.reporter_contact, None);
        assert_eq!(stored.event.description, None, "sensitive text sealed");
        let coarse = stored.event.point.unwrap();
        let centroid = app.resolve_locality("CF4311").unwrap().centroid.unwrap();
        assert_eq!(
            (coarse.lon(), coarse.lat()),
            centroid,
            "coarsened to the centroid"
        );
        assert!(stored.event.location_precision.unwrap().code() > 1);

        let before = intact(&app).0;
        let p = app.personal_data(&analyst(), id).unwrap().unwrap();
        assert_eq!(p.people[0].name.as_deref(), Some("Amina Sealed"));
        assert_eq!(p.reporter_contact.as_deref(), Some("+236 70 11 22 33"));
        assert_eq!(
            p.sensitive_description.as_deref(),
            Some("Where the witness hides")
        );
        let exact = p.exact_point.unwrap();
        assert!(
            (exact.lat() - coarse.lat()).abs() > 1e-9 || (exact.lon() - coarse.lon()).abs() > 1e-9
        );
        assert_eq!(intact(&app).0, before + 1, "the read is audited");

        for role in [Role::Reporter, Role::OrgAdmin] {
            let who = Principal::Token {
                label: "x".into(),
                role,
                org: usalama_domain::DEFAULT_ORG,
            };
            assert!(matches!(
                app.personal_data(&who, id),
                Err(AppError::Forbidden(_))
            ));
        }
        assert!(matches!(
            app.personal_data(&Principal::Anonymous, id),
            Err(AppError::Unauthenticated)
        ));
        assert_eq!(intact(&app).0, before + 1, "refused reads leave no entry");

        // A flipped byte is an error naming the field and record, never wrong data.
        flip(&s, "sealed_people", id);
        let e = app.personal_data(&analyst(), id).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("decryption failed for events.people of {id}"),
            "{}",
            s.name
        );
        // A ciphertext moved to another field does not open either.
        s.execute_sql(
            "UPDATE events SET sealed_description = sealed_contact WHERE sealed_master IS NOT NULL",
        );
        let e = app.personal_data(&analyst(), id).unwrap_err().to_string();
        assert!(e.contains("decryption failed"), "{e}");
    }
}

/// Every sealed column of an event's row (migration 0011).
const SEALED_COLUMNS: &[&str] = &[
    "sealed_key",
    "sealed_master",
    "sealed_key_created_at",
    "sealed_key_destroyed_at",
    "sealed_people",
    "sealed_contact",
    "sealed_description",
    "sealed_point",
    "sealed_raw_text",
    "sealed_client",
    "contact_index",
];

#[test]
fn a_sealed_bundle_moved_to_another_events_row_does_not_open() {
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        let a = submit(&app, report(&app, "Moved Person", "+1 555 0300"));
        let b = submit(&app, report(&app, "Other Person", "+1 555 0301"));
        let c = submit(&app, report(&app, "Third Person", "+1 555 0302"));
        // Negative control: both open before anything moves.
        for id in [a, b, c] {
            assert!(app.personal_data(&analyst(), id).unwrap().is_some());
        }
        // The whole bundle, wrapped key included, onto another row: the key's wrap binds
        // its id (the event's), so it does not unwrap there.
        move_sealed(&s, SEALED_COLUMNS, a, b);
        let e = app.personal_data(&analyst(), b).unwrap_err().to_string();
        assert!(e.contains("decryption failed"), "{}: {e}", s.name);
        // The sealed fields alone under the other row's own key: they bind the record.
        move_sealed(&s, &SEALED_COLUMNS[4..], a, c);
        let e = app.personal_data(&analyst(), c).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("decryption failed for events.people of {c}"),
            "{}",
            s.name
        );
        // The row it came from still opens.
        let p = app.personal_data(&analyst(), a).unwrap().unwrap();
        assert_eq!(p.people[0].name.as_deref(), Some("Moved Person"));
    }
}

#[test]
fn rotation_rewraps_keys_and_the_old_master_key_opens_nothing() {
    for s in stores() {
        let old = Keyring::generate();
        let ledger: Arc<dyn ErasureLedger> = Arc::new(MemoryLedger::default());
        let app = app_with(&s, old.clone(), ledger.clone());
        boundaries(&app);
        let ids: Vec<EventId> = (0..3)
            .map(|i| {
                submit(
                    &app,
                    report(&app, &format!("Rot {i}"), &format!("+1 555 000{i}")),
                )
            })
            .collect();
        let hash_before = app.sender_hash("+23670123456").unwrap();
        let next = MasterKey::generate(2);
        let c = app
            .rotate_master_key(&Principal::Operator, next.clone())
            .unwrap();
        // 3 event keys + the SMS sender and blind-index installation keys.
        assert_eq!((c.rewrapped, c.destroyed), (5, 0), "{}", s.name);
        assert!(matches!(
            app.rotate_master_key(&analyst(), MasterKey::generate(3)),
            Err(AppError::Forbidden(_))
        ));
        for id in &ids {
            assert!(app.personal_data(&analyst(), *id).unwrap().is_some());
        }
        // A fresh application with the new key reads everything, hashes unchanged.
        let fresh = app_with(&s, Keyring::new(next), ledger.clone());
        assert_eq!(fresh.sender_hash("+23670123456").unwrap(), hash_before);
        assert!(fresh.personal_data(&analyst(), ids[0]).unwrap().is_some());
        // The old master key opens nothing any more.
        let stale = app_with(&s, old, ledger);
        for id in &ids {
            let e = stale
                .personal_data(&analyst(), *id)
                .unwrap_err()
                .to_string();
            assert!(e.contains("master key version 2"), "{e}");
        }
        let (_, head) = intact(&app);
        assert!(head.seq > 0);
    }
}

#[test]
fn erasure_shreds_and_reaches_a_backup_taken_before() {
    for s in stores() {
        let ring = Keyring::generate();
        let ledger: Arc<dyn ErasureLedger> = Arc::new(MemoryLedger::default());
        let app = app_with(&s, ring.clone(), ledger.clone());
        boundaries(&app);
        let keep = submit(&app, report(&app, "Kept Person", "+1 555 0100"));
        let gone = submit(&app, report(&app, "Erased Person", "+1 555 0199"));
        // A backup taken before the erasure.
        let backup_dir = tempfile::tempdir().unwrap();
        let backup = backup_dir.path().join("usalama.sqlite3");
        match s.name {
            "sqlite" => s.execute_sql(&format!("VACUUM INTO '{}'", backup.display())),
            _ => {
                s.execute_sql("CREATE TABLE dk_backup AS SELECT * FROM data_keys");
                // Reports' keys are kept on their events rows (migration 0011).
                s.execute_sql(
                    "CREATE TABLE ev_backup AS SELECT id, sealed_key, sealed_key_destroyed_at,
                         contact_index FROM events WHERE sealed_master IS NOT NULL",
                );
            }
        }
        // The erased report's wrapped key, as stored (SQLite: also in the WAL's frames).
        let wrapped: Option<Vec<u8>> = s.sqlite_file().map(|db| {
            rusqlite::Connection::open(db)
                .unwrap()
                .query_row(
                    &format!(
                        "SELECT sealed_key FROM events WHERE id = {}",
                        id_sql(&s, gone)
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        });
        assert!(matches!(
            app.erase_event(&analyst(), gone, None),
            Err(AppError::Forbidden(_))
        ));
        assert_eq!(
            app.erase_event(&Principal::Operator, gone, Some("request"))
                .unwrap(),
            1
        );
        // No copy of the destroyed key is left on disk, the WAL file included.
        if let Some(key) = &wrapped {
            assert!(key.len() >= 32, "{} bytes", key.len());
            assert!(
                !contains(&database_bytes(&s), key),
                "the wrapped key is left on disk"
            );
        }
        let p = app.personal_data(&analyst(), gone).unwrap().unwrap();
        assert!(p.erased && p.people.is_empty() && p.reporter_contact.is_none());
        assert!(!app.personal_data(&analyst(), keep).unwrap().unwrap().erased);
        assert!(app
            .find_reports_by_contact(&analyst(), "+1 555 0199")
            .unwrap()
            .is_empty());
        assert_eq!(
            app.erase_event(&Principal::Operator, gone, None).unwrap(),
            0
        );
        let (_, head) = intact(&app);

        // Restore the backup.
        let restored: App = match s.name {
            "sqlite" => {
                let dir = backup_dir.path().join("restored");
                std::fs::create_dir(&dir).unwrap();
                std::fs::copy(&backup, dir.join("usalama.sqlite3")).unwrap();
                let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(&dir).unwrap());
                app_on(store, ring.clone(), ledger.clone())
            }
            _ => {
                s.execute_sql(
                    "UPDATE data_keys d SET wrapped_key = b.wrapped_key, destroyed_at = NULL
                     FROM dk_backup b WHERE d.id = b.id",
                );
                s.execute_sql(
                    "UPDATE events d SET sealed_key = b.sealed_key,
                         sealed_key_destroyed_at = b.sealed_key_destroyed_at,
                         contact_index = b.contact_index
                     FROM ev_backup b WHERE d.id = b.id",
                );
                app_with(&s, ring.clone(), ledger.clone())
            }
        };
        // Negative control: the backup still holds the erased record's key.
        assert!(
            !restored
                .personal_data(&analyst(), gone)
                .unwrap()
                .unwrap()
                .erased,
            "{}",
            s.name
        );
        // Start-up re-applies the ledger: the erasure reaches the restored copy.
        assert_eq!(restored.reapply_erasures().unwrap(), 1);
        assert!(
            restored
                .personal_data(&analyst(), gone)
                .unwrap()
                .unwrap()
                .erased
        );
        assert!(
            !restored
                .personal_data(&analyst(), keep)
                .unwrap()
                .unwrap()
                .erased
        );
        assert_eq!(restored.reapply_erasures().unwrap(), 0);
        // The erasure's audit entry remains in the live log.
        let mut actions = Vec::new();
        app.store()
            .scan_audit(&mut |e| {
                actions.push((e.draft.action.clone(), e.draft.target_id.clone()));
                Ok(())
            })
            .unwrap();
        assert!(actions.contains(&("event.erase".into(), gone.to_string())));
        assert!(head.seq > 0);
    }
}

#[test]
fn retention_erases_decided_reports_past_their_period() {
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        let decided = submit(&app, report(&app, "Old Case", "+1 555 0300"));
        let open = submit(&app, report(&app, "Open Case", "+1 555 0301"));
        let v = app.get_event_versioned(&analyst(), decided).unwrap();
        let d = Decision::new(DecisionStatus::Verified, None, None, None).unwrap();
        app.decide(&analyst(), decided, &d, v.version).unwrap();
        let policy = usalama_app::RetentionPolicy {
            personal_data_days: Some(30),
            attachment_days: None,
        };
        // Not yet due at t0.
        let r = app
            .apply_retention(&Principal::Operator, &policy, false)
            .unwrap();
        assert!(r.reports.is_empty(), "{}", s.name);
        let zero = usalama_app::RetentionPolicy {
            personal_data_days: Some(0),
            attachment_days: None,
        };
        // Due immediately with a zero-day period: a dry run changes nothing.
        s.execute_sql(
            "UPDATE events SET updated_at = '2000-01-01T00:00:00.000000Z' WHERE status = 'verified'",
        );
        let dry = app
            .apply_retention(&Principal::Operator, &zero, true)
            .unwrap();
        assert_eq!(dry.reports, vec![decided]);
        assert_eq!(dry.keys_destroyed, 0);
        assert!(
            !app.personal_data(&analyst(), decided)
                .unwrap()
                .unwrap()
                .erased
        );
        let done = app
            .apply_retention(&Principal::Operator, &zero, false)
            .unwrap();
        assert_eq!(done.keys_destroyed, 1);
        assert!(
            app.personal_data(&analyst(), decided)
                .unwrap()
                .unwrap()
                .erased
        );
        assert!(
            !app.personal_data(&analyst(), open).unwrap().unwrap().erased,
            "unverified kept"
        );
        intact(&app);
    }
}

#[test]
fn blind_index_finds_reports_by_contact() {
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        let a = submit(&app, report(&app, "A", "+236 70-00 (00) 01"));
        let b = submit(&app, report(&app, "B", "+2367000 0001"));
        let _c = submit(&app, report(&app, "C", "+236 70 00 00 02"));
        let mut found = app
            .find_reports_by_contact(&analyst(), " +236 70 00 00 01")
            .unwrap();
        found.sort_by_key(|e| e.as_uuid());
        let mut want = vec![a, b];
        want.sort_by_key(|e| e.as_uuid());
        assert_eq!(found, want, "{}", s.name);
        assert!(app
            .find_reports_by_contact(&analyst(), "+1 999")
            .unwrap()
            .is_empty());
        assert!(matches!(
            app.find_reports_by_contact(&monitor(), "+236 70 00 00 01"),
            Err(AppError::Forbidden(_))
        ));
    }
}

#[test]
fn a_legacy_sms_key_in_settings_is_adopted_and_hashes_stay_the_same() {
    use hmac::{Hmac, Mac};
    for s in stores() {
        let legacy = [7u8; 32];
        s.store
            .ensure_setting(usalama_app::SMS_KEY_SETTING, &legacy, t0())
            .unwrap();
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&legacy).unwrap();
        mac.update(b"23670123456");
        assert_eq!(
            app.sender_hash("+236 70 12 34 56").unwrap(),
            mac.finalize().into_bytes().to_vec(),
            "{}",
            s.name
        );
        // The plaintext row is gone from settings.
        assert_eq!(
            s.store
                .ensure_setting(usalama_app::SMS_KEY_SETTING, b"probe", t0())
                .unwrap(),
            b"probe"
        );
    }
}

#[test]
fn the_audit_log_detects_edits_deletions_reordering_and_truncation() {
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        for i in 0..4 {
            submit(&app, report(&app, &format!("P{i}"), "+1 555 0400"));
        }
        let (n, head) = intact(&app);
        assert!(n >= 6, "boundaries and intake audited: {n}");
        let cp = app.audit_checkpoint(&Principal::Operator).unwrap();
        assert_eq!(cp, head);
        let q = |sql: &str| s.execute_sql(sql);

        // Edit.
        q("CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = 3");
        q("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3");
        let b = broken(&app, None);
        assert_eq!(b.seq, 3, "{}: {b}", s.name);
        q("UPDATE audit_log SET actor = (SELECT actor FROM saved) WHERE seq = 3; DROP TABLE saved");
        intact(&app);

        // Deletion in the middle.
        q("CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = 2");
        q("DELETE FROM audit_log WHERE seq = 2");
        assert_eq!(broken(&app, None).seq, 2);
        q("INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
        intact(&app);

        // Reordering: entries 3 and 4 swap places.
        q("UPDATE audit_log SET seq = -3 WHERE seq = 3;
           UPDATE audit_log SET seq = 3 WHERE seq = 4;
           UPDATE audit_log SET seq = 4 WHERE seq = -3");
        assert_eq!(broken(&app, None).seq, 3);
        q("UPDATE audit_log SET seq = -3 WHERE seq = 3;
           UPDATE audit_log SET seq = 3 WHERE seq = 4;
           UPDATE audit_log SET seq = 4 WHERE seq = -3");
        intact(&app);

        // Truncation behind the head's back is detected by the head...
        let last = head.seq;
        q(&format!(
            "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = {last}"
        ));
        q(&format!("DELETE FROM audit_log WHERE seq = {last}"));
        assert!(broken(&app, None).reason.contains("truncated"));
        // ...and a truncation that also rewrites the head, by the checkpoint.
        let prev = last - 1;
        q(&format!(
            "UPDATE audit_head SET seq = {prev}, hash = (SELECT hash FROM audit_log WHERE seq = {prev})"
        ));
        intact(&app);
        let b = broken(&app, Some(cp.clone()));
        assert!(b.reason.contains("truncated"), "{b}");
        q("INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
        q(&format!(
            "UPDATE audit_head SET seq = {last}, hash = (SELECT hash FROM audit_log WHERE seq = {last})"
        ));
        assert!(matches!(
            app.verify_audit(&Principal::Operator, Some(cp)).unwrap(),
            AuditCheck::Intact { .. }
        ));
        // A forged checkpoint is refused.
        let forged = AuditHead {
            seq: 2,
            hash: vec![1; 32],
        };
        assert!(broken(&app, Some(forged)).reason.contains("checkpoint"));
    }
}

#[test]
fn concurrent_writers_never_fork_the_chain() {
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        let (before, _) = intact(&app);
        std::thread::scope(|scope| {
            for t in 0..6 {
                let app = app.clone();
                scope.spawn(move || {
                    for i in 0..8 {
                        if t % 2 == 0 {
                            submit(&app, report(&app, &format!("T{t}-{i}"), "+1 555 0500"));
                        } else {
                            app.store()
                                .append_audit(&[usalama_store::AuditDraft::new(
                                    t0(),
                                    format!("writer{t}"),
                                    "test.append",
                                    ("test", i.to_string()),
                                    serde_json::json!({}),
                                )])
                                .unwrap();
                        }
                    }
                });
            }
        });
        let (after, head) = intact(&app);
        assert_eq!(after, before + 48, "{}", s.name);
        assert_eq!(head.seq as u64, after);
    }
}

/// Every byte string of a store's database as it lies on disk (SQLite: the main file,
/// its WAL and shared-memory files) or as a dump of every table (PostgreSQL: each row as
/// text, so byte columns appear in hex).
fn database_bytes(s: &TestStore) -> Vec<u8> {
    if let Some(db) = s.sqlite_file() {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm", "-journal"] {
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
    assert!(tables.len() > 10, "{tables:?}");
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

#[test]
fn plaintext_scan_planted_names_and_numbers_appear_nowhere_in_the_database() {
    use usalama_app::{OpenRosaOutcome, SmsInput, SmsOutcome};
    for s in stores() {
        let app = app_with(&s, Keyring::generate(), Arc::new(MemoryLedger::default()));
        boundaries(&app);
        let tag = format!("{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
        let mut planted: Vec<String> = Vec::new();
        let mut plant = |kind: &str| {
            let v = format!("{kind}{tag}{}", planted.len());
            planted.push(v.clone());
            v
        };
        // Web form (anonymous) and JSON API, one each; a batch of three.
        for (who, channel, n) in [
            (Principal::Anonymous, Channel::WebForm, 1),
            (monitor(), Channel::Api, 1),
            (monitor(), Channel::Api, 3),
        ] {
            let items = (0..n)
                .map(|_| {
                    let mut r = report(&app, &plant("Name"), &format!("+999 {}", plant("7")));
                    r.description = Some(format!("Hidden {}", plant("Text")));
                    r.description_sensitive = true;
                    r.location_sensitive = true;
                    r
                })
                .collect();
            let out = app
                .submit_reports(
                    &who,
                    channel,
                    items,
                    SubmitMode::AllOrNothing,
                    PlacePolicy::Strict,
                )
                .unwrap();
            assert!(
                out.iter().all(|o| matches!(o, ItemOutcome::Stored(_))),
                "{out:?}"
            );
        }
        // SMS: the sender's number and a name in the message's free text are planted
        // (the free text is sealed like the message as received).
        let gw = Principal::Token {
            label: "gateway".into(),
            role: Role::Reporter,
            org: usalama_domain::DEFAULT_ORG,
        };
        let sender = format!("+236 {}", plant("55"));
        let r = app
            .receive_sms(
                &gw,
                SmsInput {
                    from: sender,
                    text: format!("KILL 2 BAMBARI shooting of {}", plant("Sms")),
                    timestamp: Some("1699900000000".into()),
                    message_id: Some(format!("m-{tag}")),
                },
            )
            .unwrap();
        assert!(matches!(r.outcome, SmsOutcome::Stored(_)), "{r:?}");
        // OpenRosa with an attachment carrying a planted name.
        app.set_password("monitor1", "correct horse battery", Role::Reporter)
            .unwrap();
        let who = app
            .authenticate_password("monitor1", "correct horse battery")
            .unwrap();
        let (_, version) = app.report_xform();
        let (name, contact, photo_text) = (plant("Odk"), plant("8"), plant("Photo"));
        let xml = format!(
            r#"<?xml version='1.0' ?><data id="usalama_report" version="{version}"><category>abduction</category><occurred_start>2023-11-12</occurred_start><place>Bambari</place><injured>1</injured><people><name>{name}</name><age>12</age><sex>male</sex><role>victim</role></people><reporter_contact>{contact}</reporter_contact><photo>p.jpg</photo><meta><instanceID>uuid:{}</instanceID></meta></data>"#,
            uuid::Uuid::new_v4()
        );
        let photo = usalama_store::Attachment {
            file_name: "p.jpg".into(),
            content_type: "image/jpeg".into(),
            bytes: format!("JPEG {photo_text} JPEG").into_bytes(),
        };
        let out = app
            .submit_openrosa(&who, xml.as_bytes(), vec![photo])
            .unwrap();
        let OpenRosaOutcome::Stored(stored) = out else {
            panic!("{out:?}")
        };
        // Reads and analyst work happen too (audited reads must not copy data).
        app.personal_data(&analyst(), stored.id).unwrap();
        app.attachments(&analyst(), stored.id).unwrap();
        assert!(!app
            .find_reports_by_contact(&analyst(), &contact)
            .unwrap()
            .is_empty());

        let hay = database_bytes(&s);
        assert!(hay.len() > 10_000, "{}", s.name);
        // Control: the scan sees what is stored in clear (the SMS gateway's message id).
        assert!(
            contains(&hay, format!("m-{tag}").as_bytes()),
            "the scan reads the data ({})",
            s.name
        );
        for p in &planted {
            let hex: String = p.bytes().map(|b| format!("{b:02x}")).collect();
            assert!(
                !contains(&hay, p.as_bytes()),
                "{} found in clear on {}",
                p,
                s.name
            );
            assert!(
                !contains(&hay, hex.as_bytes()),
                "{} found in hex on {}",
                p,
                s.name
            );
        }
    }
}
