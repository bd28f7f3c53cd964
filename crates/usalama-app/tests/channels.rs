//! The channels' use-cases on every backend, against the real demo boundaries: reports
//! checked field by field, placed by point, code or name, stored unverified with a
//! reference; SMS and OpenRosa submissions; and bad input refused with nothing stored.

use std::sync::Arc;
use usalama_app::{
    App, AppError, FixedClock, ItemOutcome, OpenRosaOutcome, PersonInput, PlacePolicy, Placement,
    Principal, ReportInput, ReportStatus, SmsInput, SmsOutcome, SubmitMode,
};
use usalama_domain::{AdminLevel, Channel, Role, VerificationStatus};
use usalama_ingest::BoundaryFields;
use usalama_store::{Attachment, EventQuery};
use usalama_test_support::{stores, t0, TestStore, DEMO_BOUNDARIES};

fn app(s: &TestStore) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json.as_bytes(),
            level,
            &BoundaryFields::default(),
        )
        .unwrap();
    }
    app
}

fn reporter() -> Principal {
    Principal::Token {
        label: "monitors".into(),
        role: Role::Reporter,
        org: usalama_domain::DEFAULT_ORG,
    }
}

/// A valid report at Bambari's centroid (lat, lon as text).
fn valid(app: &App) -> ReportInput {
    let bambari = app.resolve_locality("CF4311").unwrap();
    let (lon, lat) = bambari.centroid.unwrap();
    ReportInput {
        category: Some("armed_violence".into()),
        occurred_start: Some("2023-11-10".into()),
        latitude: Some(lat.to_string()),
        longitude: Some(lon.to_string()),
        killed: Some("3".into()),
        injured: Some("0".into()),
        displaced: Some("120".into()),
        description: Some("Tirs près du marché; إطلاق نار قرب السوق; Âla gbânzi.".into()),
        people: vec![PersonInput {
            name: Some("Zoé Ngaïkoumon".into()),
            age: Some("34".into()),
            sex: Some("female".into()),
            role: Some("witness".into()),
        }],
        reporter_contact: Some("+000 000".into()),
        ..Default::default()
    }
}

fn stored(o: &ItemOutcome) -> &usalama_app::Receipt {
    match o {
        ItemOutcome::Stored(r) => r,
        other => panic!("not stored: {other:?}"),
    }
}

fn fields(o: &ItemOutcome) -> Vec<String> {
    match o {
        ItemOutcome::Refused(e) => e.iter().map(|e| e.field.clone()).collect(),
        other => panic!("not refused: {other:?}"),
    }
}

fn count(app: &App, source: &str) -> u64 {
    app.store()
        .list_events(&EventQuery {
            source: Some(source.into()),
            ..Default::default()
        })
        .unwrap()
        .total
}

fn submit(app: &App, items: Vec<ReportInput>, mode: SubmitMode) -> Vec<ItemOutcome> {
    app.submit_reports(&reporter(), Channel::Api, items, mode, PlacePolicy::Strict)
        .unwrap()
}

#[test]
fn channels_on_every_backend() {
    for s in stores() {
        let app = app(&s);
        reports_are_checked_placed_and_stored(&app);
        bad_input_is_refused_by_field_and_nothing_is_half_stored(&app);
        place_names_go_through_the_gazetteer(&app);
        sms_reports(&app);
        openrosa_submissions(&app);
        eprintln!("channel checks passed on {}", s.name);
    }
}

