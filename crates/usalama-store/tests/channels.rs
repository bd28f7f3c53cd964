//! The channels' storage on every backend: reports stored with receipts and attachments in
//! one transaction, resubmissions recognised, status by reference, settings written once.

use usalama_domain::{Channel, Dimension, EventId, LocalityPath, VerificationStatus};
use usalama_store::{Attachment, NewReport, PlacedEvent, ReportReceipt};
use usalama_test_support::{event, on_every_backend, t0, taxonomy};

fn report(n: u32, external: Option<&str>, files: &[(&str, &[u8])]) -> NewReport {
    report_on(n, external, files, "2023-05-01")
}

/// Report `n` with its external id and files, on `day`.
fn report_on(n: u32, external: Option<&str>, files: &[(&str, &[u8])], day: &str) -> NewReport {
    let mut d = event(n, day, "armed_violence", Dimension::Lives);
    d.id = EventId::derived(&format!("report:{n}"));
    d.source = "api".into();
    d.external_id = external.map(str::to_string);
    d.channel = Channel::Api;
    d.status = VerificationStatus::Unverified;
    d.description = Some("Tirs près du marché — إطلاق نار قرب السوق".into());
    d.reporter_contact = Some("+236 70 00 00 00".into());
    NewReport {
        event: PlacedEvent {
            event: d.validate(&taxonomy()).unwrap(),
            path: LocalityPath::default(),
        },
        receipt: ReportReceipt {
            reference: format!("REF{n:02}"),
            channel: "api".into(),
            received_at: t0(),
            sender_hash: Some(vec![n as u8; 32]),
            raw_text: Some(format!("KILL {n} somewhere")),
        },
        attachments: files
            .iter()
            .map(|(name, bytes)| Attachment {
                file_name: name.to_string(),
                content_type: "image/jpeg".into(),
                bytes: bytes.to_vec(),
            })
            .collect(),
        sealed: None,
    }
}

#[test]
fn reports_are_stored_with_receipts_and_attachments() {
    on_every_backend(|s| {
        let st = &s.store;
        let out = st
            .insert_reports(&[
                report(1, None, &[("a.jpg", b"\xff\xd8one")]),
                report(2, Some("uuid:abc"), &[]),
            ])
            .unwrap();
        assert_eq!(out.len(), 2, "{}", s.name);
        assert!(!out[0].existed && !out[1].existed);
        assert_eq!(out[0].reference, "REF01");
        assert_eq!(out[0].attachments_added, 1);

        let e = st.get_event(out[0].event_id).unwrap().unwrap().event;
        assert_eq!(e.channel, Channel::Api);
        assert_eq!(e.status, VerificationStatus::Unverified);
        assert_eq!(
            e.description.as_deref(),
            Some("Tirs près du marché — إطلاق نار قرب السوق"),
            "any script round-trips on {}",
            s.name
        );
        assert_eq!(e.reporter_contact.as_deref(), Some("+236 70 00 00 00"));

        let rc = st.get_receipt(out[0].event_id).unwrap().unwrap();
        assert_eq!(rc.sender_hash, Some(vec![1u8; 32]));
        assert_eq!(rc.raw_text.as_deref(), Some("KILL 1 somewhere"));
        assert_eq!(rc.received_at, t0());
        assert!(st.get_receipt(EventId::derived("none")).unwrap().is_none());

        let files = st.list_attachments(out[0].event_id).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].bytes, b"\xff\xd8one");
        assert_eq!(files[0].sha256.len(), 32);

        assert_eq!(
            st.report_status("REF02").unwrap().as_deref(),
            Some("unverified")
        );
        assert!(st.report_status("NOPE").unwrap().is_none());

        // The same (source, external_id) again: nothing changes, new files are added.
        let mut again = report(3, Some("uuid:abc"), &[("b.jpg", b"two"), ("c.ogg", b"3")]);
        again.receipt.reference = "REF99".into();
        let out2 = st.insert_reports(&[again.clone()]).unwrap();
        assert!(out2[0].existed, "{}", s.name);
        assert_eq!(out2[0].event_id, out[1].event_id);
        assert_eq!(out2[0].reference, "REF02", "the first reference stays");
        assert_eq!(out2[0].attachments_added, 2);
        let out3 = st.insert_reports(&[again]).unwrap();
        assert_eq!(out3[0].attachments_added, 0, "idempotent");
        let names: Vec<String> = st
            .list_attachments(out[1].event_id)
            .unwrap()
            .into_iter()
            .map(|a| a.file_name)
            .collect();
        assert_eq!(names, vec!["b.jpg", "c.ogg"]);
    });
}

