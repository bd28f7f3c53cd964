//! The ACLED, HXL and GeoJSON imports and the exports, through the application layer on
//! every backend: placement by coordinates, P-codes and names on the real demo boundaries;
//! idempotent re-imports; one bad row in a thousand; UCDP and ACLED fatalities never
//! added together; exports that round-trip, carry no personal data and respect roles.

use std::sync::Arc;
use usalama_app::{App, AppError, DemoData, FixedClock, Principal};
use usalama_domain::{AdminLevel, Dimension, Person, Role};
use usalama_ingest::{DateOrder, ExportFormat};
use usalama_store::{EventQuery, PlacedEvent, Store};
use usalama_test_support::{event, on_every_backend, t0, TestStore, DEMO_BOUNDARIES, DEMO_EVENTS};

fn app(store: Arc<dyn Store>) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    App::new(store, taxonomy, Arc::new(FixedClock(t0())))
}

fn load_boundaries(app: &App) {
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json.as_bytes(),
            level,
            &Default::default(),
        )
        .unwrap();
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../data/samples/hxl/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A fresh, empty store of the same backend as `s`.
fn fresh_like(s: &TestStore) -> TestStore {
    if s.name == "postgres" {
        usalama_test_support::postgres().unwrap()
    } else {
        usalama_test_support::sqlite()
    }
}