fn reports_are_checked_placed_and_stored(app: &App) {
    let out = submit(app, vec![valid(app)], SubmitMode::AllOrNothing);
    let r = stored(&out[0]);
    assert_eq!(r.placement, Placement::Point);
    assert_eq!(r.reference.len(), 11);
    let e = app.store().get_event(r.id).unwrap().unwrap();
    assert_eq!(e.event.status, VerificationStatus::Unverified);
    assert_eq!(e.event.channel, Channel::Api);
    assert_eq!(e.event.source, "api");
    assert_eq!(e.event.casualties.killed_best, Some(3));
    assert_eq!(e.event.casualties.displaced, Some(120));
    assert_eq!(e.event.meta.created_by.as_deref(), Some("token:monitors"));
    assert_eq!(
        e.event.description.as_deref(),
        Some("Tirs près du marché; إطلاق نار قرب السوق; Âla gbânzi."),
        "any script round-trips"
    );
    assert!(
        e.event.people.is_empty(),
        "people are sealed, not in the event"
    );
    let personal = app
        .personal_data(&Principal::Operator, r.id)
        .unwrap()
        .unwrap();
    assert_eq!(personal.people[0].name.as_deref(), Some("Zoé Ngaïkoumon"));
    assert_eq!(personal.reporter_contact.as_deref(), Some("+000 000"));
    let adm1 = app.resolve_locality("CF43").map(|l| l.id).unwrap();
    assert_eq!(e.path.at(AdminLevel::Adm1), Some(adm1), "placed in Ouaka");
    assert_eq!(
        app.report_status(&r.reference.to_lowercase()).unwrap(),
        Some(ReportStatus::Received)
    );
    assert_eq!(app.report_status("00000-00000").unwrap(), None);
    assert_eq!(app.report_status("garbage").unwrap(), None);

    // The web form takes anonymous reports; the other channels need a caller.
    let web = app
        .submit_reports(
            &Principal::Anonymous,
            Channel::WebForm,
            vec![valid(app)],
            SubmitMode::AllOrNothing,
            PlacePolicy::Strict,
        )
        .unwrap();
    let e = app.store().get_event(stored(&web[0]).id).unwrap().unwrap();
    assert_eq!(
        (e.event.channel, e.event.source.as_str()),
        (Channel::WebForm, "web")
    );
    assert_eq!(e.event.meta.created_by, None);
    assert!(matches!(
        app.submit_reports(
            &Principal::Anonymous,
            Channel::Api,
            vec![valid(app)],
            SubmitMode::AllOrNothing,
            PlacePolicy::Strict
        ),
        Err(AppError::Unauthenticated)
    ));

    // The client's own id makes a resend idempotent.
    let mut once = valid(app);
    once.external_id = Some("phone-7:42".into());
    let a = submit(app, vec![once.clone()], SubmitMode::AllOrNothing);
    let b = submit(app, vec![once], SubmitMode::AllOrNothing);
    assert_eq!(stored(&a[0]).id, stored(&b[0]).id);
    assert!(!stored(&a[0]).existed && stored(&b[0]).existed);
    assert_eq!(stored(&a[0]).reference, stored(&b[0]).reference);
}