#[test]
fn a_batch_answers_in_the_order_sent_and_its_first_report_of_an_external_id_is_the_stored_one() {
    on_every_backend(|s| {
        // The store writes a batch in its own order (by date on SQLite); the second report
        // of `uuid:x` is dated before the first and before the report between them.
        let batch = [
            report_on(1, Some("uuid:x"), &[], "2023-03-01"),
            report_on(2, None, &[], "2023-02-01"),
            report_on(3, Some("uuid:x"), &[], "2022-01-01"),
            report_on(4, None, &[], "2021-06-01"),
        ];
        let out = s.store.insert_reports(&batch).unwrap();
        let refs: Vec<&str> = out.iter().map(|o| o.reference.as_str()).collect();
        assert_eq!(refs, ["REF01", "REF02", "REF01", "REF04"], "{}", s.name);
        let existed: Vec<bool> = out.iter().map(|o| o.existed).collect();
        assert_eq!(existed, [false, false, true, false], "{}", s.name);
        assert_eq!(out[2].event_id, out[0].event_id, "{}", s.name);
        assert_eq!(out[1].event_id, batch[1].event.event.id, "{}", s.name);
        let stored = s.store.get_event(out[0].event_id).unwrap().unwrap().event;
        assert_eq!(stored.occurred_end.to_string(), "2023-03-01", "{}", s.name);
        assert!(s
            .store
            .get_event(batch[2].event.event.id)
            .unwrap()
            .is_none());
    });
}

#[test]
fn a_failing_report_stores_nothing_of_its_batch() {
    on_every_backend(|s| {
        // Two reports with the same reference: the second violates the UNIQUE constraint.
        let a = report(1, None, &[("a.jpg", b"x")]);
        let mut b = report(2, None, &[]);
        b.receipt.reference = a.receipt.reference.clone();
        assert!(s.store.insert_reports(&[a, b]).is_err(), "{}", s.name);
        assert!(s
            .store
            .get_event(EventId::derived("report:1"))
            .unwrap()
            .is_none());
        assert!(s.store.report_status("REF01").unwrap().is_none());
    });
}

#[test]
fn settings_are_written_once() {
    on_every_backend(|s| {
        let first = s.store.ensure_setting("sms_key", b"first", t0()).unwrap();
        assert_eq!(first, b"first");
        let again = s.store.ensure_setting("sms_key", b"second", t0()).unwrap();
        assert_eq!(again, b"first", "{}", s.name);
    });
}

/// A sealed report's data key with `id`, wrapped bytes standing in for a real wrapping.
fn sealed(n: u32, key_id: uuid::Uuid) -> usalama_store::SealedReport {
    usalama_store::SealedReport {
        key: usalama_store::DataKeyRecord {
            id: key_id,
            purpose: "event".into(),
            wrapped: Some(vec![n as u8; 72]),
            master_version: 1,
            created_at: t0(),
            destroyed_at: None,
        },
        fields: usalama_store::SealedFields {
            people: Some(vec![1, n as u8]),
            reporter_contact: Some(vec![2, n as u8]),
            contact_index: Some(vec![n as u8; 32]),
            ..Default::default()
        },
        attachment_keys: Vec::new(),
    }
}