#[test]
fn hxl_events_are_placed_by_coordinates_codes_and_names_and_reimport_adds_nothing() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        load_boundaries(&app);
        let file = sample("incidents-synthetic.hxl.csv");
        let r = app
            .import_hxl_csv(
                &Principal::Operator,
                &mut &file[..],
                "hxl",
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(
            r.to_string(),
            "imported 6, updated 0, unchanged 0, rejected 2",
            "{}",
            s.name
        );
        assert_eq!(
            r.problems.iter().map(|p| p.row).collect::<Vec<_>>(),
            vec![10, 11]
        );
        assert_eq!(r.unplaced, 1, "{}: only the row without a place", s.name);

        let who = Principal::Operator;
        let page = app
            .list_events(
                &who,
                &EventQuery {
                    source: Some("hxl".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let mut placed: Vec<(String, String)> = page
            .items
            .iter()
            .map(|v| {
                (
                    v.event.external_id.clone().unwrap(),
                    v.lineage
                        .last()
                        .map(|l| l.code.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect();
        placed.sort();
        assert_eq!(placed[1], ("S-002".into(), "CF62".into()));
        assert_eq!(placed[2], ("S-003".into(), "CF621".into()));
        assert_eq!(placed[3], ("S-004".into(), "CF52".into()));
        assert_eq!(placed[4], ("S-005".into(), "CF622".into()));
        assert_eq!(placed[5], ("S-006".into(), String::new()));
        assert!(
            placed[0].1.starts_with("CF61"),
            "{}: by coordinates in Basse-Kotto, got {}",
            s.name,
            placed[0].1
        );

        let again = app
            .import_hxl_csv(
                &Principal::Operator,
                &mut &file[..],
                "hxl",
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(
            again.to_string(),
            "imported 0, updated 0, unchanged 6, rejected 2"
        );
        // A changed row updates its event (and keeps history).
        let edited = String::from_utf8(file.clone())
            .unwrap()
            .replace("Two traders taken", "Three traders taken");
        let third = app
            .import_hxl_csv(
                &Principal::Operator,
                &mut edited.as_bytes(),
                "hxl",
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(
            third.to_string(),
            "imported 0, updated 1, unchanged 5, rejected 2"
        );
    });
}

/// An ACLED CSV of `n` rows; row `bad` (1-based data row) has an impossible date.
fn acled_csv(n: usize, bad: usize) -> String {
    let mut s = String::from("event_id_cnty,event_date,event_type,sub_event_type,actor1,inter1,actor2,inter2,latitude,longitude,geo_precision,time_precision,fatalities,notes\n");
    for i in 1..=n {
        let date = if i == bad { "2023-02-30" } else { "2023-02-03" };
        s.push_str(&format!(
            "X{i},{date},Battles,Armed clash,Group {},2,Military Forces of Xland,1,{},{},1,1,{},Clash {i}\n",
            i % 7,
            4.4 + (i % 10) as f64 * 0.01,
            18.5 + (i % 13) as f64 * 0.01,
            i % 4
        ));
    }
    s
}

#[test]
fn a_thousand_acled_rows_with_one_bad_row_import_999() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        let text = acled_csv(1000, 500);
        let mut calls = Vec::new();
        let r = app
            .import_acled_csv(&Principal::Operator, &mut text.as_bytes(), None, &mut |n| {
                calls.push(n)
            })
            .unwrap();
        assert_eq!(
            r.to_string(),
            "imported 999, updated 0, unchanged 0, rejected 1",
            "{}",
            s.name
        );
        assert_eq!(
            (r.problems[0].row, r.problems[0].field.as_str()),
            (501, "event_date")
        );
        assert_eq!(calls.last(), Some(&1000));
        let again = app
            .import_acled_csv(
                &Principal::Operator,
                &mut text.as_bytes(),
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(
            again.to_string(),
            "imported 0, updated 0, unchanged 999, rejected 1"
        );
    });
}

#[test]
fn ucdp_and_acled_fatalities_are_never_summed() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        load_boundaries(&app);
        // The same three incidents, as UCDP and as ACLED record them.
        let ucdp = "id,type_of_violence,side_a,side_b,latitude,longitude,where_prec,date_start,date_end,best,low,high\n\
            1,1,Government of Xland,Rebels,4.36,18.55,1,2021-06-01,2021-06-01,5,5,6\n\
            2,3,Rebels,Civilians,6.48,21.99,1,2021-06-02,2021-06-02,7,7,7\n\
            3,1,Government of Xland,Rebels,7.36,22.97,1,2021-06-03,2021-06-03,11,10,12\n";
        let acled = "event_id_cnty,event_date,event_type,sub_event_type,actor1,inter1,actor2,inter2,latitude,longitude,geo_precision,fatalities\n\
            A1,2021-06-01,Battles,Armed clash,Military Forces of Xland,1,Rebels,2,4.36,18.55,1,5\n\
            A2,02/06/2021,Violence against civilians,Attack,Rebels,2,Civilians (Xland),7,6.48,21.99,1,7\n\
            A3,3 June 2021,Battles,Armed clash,Military Forces of Xland,1,Rebels,2,7.36,22.97,1,11\n\
            A4,4 June 2021,Battles,Armed clash,Military Forces of Xland,1,Rebels,2,18.55,4.36,1,9\n";
        let who = Principal::Operator;
        app.import_ucdp_csv(&who, &mut ucdp.as_bytes(), None, &mut |_| {})
            .unwrap();
        let r = app
            .import_acled_csv(&who, &mut acled.as_bytes(), None, &mut |_| {})
            .unwrap();
        // The swapped point is flagged, not fixed (nor stored).
        assert_eq!(
            r.to_string(),
            "imported 3, updated 0, unchanged 0, rejected 1"
        );
        assert_eq!(
            (r.problems[0].row, r.problems[0].field.as_str()),
            (5, "latitude")
        );
        assert!(
            r.problems[0].reason.contains("(CF71"),
            "{}",
            r.problems[0].reason
        );
        let stats = app.public_stats().unwrap();
        assert_eq!(stats.sources.len(), 2);
        assert!(stats
            .sources
            .iter()
            .all(|c| c.events == 3 && c.fatalities == 23));
        assert_eq!(stats.total_events, 3, "{}", s.name);
        assert_eq!(stats.total_fatalities, 23, "{}: not 46", s.name);
        let placed: u64 = stats.adm1.iter().map(|c| c.fatalities).sum();
        assert_eq!(placed, 23);
        let by_year: u64 = stats.by_dimension_year.iter().map(|g| g.fatalities).sum();
        assert_eq!(by_year, 23);
        for source in ["acled", "ucdp-ged"] {
            let one = app.public_stats_for(Some(source)).unwrap();
            assert_eq!(one.source.as_deref(), Some(source));
            assert_eq!((one.total_events, one.total_fatalities), (3, 23));
        }
        assert!(matches!(
            app.public_stats_for(Some("nope")),
            Err(AppError::Invalid { field, .. }) if field == "source"
        ));
    });
}

/// A point outside every boundary that falls inside one once swapped is rejected only
/// when the row names no country or that boundary's country: a row of another country
/// (an event in Niger beside the boundaries of the Central African Republic) is
/// imported, unplaced. A point at 0, 0 is a placeholder, rejected.
#[test]
fn a_point_of_another_country_is_not_taken_for_a_swapped_one() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        load_boundaries(&app);
        let ged = "id,type_of_violence,side_a,side_b,latitude,longitude,where_prec,date_start,date_end,best,country\n\
            1,1,Government of Niger,JNIM,19.0716,8.4245,1,2021-06-01,2021-06-01,5,Niger\n\
            2,1,Government of Xland,Rebels,18.55,4.36,1,2021-06-02,2021-06-02,7,Central African Republic\n\
            3,1,Government of Xland,Rebels,18.55,4.36,1,2021-06-03,2021-06-03,7,cf\n\
            4,1,Government of Xland,Rebels,18.55,4.36,1,2021-06-04,2021-06-04,7,\n";
        let r = app
            .import_ucdp_csv(&Principal::Operator, &mut ged.as_bytes(), None, &mut |_| {})
            .unwrap();
        assert_eq!(
            r.to_string(),
            "imported 1, updated 0, unchanged 0, rejected 3",
            "{}: {:?}",
            s.name,
            r.problems
        );
        let rows: Vec<usize> = r.problems.iter().map(|p| p.row).collect();
        assert_eq!(rows, [3, 4, 5]);
        assert_eq!(r.unplaced, 1);
        // A point at 0, 0 is a placeholder, flagged whatever the country.
        let zero = "id,type_of_violence,latitude,longitude,date_start,best,country\n\
            9,1,0,0,2021-06-01,5,Niger\n";
        let r = app
            .import_ucdp_csv(
                &Principal::Operator,
                &mut zero.as_bytes(),
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(r.rejected(), 1);
        assert!(
            r.problems[0].reason.contains("placeholder"),
            "{:?}",
            r.problems
        );
    });
}