fn bad_input_is_refused_by_field_and_nothing_is_half_stored(app: &App) {
    let before = count(app, "api");
    let with = |f: &dyn Fn(&mut ReportInput)| {
        let mut r = valid(app);
        f(&mut r);
        r
    };
    let cases: Vec<(ReportInput, Vec<&str>)> = vec![
        (with(&|r| r.latitude = Some("95".into())), vec!["latitude"]),
        (
            with(&|r| r.longitude = Some("-181".into())),
            vec!["longitude"],
        ),
        (with(&|r| r.longitude = None), vec!["longitude"]),
        (
            with(&|r| r.latitude = Some("north".into())),
            vec!["latitude"],
        ),
        (
            with(&|r| std::mem::swap(&mut r.latitude, &mut r.longitude)),
            vec!["latitude"],
        ),
        (
            with(&|r| r.occurred_start = Some("2023-11-20".into())),
            vec!["occurred_start"],
        ),
        (
            with(&|r| r.occurred_start = Some("2023-02-30".into())),
            vec!["occurred_start"],
        ),
        (
            with(&|r| r.occurred_start = Some("1850-01-01".into())),
            vec!["occurred_start"],
        ),
        (
            with(&|r| r.occurred_end = Some("2023-11-01".into())),
            vec!["occurred_end"],
        ),
        (with(&|r| r.occurred_start = None), vec!["occurred_start"]),
        (with(&|r| r.killed = Some("-1".into())), vec!["killed"]),
        (with(&|r| r.injured = Some("2.5".into())), vec!["injured"]),
        (
            with(&|r| r.displaced = Some("many".into())),
            vec!["displaced"],
        ),
        (
            with(&|r| r.category = Some("weather".into())),
            vec!["category"],
        ),
        (with(&|r| r.category = None), vec!["category"]),
        (
            with(&|r| r.people[0].age = Some("200".into())),
            vec!["people[0].age"],
        ),
        (
            with(&|r| r.people[0].sex = Some("unknown".into())),
            vec!["people[0].sex"],
        ),
        (
            with(&|r| r.description = Some("nul \u{0} byte".into())),
            vec!["description"],
        ),
        (
            with(&|r| r.description = Some("x".repeat(20_001))),
            vec!["description"],
        ),
        (
            with(&|r| {
                r.killed = Some("-2".into());
                r.category = Some("nope".into());
            }),
            vec!["category", "killed"],
        ),
    ];
    for (input, want) in cases {
        let out = submit(app, vec![input.clone()], SubmitMode::AllOrNothing);
        let mut got = fields(&out[0]);
        got.sort();
        assert_eq!(got, want, "{input:?}");
    }
    // The swapped point is named as such.
    let out = submit(
        app,
        vec![with(&|r| std::mem::swap(&mut r.latitude, &mut r.longitude))],
        SubmitMode::AllOrNothing,
    );
    let ItemOutcome::Refused(e) = &out[0] else {
        panic!()
    };
    assert!(
        e[0].reason.contains("swapped") && e[0].reason.contains("Bambari"),
        "{e:?}"
    );
    assert_eq!(count(app, "api"), before, "nothing stored");

    // A batch: all or nothing, or partial.
    let batch = vec![
        valid(app),
        with(&|r| r.killed = Some("-1".into())),
        valid(app),
    ];
    let out = submit(app, batch.clone(), SubmitMode::AllOrNothing);
    assert_eq!(out[0], ItemOutcome::NotStored);
    assert_eq!(fields(&out[1]), vec!["killed"]);
    assert_eq!(count(app, "api"), before, "all or nothing");
    let out = submit(app, batch, SubmitMode::Partial);
    stored(&out[0]);
    stored(&out[2]);
    assert_eq!(fields(&out[1]), vec!["killed"]);
    assert_eq!(count(app, "api"), before + 2);
}

fn place_names_go_through_the_gazetteer(app: &App) {
    let named = |place: &str, code: Option<&str>| {
        let mut r = valid(app);
        r.latitude = None;
        r.longitude = None;
        r.place = Some(place.into());
        r.place_code = code.map(str::to_string);
        r
    };
    let out = submit(app, vec![named("BAMBARI", None)], SubmitMode::AllOrNothing);
    match &stored(&out[0]).placement {
        Placement::Locality(m) => assert_eq!(
            m.code.as_str(),
            "CF4311",
            "the commune inside the sub-prefecture"
        ),
        other => panic!("{other:?}"),
    }
    let e = app.store().get_event(stored(&out[0]).id).unwrap().unwrap();
    assert_eq!(e.event.place_name.as_deref(), Some("BAMBARI"));
    assert!(e.event.point.is_none());
    assert_eq!(
        e.path.at(AdminLevel::Adm1),
        Some(app.resolve_locality("CF43").unwrap().id)
    );
    let out = submit(
        app,
        vec![named("Préfecture de la Ouaka", None)],
        SubmitMode::AllOrNothing,
    );
    match &stored(&out[0]).placement {
        Placement::Locality(m) => assert_eq!(m.code.as_str(), "CF43"),
        other => panic!("{other:?}"),
    }
    // "Nola" names localities in two provinces: the API asks for a code.
    let out = submit(app, vec![named("Nola", None)], SubmitMode::AllOrNothing);
    assert_eq!(fields(&out[0]), vec!["place"]);
    let out = submit(
        app,
        vec![named("Nola", Some("CF1216"))],
        SubmitMode::AllOrNothing,
    );
    stored(&out[0]);
    let out = submit(
        app,
        vec![named("x", Some("XX99"))],
        SubmitMode::AllOrNothing,
    );
    assert_eq!(fields(&out[0]), vec!["place_code"]);
    // A village the gazetteer does not know is kept, unplaced, for an analyst.
    let out = submit(
        app,
        vec![named("Zzyzx village", None)],
        SubmitMode::AllOrNothing,
    );
    assert!(matches!(
        stored(&out[0]).placement,
        Placement::Unresolved(_)
    ));

    let found = app.search_places("bambar", 5).unwrap();
    assert_eq!(found[0].name, "Bambari");
    assert!(app.search_places("x", 0).is_err());
    assert!(app.search_places(&"x".repeat(101), 5).is_err());
}