#[test]
fn report_keys_on_the_event_row_the_sealed_row_and_in_data_keys_read_rotate_and_erase_alike() {
    on_every_backend(|s| {
        let st = &s.store;
        // Report 1's key has the event's id: kept with its sealed fields on its `events`
        // row (migration 0012). Report 2's has another id: kept in `data_keys`, as rows
        // written before 0009. Report 3 is sealed afterwards (legacy sealing), its key on
        // an `event_sealed` row, as reports sealed between 0009 and 0012.
        let mut a = report(1, None, &[]);
        let ida = a.event.event.id;
        a.event.event = {
            let mut d = a.event.event.clone().into_data();
            d.reporter_contact = None;
            d.restore().unwrap()
        };
        a.receipt.raw_text = None;
        a.sealed = Some(sealed(1, ida.as_uuid()));
        let mut b = report(2, None, &[]);
        let idb = b.event.event.id;
        let old_key = uuid::Uuid::from_u128(0xfeed);
        b.sealed = Some(sealed(2, old_key));
        let c = report(3, None, &[]);
        let idc = c.event.event.id;
        st.insert_reports(&[a, b, c]).unwrap();
        let audit = |what: &str| {
            usalama_store::AuditDraft::new(
                t0(),
                "test",
                what,
                ("event", "x".into()),
                serde_json::json!({}),
            )
        };
        let mut legacy = Vec::new();
        let n = st
            .seal_legacy_personal(
                10,
                &mut |l| {
                    legacy.push(l.event);
                    Ok(sealed(3, l.event.as_uuid()))
                },
                &audit("legacy.seal"),
            )
            .unwrap();
        assert_eq!(
            (n, legacy),
            (1, vec![idc]),
            "only the clear report: {}",
            s.name
        );

        // Report 1's row keeps the first 16 bytes of the blind index.
        let mut inline_fields = sealed(1, ida.as_uuid()).fields;
        inline_fields.contact_index = Some(vec![1; usalama_store::vault::INLINE_INDEX_BYTES]);
        let ra = st.read_sealed(ida, &audit("read")).unwrap().unwrap();
        assert_eq!(ra.key, sealed(1, ida.as_uuid()).key, "{}", s.name);
        assert_eq!(ra.fields, inline_fields);
        let rb = st.read_sealed(idb, &audit("read")).unwrap().unwrap();
        assert_eq!(rb.key, sealed(2, old_key).key, "{}", s.name);
        assert_eq!(st.get_data_key(old_key).unwrap(), Some(rb.key.clone()));
        let rc = st.read_sealed(idc, &audit("read")).unwrap().unwrap();
        assert_eq!(rc.key, sealed(3, idc.as_uuid()).key, "{}", s.name);
        assert_eq!(rc.fields, sealed(3, idc.as_uuid()).fields);
        assert_eq!(st.get_data_key(ida.as_uuid()).unwrap(), None);
        assert_eq!(st.get_data_key(idc.as_uuid()).unwrap(), None);
        assert_eq!(st.count_data_keys().unwrap(), (3, 0), "{}", s.name);
        assert_eq!(st.event_key_ids(ida).unwrap(), vec![ida.as_uuid()]);
        assert_eq!(st.event_key_ids(idb).unwrap(), vec![old_key]);
        assert_eq!(st.event_key_ids(idc).unwrap(), vec![idc.as_uuid()]);
        // The blind index finds each layout's report (a full index is asked for).
        for (n, id) in [(1u8, ida), (2, idb), (3, idc)] {
            assert_eq!(
                st.find_by_contact_index(&[n; 32], &audit("find")).unwrap(),
                vec![id],
                "{}",
                s.name
            );
        }
        let mut seen = Vec::new();
        let counts = st
            .rewrap_data_keys(
                &mut |k| {
                    seen.push(k.id);
                    let mut n = k.clone();
                    n.wrapped = Some(vec![0xee; 72]);
                    n.master_version = 2;
                    Ok(n)
                },
                &audit("keys.rotate"),
            )
            .unwrap();
        seen.sort();
        let mut all = vec![ida.as_uuid(), idc.as_uuid(), old_key];
        all.sort();
        assert_eq!(seen, all, "{}", s.name);
        assert_eq!(counts.rewrapped, 3);
        for id in [ida, idb, idc] {
            let k = st.read_sealed(id, &audit("read")).unwrap().unwrap().key;
            assert_eq!(
                (k.wrapped, k.master_version),
                (Some(vec![0xee; 72]), 2),
                "{}",
                s.name
            );
        }
        // A failing rewrap names the row of the key and changes nothing.
        for (id, table) in [(ida, "events"), (idc, "event_sealed")] {
            let err = st
                .rewrap_data_keys(
                    &mut |k| {
                        if k.id == id.as_uuid() {
                            Err("no".into())
                        } else {
                            let mut n = k.clone();
                            n.master_version = 9;
                            Ok(n)
                        }
                    },
                    &audit("keys.rotate"),
                )
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("{table}.{}", id.as_uuid())), "{err}");
        }
        for id in [ida, idb, idc] {
            let k = st.read_sealed(id, &audit("read")).unwrap().unwrap().key;
            assert_eq!(k.master_version, 2, "rolled back: {}", s.name);
        }
        // Erasure destroys every kind of key and clears the blind index.
        let later = t0() + chrono::Duration::days(1);
        let keys = [ida.as_uuid(), idc.as_uuid(), old_key];
        assert_eq!(
            st.destroy_data_keys(&keys, later, &[audit("erase")])
                .unwrap(),
            3,
            "{}",
            s.name
        );
        for (n, id) in [(1u8, ida), (2, idb), (3, idc)] {
            let r = st.read_sealed(id, &audit("read")).unwrap().unwrap();
            assert_eq!(r.key.wrapped, None);
            assert_eq!(r.key.destroyed_at, Some(later));
            assert_eq!(r.fields.contact_index, None);
            assert!(
                r.fields.people.is_some(),
                "the ciphertext stays, unreadable"
            );
            assert!(st.event_key_ids(id).unwrap().is_empty());
            assert!(st
                .find_by_contact_index(&[n; 32], &audit("find"))
                .unwrap()
                .is_empty());
        }
        assert_eq!(
            st.destroy_data_keys(&keys, later, &[]).unwrap(),
            0,
            "already destroyed"
        );
        assert_eq!(st.count_data_keys().unwrap(), (0, 3), "{}", s.name);
    });
}