#[test]
fn empty_store_has_no_source_and_zero_counts() {
    let s = usalama_test_support::sqlite();
    let stats = app(s.store.clone()).public_stats().unwrap();
    assert_eq!(stats.source, None);
    assert!(stats.sources.is_empty());
    assert_eq!((stats.total_events, stats.total_fatalities), (0, 0));
}

fn export(
    app: &App,
    who: &Principal,
    q: &EventQuery,
    f: ExportFormat,
) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    app.export_events(who, q, f, &mut out)?;
    Ok(out)
}

#[test]
fn demo_exports_round_trip_into_a_fresh_store_without_personal_data() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        // A community report with personal data, which no export may carry.
        let mut report = event(1, "2022-12-31", "armed_violence", Dimension::Lives);
        report.source = "web".into();
        report.casualties.killed_best = Some(0);
        report.people = vec![Person {
            name: Some("Witness Qxzvyl".into()),
            ..Default::default()
        }];
        report.reporter_contact = Some("+000 555 0199".into());
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        s.store
            .upsert_events(
                &[PlacedEvent {
                    event: report.validate(&taxonomy).unwrap(),
                    path: Default::default(),
                }],
                t0(),
            )
            .unwrap();

        let who = Principal::Operator;
        let hxl = export(&app, &who, &EventQuery::default(), ExportFormat::Hxl).unwrap();
        let geojson = export(&app, &who, &EventQuery::default(), ExportFormat::GeoJson).unwrap();
        let csv = export(&app, &who, &EventQuery::default(), ExportFormat::Csv).unwrap();
        for out in [&hxl, &geojson, &csv] {
            let text = String::from_utf8_lossy(out);
            let leak = text
                .lines()
                .find(|l| l.contains("Qxzvyl") || l.contains("555 0199"));
            assert!(leak.is_none(), "{}: {leak:?}", s.name);
        }
        assert_eq!(csv_records(&csv), 1 + 1849, "{}: header and events", s.name);

        for (format, bytes) in [("hxl", &hxl), ("geojson", &geojson)] {
            let target = fresh_like(s);
            let other = crate::app(target.store.clone());
            let r = if format == "hxl" {
                other
                    .import_hxl_csv(&who, &mut &bytes[..], "hxl", None, &mut |_| {})
                    .unwrap()
            } else {
                other
                    .import_events_geojson(
                        &who,
                        std::str::from_utf8(bytes).unwrap().into(),
                        "geojson",
                        None,
                        &mut |_| {},
                    )
                    .unwrap()
            };
            assert_eq!(
                r.to_string(),
                "imported 1849, updated 0, unchanged 0, rejected 0",
                "{} {format}: {:?}",
                s.name,
                r.problems.first()
            );
            let stats = other.public_stats().unwrap();
            assert_eq!(stats.total_events, 1849);
            assert_eq!(stats.total_fatalities, 14_948, "{} {format}", s.name);
            // The same file again adds nothing.
            let again = if format == "hxl" {
                other
                    .import_hxl_csv(&who, &mut &bytes[..], "hxl", None, &mut |_| {})
                    .unwrap()
            } else {
                other
                    .import_events_geojson(
                        &who,
                        std::str::from_utf8(bytes).unwrap().into(),
                        "geojson",
                        None,
                        &mut |_| {},
                    )
                    .unwrap()
            };
            assert_eq!(again.unchanged, 1849);
        }

        // Filters: a province and a period.
        let bangui = app.resolve_locality("CF71").unwrap();
        let q = EventQuery {
            locality: Some((bangui.id, AdminLevel::Adm1)),
            from: Some("2013-01-01".parse().unwrap()),
            to: Some("2014-12-31".parse().unwrap()),
            ..Default::default()
        };
        let expected = app.list_events(&who, &q).unwrap().total;
        assert!(expected > 10);
        let out = export(&app, &who, &q, ExportFormat::GeoJson).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let features = v["features"].as_array().unwrap();
        assert_eq!(features.len() as u64, expected, "{}", s.name);
        assert!(features
            .iter()
            .all(|f| f["properties"]["adm1_code"] == "CF71"));

        // Permissions: anonymous callers and reporters may not export; analysts may.
        assert!(matches!(
            export(&app, &Principal::Anonymous, &q, ExportFormat::Csv),
            Err(AppError::Unauthenticated)
        ));
        let reporter = Principal::Token {
            label: "r".into(),
            role: Role::Reporter,
            org: usalama_domain::DEFAULT_ORG,
        };
        assert!(matches!(
            export(&app, &reporter, &q, ExportFormat::Csv),
            Err(AppError::Forbidden(_))
        ));
        let analyst = Principal::Token {
            label: "a".into(),
            role: Role::Analyst,
            org: usalama_domain::DEFAULT_ORG,
        };
        assert!(export(&app, &analyst, &q, ExportFormat::Csv).is_ok());
        // Importing needs an administrator.
        assert!(matches!(
            app.import_hxl_csv(&analyst, &mut &hxl[..], "hxl", None, &mut |_| {}),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            app.import_hxl_csv(&who, &mut &hxl[..], "Bad Source", None, &mut |_| {}),
            Err(AppError::Invalid { field, .. }) if field == "source"
        ));
    });
}

