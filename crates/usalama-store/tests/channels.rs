//! The channels' storage on every backend: reports stored with receipts and attachments in
//! one transaction, resubmissions recognised, status by reference, settings written once.

use usalama_domain::{Channel, Dimension, EventId, LocalityPath, VerificationStatus};
use usalama_store::{Attachment, NewReport, PlacedEvent, ReportReceipt};
use usalama_test_support::{event, on_every_backend, t0, taxonomy};

fn report(n: u32, external: Option<&str>, files: &[(&str, &[u8])]) -> NewReport {
    let mut d = event(n, "2023-05-01", "armed_violence", Dimension::Lives);
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