#[test]
fn a_batch_is_answered_and_audited_in_the_order_sent() {
    on_every_backend(|s| {
        let st = &s.store;
        let batch: Vec<NewReport> = (1..=40).map(|n| report(n, None, &[])).collect();
        let ids: Vec<EventId> = batch.iter().map(|r| r.event.event.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_by_key(|i| i.as_uuid());
        assert_ne!(ids, sorted, "the test needs ids out of order");
        let before = st.audit_head().unwrap().seq;
        let out = st.insert_reports(&batch).unwrap();
        let got: Vec<EventId> = out.iter().map(|o| o.event_id).collect();
        assert_eq!(got, ids, "{}", s.name);
        let refs: Vec<String> = out.iter().map(|o| o.reference.clone()).collect();
        let want: Vec<String> = (1..=40).map(|n| format!("REF{n:02}")).collect();
        assert_eq!(refs, want);
        let mut audited = Vec::new();
        st.scan_audit(&mut |e| {
            if e.seq > before {
                audited.push((e.draft.action.clone(), e.draft.target_id.clone()));
            }
            Ok(())
        })
        .unwrap();
        let want: Vec<(String, String)> = ids
            .iter()
            .map(|i| ("report.intake".to_string(), i.to_string()))
            .collect();
        assert_eq!(audited, want, "{}", s.name);
    });
}

/// One batch of new reports, a resent one (stored before under its external id), one sent
/// twice in the batch and one with a file: each answered as if sent alone, in order, with
/// its receipt stored.
#[test]
fn one_batch_of_new_resent_and_repeated_reports_keeps_each_receipt() {
    on_every_backend(|s| {
        let st = &s.store;
        st.insert_reports(&[report(1, Some("x1"), &[])]).unwrap();
        let before = st.audit_head().unwrap().seq;
        let batch = [
            report(2, None, &[]),
            report(3, Some("x1"), &[]),
            report(4, Some("x4"), &[]),
            report(5, Some("x4"), &[]),
            report(6, None, &[("f.jpg", b"\xff\xd8six")]),
        ];
        let out = st.insert_reports(&batch).unwrap();
        let got: Vec<(EventId, bool, &str, u64)> = out
            .iter()
            .map(|o| {
                (
                    o.event_id,
                    o.existed,
                    o.reference.as_str(),
                    o.attachments_added,
                )
            })
            .collect();
        let id = |n: u32| EventId::derived(&format!("report:{n}"));
        assert_eq!(
            got,
            [
                (id(2), false, "REF02", 0),
                (id(1), true, "REF01", 0),
                (id(4), false, "REF04", 0),
                (id(4), true, "REF04", 0),
                (id(6), false, "REF06", 1),
            ],
            "{}",
            s.name
        );
        for (reference, status) in [
            ("REF02", Some("unverified")),
            ("REF04", Some("unverified")),
            ("REF06", Some("unverified")),
            ("REF03", None),
            ("REF05", None),
        ] {
            assert_eq!(
                st.report_status(reference).unwrap().as_deref(),
                status,
                "{}: {reference}",
                s.name
            );
        }
        let receipt = st.get_receipt(id(2)).unwrap().unwrap();
        assert_eq!(
            (receipt.sender_hash, receipt.raw_text.as_deref()),
            (Some(vec![2; 32]), Some("KILL 2 somewhere")),
            "{}",
            s.name
        );
        assert!(st.get_event(id(3)).unwrap().is_none());
        assert!(st.get_event(id(5)).unwrap().is_none());
        let mut audited = Vec::new();
        st.scan_audit(&mut |e| {
            if e.seq > before {
                audited.push(e.draft.action.clone());
            }
            Ok(())
        })
        .unwrap();
        let want =
            ["intake", "resubmit", "intake", "resubmit", "intake"].map(|a| format!("report.{a}"));
        assert_eq!(audited, want, "{}", s.name);
    });
}