/// The number of CSV records (multi-line cells count once).
fn csv_records(csv: &[u8]) -> usize {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv);
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while rdr.read_byte_record(&mut rec).unwrap() {
        n += 1;
    }
    n
}

#[test]
fn geojson_events_without_geometry_are_placed_by_codes() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        load_boundaries(&app);
        let json = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":null,"properties":{"id":"g1","category":"Not enough food","date":"2023-07","adm2_code":"CF621"}},
          {"type":"Feature","geometry":{"type":"Point","coordinates":[18.55,4.36]},"properties":{"id":"g2","category":"armed_violence","date":"2023-07-02","killed":2}},
          {"type":"Feature","geometry":null,"properties":{"id":"g3","category":"nonsense","date":"2023-07-02"}}
        ]}"#;
        let r = app
            .import_events_geojson(
                &Principal::Operator,
                json.into(),
                "partner-x",
                None,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(
            r.to_string(),
            "imported 2, updated 0, unchanged 0, rejected 1"
        );
        assert_eq!(r.unplaced, 0, "{}", s.name);
        let g1 = app
            .list_events(
                &Principal::Operator,
                &EventQuery {
                    source: Some("partner-x".into()),
                    category: Some("food_insecurity".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            g1.items[0].lineage.last().map(|l| l.code.to_string()),
            Some("CF621".into())
        );
    });
}