fn sms_reports(app: &App) {
    let gw = Principal::Token {
        label: "sms-gateway".into(),
        role: Role::Reporter,
        org: usalama_domain::DEFAULT_ORG,
    };
    let sms = |text: &str, id: Option<&str>| SmsInput {
        from: "+236 70 12 34 56".into(),
        text: text.into(),
        timestamp: Some("1699900000000".into()),
        message_id: id.map(str::to_string),
    };
    let r = app
        .receive_sms(
            &gw,
            sms("KILL 3 BAMBARI shooting near the market", Some("m1")),
        )
        .unwrap();
    let SmsOutcome::Stored(receipt) = &r.outcome else {
        panic!("{r:?}")
    };
    assert!(r.reply.contains(&receipt.reference), "{}", r.reply);
    let e = app.store().get_event(receipt.id).unwrap().unwrap().event;
    assert_eq!(
        (e.channel, e.status),
        (Channel::Sms, VerificationStatus::Unverified)
    );
    assert_eq!(e.category, "violence_against_civilians");
    assert_eq!(e.casualties.killed_best, Some(3));
    assert_eq!(
        e.occurred_start.to_string(),
        "2023-11-13",
        "the phone's date"
    );
    assert_eq!(e.description, None, "the free text is sealed");
    assert!(e.locality.is_some());
    let rc = app.store().get_receipt(receipt.id).unwrap().unwrap();
    assert_eq!(rc.raw_text, None, "the message as received is sealed");
    assert_eq!(
        app.personal_data(&Principal::Operator, receipt.id)
            .unwrap()
            .unwrap()
            .raw_text
            .as_deref(),
        Some("KILL 3 BAMBARI shooting near the market")
    );
    assert_eq!(
        app.personal_data(&Principal::Operator, receipt.id)
            .unwrap()
            .unwrap()
            .sensitive_description
            .as_deref(),
        Some("shooting near the market")
    );
    let hash = rc.sender_hash.unwrap();
    assert_eq!(hash.len(), 32);
    assert_eq!(
        hash,
        app.sender_hash("+23670123456").unwrap(),
        "digits only"
    );
    assert_ne!(hash, app.sender_hash("+23670123457").unwrap());
    assert!(!String::from_utf8_lossy(&hash).contains("70123456"));

    // Re-delivered by the gateway: the same report.
    let again = app
        .receive_sms(
            &gw,
            sms("KILL 3 BAMBARI shooting near the market", Some("m1")),
        )
        .unwrap();
    assert!(matches!(&again.outcome, SmsOutcome::Stored(r) if r.existed && r.id == receipt.id));

    // French keyword, French reply; an unknown place is kept for an analyst.
    let fr = app
        .receive_sms(&gw, sms("TUÉ 2 Zzyzx attaque", None))
        .unwrap();
    assert!(
        fr.reply.contains("Zzyzx") && fr.reply.contains("reçu"),
        "{}",
        fr.reply
    );

    let before = count(app, "sms");
    for (text, field) in [
        ("HELLO there", "keyword"),
        ("KILL -2 Bambari", "count"),
        ("KILL 2", "place"),
        ("", "message"),
    ] {
        let r = app.receive_sms(&gw, sms(text, None)).unwrap();
        match &r.outcome {
            SmsOutcome::NotUnderstood(e) => assert_eq!(e.field, field, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
        assert!(r.reply.contains("KILL"), "{}", r.reply);
    }
    assert_eq!(count(app, "sms"), before);
    assert!(matches!(
        app.receive_sms(&Principal::Anonymous, sms("KILL 1 Bambari", None)),
        Err(AppError::Unauthenticated)
    ));
}

fn openrosa_submissions(app: &App) {
    app.set_password("monitor1", "correct horse battery", Role::Reporter)
        .unwrap();
    let who = app
        .authenticate_password("monitor1", "correct horse battery")
        .unwrap();
    assert!(matches!(
        app.authenticate_password("monitor1", "wrong password!"),
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        app.authenticate_password("nobody", "correct horse battery"),
        Err(AppError::Unauthenticated)
    ));
    let (form, version) = app.report_xform();
    assert!(form.contains(&version));
    let bambari = app.resolve_locality("CF4311").unwrap();
    let (lon, lat) = bambari.centroid.unwrap();
    let xml = format!(
        r#"<?xml version='1.0' ?><data id="usalama_report" version="{version}" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"><category>abduction</category><occurred_start>2023-11-12</occurred_start><location>{lat} {lon} 480.0 5.0</location><place/><killed/><injured>1</injured><displaced/><description>Enlèvement sur la route</description><people><name>X</name><age>12</age><sex>male</sex><role>victim</role></people><reporter_contact/><photo>1700000000000.jpg</photo><meta><instanceID>uuid:0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d</instanceID></meta></data>"#
    );
    let photo = Attachment {
        file_name: "1700000000000.jpg".into(),
        content_type: "image/jpeg".into(),
        bytes: b"\xff\xd8\xff\xe0 jpeg".to_vec(),
    };
    let out = app
        .submit_openrosa(&who, xml.as_bytes(), vec![photo.clone()])
        .unwrap();
    let OpenRosaOutcome::Stored(r) = out else {
        panic!("{out:?}")
    };
    let e = app.store().get_event(r.id).unwrap().unwrap();
    assert_eq!(
        (e.event.channel, e.event.status),
        (Channel::OpenRosa, VerificationStatus::Unverified)
    );
    assert_eq!(
        e.event.external_id.as_deref(),
        Some("uuid:0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d")
    );
    assert_eq!(
        app.personal_data(&Principal::Operator, r.id)
            .unwrap()
            .unwrap()
            .people
            .len(),
        1
    );
    assert_eq!(e.event.meta.created_by.as_deref(), Some("monitor1"));
    assert!(e.path.deepest().is_some());
    let stored = app.store().list_attachments(r.id).unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].bytes, photo.bytes, "stored encrypted");
    let files = app.attachments(&Principal::Operator, r.id).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].bytes, photo.bytes);

    // The same instance again: the same report, nothing duplicated.
    let again = app
        .submit_openrosa(&who, xml.as_bytes(), vec![photo])
        .unwrap();
    assert!(matches!(again, OpenRosaOutcome::Stored(ref s) if s.existed && s.id == r.id));
    assert_eq!(app.store().list_attachments(r.id).unwrap().len(), 1);

    let refused = |xml: &str| match app.submit_openrosa(&who, xml.as_bytes(), vec![]).unwrap() {
        OpenRosaOutcome::Refused(e) => e[0].field.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused("<data id=\"usalama_report\"><category>"),
        "xml_submission_file"
    );
    assert_eq!(refused("<data id=\"other_form\"/>"), "form");
    assert_eq!(
        refused("<data id=\"usalama_report\"><category>torture</category><occurred_start>2023-01-01</occurred_start><location>1</location></data>"),
        "location"
    );
    assert!(matches!(
        app.submit_openrosa(&Principal::Anonymous, xml.as_bytes(), vec![]),
        Err(AppError::Unauthenticated)
    ));
}