#[test]
fn exports_name_each_events_country_from_its_boundaries_or_its_source() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        load_boundaries(&app);
        let file = std::fs::read(format!(
            "{}/../../data/samples/ucdpged_sample1000.csv",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        app.import_ucdp_csv(&Principal::Operator, &mut &file[..], None, &mut |_| {})
            .unwrap();
        let out = export(
            &app,
            &Principal::Operator,
            &EventQuery::default(),
            ExportFormat::Csv,
        )
        .unwrap();
        let mut rows = csv::Reader::from_reader(&out[..]);
        let head = rows.headers().unwrap().clone();
        let col = |name: &str| head.iter().position(|h| h == name).unwrap();
        let (code, name, adm1) = (col("country_code"), col("country_name"), col("adm1_code"));
        let mut by_name = std::collections::BTreeMap::new();
        let mut in_car = 0;
        for r in rows.records() {
            let r = r.unwrap();
            if r[adm1].starts_with("CF") {
                // Placed by the boundaries: their country, with its ISO code and the
                // name they give it.
                assert_eq!(&r[code], "CAF", "{}", s.name);
                assert_eq!(&r[name], "République centrafricaine", "{}", s.name);
                in_car += 1;
            } else {
                by_name.insert(r[name].to_string(), r[code].to_string());
            }
        }
        assert_eq!(in_car, 6, "{}", s.name);
        // Elsewhere, the country the GED row names, with its ISO code.
        for (ged, iso) in [
            ("Syria", "SYR"),
            ("DR Congo (Zaire)", "COD"),
            ("Myanmar (Burma)", "MMR"),
            ("Yemen (North Yemen)", "YEM"),
            ("Bosnia-Herzegovina", "BIH"),
            ("Niger", "NER"),
        ] {
            assert_eq!(by_name.get(ged).map(String::as_str), Some(iso), "{ged}");
        }
        assert!(!by_name.contains_key(""), "every event names its country");
    });
}

/// A file whose dates could each be read day first or month first, and none of which tells
/// which: the import reads them day first and its report says so, for the person importing.
#[test]
fn an_import_notes_dates_it_read_day_first_without_a_date_telling_the_order() {
    on_every_backend(|s| {
        let app = app(s.store.clone());
        let file = "Id,When,What\n#event+id,#date,#event+type\nU-1,05/01/2023,Armed clash\nU-2,06/02/2023,Armed clash\n";
        let import = |order: Option<DateOrder>| {
            app.import_hxl_csv(
                &Principal::Operator,
                &mut file.as_bytes(),
                "hxl",
                order,
                &mut |_| {},
            )
            .unwrap()
        };
        // The stored events' first days, in order, and the first event's id.
        let starts = || {
            let page = app.store().list_events(&EventQuery::default()).unwrap();
            let mut days: Vec<String> = page
                .items
                .iter()
                .map(|e| e.event.occurred_start.to_string())
                .collect();
            days.sort();
            (days, page.items[0].event.id)
        };
        let r = import(None);
        assert_eq!(r.imported, 2, "{}", s.name);
        assert_eq!(r.notes.len(), 1, "{}: {:?}", s.name, r.notes);
        assert!(r.notes[0].contains("column #date"), "{:?}", r.notes);
        assert!(r.notes[0].contains("read day first"), "{:?}", r.notes);
        assert_eq!(starts().0, ["2023-01-05", "2023-02-06"], "{}", s.name);

        // Told the file writes them month first, the same file again corrects both events
        // (each keeps its history) and says nothing more.
        let again = import(Some(DateOrder::MonthFirst));
        assert_eq!(
            (again.imported, again.updated, again.unchanged),
            (0, 2, 0),
            "{}",
            s.name
        );
        assert!(again.notes.is_empty(), "{}: {:?}", s.name, again.notes);
        let (days, id) = starts();
        assert_eq!(days, ["2023-05-01", "2023-06-02"], "{}", s.name);
        let history = app.store().event_history(id).unwrap();
        let moved = history
            .iter()
            .flat_map(|h| &h.changes)
            .find(|c| c.field == "occurred_start")
            .unwrap_or_else(|| panic!("{}: {history:?}", s.name));
        let change = (moved.from.as_deref(), moved.to.as_deref());
        assert!(
            [
                (Some("2023-01-05"), Some("2023-05-01")),
                (Some("2023-02-06"), Some("2023-06-02"))
            ]
            .contains(&change),
            "{}: {moved:?}",
            s.name
        );
    });
}
