//! Integration tests of the ACLED, HXL and GeoJSON event readers and of the export and
//! rejects writers, on the HXL sample files shipped in `data/samples/hxl/` (libhxl-python
//! test files, The Unlicense, and a synthetic incident list) and on generated files.

use chrono::{DateTime, Utc};
use usalama_domain::Taxonomy;
use usalama_ingest::hxl::read_hxl_header;
use usalama_ingest::{
    parse_taxonomy, read_acled_csv, read_events_geojson, read_hxl_csv, write_csv_rejects,
    EventWriter, ExportFormat, ExportPlace, ExportRecord, ImportRow, IngestError, Problem,
    ReadOptions, RejectsLayout, DEFAULT_TAXONOMY,
};

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../data/samples/hxl/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn taxonomy() -> Taxonomy {
    parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

#[test]
fn libhxl_files_hashtag_rows_are_found_and_activity_files_are_refused_whole() {
    for (file, row, first) in [
        ("libhxl_input-valid.csv", 3, "#sector+es"),
        ("libhxl_input-valid-latin1.csv", 3, "#sector+es"),
        ("libhxl_input-multiple-headers.csv", 3, "#org"),
        ("libhxl_input-date.csv", 2, "#date+reported"),
    ] {
        let h = read_hxl_header(&sample(file)[..]).unwrap();
        assert_eq!(h.row, row, "{file}");
        let tags: Vec<String> = h.columns.iter().flatten().map(|t| t.to_string()).collect();
        assert_eq!(tags[0], first, "{file}");
        assert!(matches!(
            read_hxl_csv(&sample(file)[..], &taxonomy(), "hxl", ReadOptions::at(now())).err(),
            Some(IngestError::MissingColumns(m)) if m.contains(&"#event+type".to_string())
        ));
    }
}

#[test]
fn synthetic_incidents_import_with_two_rejects() {
    let rows: Vec<Result<ImportRow, Problem>> = read_hxl_csv(
        &sample("incidents-synthetic.hxl.csv")[..],
        &taxonomy(),
        "hxl",
        ReadOptions::at(now()),
    )
    .unwrap()
    .collect();
    assert_eq!(rows.len(), 8);
    let ok: Vec<&ImportRow> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
    let bad: Vec<&Problem> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok.len(), 6);
    assert_eq!(
        bad.iter()
            .map(|p| (p.row, p.field.as_str()))
            .collect::<Vec<_>>(),
        vec![(10, "#event+type"), (11, "#date")]
    );
    let cats: Vec<&str> = ok.iter().map(|r| r.event.data.category.as_str()).collect();
    assert_eq!(
        cats,
        [
            "armed_violence",
            "violence_against_civilians",
            "abduction",
            "looting_property_destruction",
            "armed_violence",
            "food_insecurity"
        ]
    );
    assert_eq!(ok[1].place.adm1_code.as_deref(), Some("CF62"));
    assert_eq!(ok[1].event.data.occurred_start.to_string(), "2023-03-12");
    assert_eq!(ok[4].place.adm1_name.as_deref(), Some("MBOMOU"));
    assert_eq!(ok[4].place.adm2_name.as_deref(), Some("Ouango"));
    assert_eq!(ok[0].event.actors.len(), 2);

    let mut out = Vec::new();
    let problems: Vec<Problem> = bad.into_iter().cloned().collect();
    write_csv_rejects(
        &sample("incidents-synthetic.hxl.csv")[..],
        RejectsLayout::Hxl,
        &problems,
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("row,field,reason,#event +id,#date"));
    assert!(lines[1].starts_with("10,#event+type,"));
    assert!(lines[1].contains("S-007"));
    assert!(lines[2].contains("S-008"));
}

/// An ACLED file of `n` rows whose row `bad` (1-based data row) has an impossible date.
fn acled_file(n: usize, bad: usize) -> String {
    let mut s = String::from("event_id_cnty,event_date,event_type,sub_event_type,actor1,inter1,latitude,longitude,geo_precision,time_precision,fatalities,notes\n");
    for i in 1..=n {
        let date = if i == bad { "2023-02-30" } else { "2023-02-03" };
        s.push_str(&format!(
            "X{i},{date},Battles,Armed clash,Group {},2,{},{},1,1,{},\"Clash, number {i}\"\n",
            i % 7,
            4.0 + (i % 10) as f64 * 0.1,
            20.0 + (i % 13) as f64 * 0.1,
            i % 4
        ));
    }
    s
}

#[test]
fn a_thousand_acled_rows_with_one_bad_row() {
    let text = acled_file(1000, 500);
    let rows: Vec<_> = read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
        .unwrap()
        .collect();
    assert_eq!(rows.len(), 1000);
    let bad: Vec<&Problem> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0].row, bad[0].field.as_str()), (501, "event_date"));
}

#[test]
fn hxl_and_geojson_exports_read_back() {
    let text = acled_file(20, 0);
    let events: Vec<_> = read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
        .unwrap()
        .map(|r| r.unwrap().event.data.validate(&taxonomy()).unwrap())
        .collect();
    for format in [ExportFormat::Hxl, ExportFormat::GeoJson, ExportFormat::Csv] {
        let mut w = EventWriter::new(Vec::new(), format).unwrap();
        for e in &events {
            w.write(&ExportRecord::of_event(
                e,
                Some(ExportPlace {
                    code: "NER",
                    name: "Niger",
                }),
                [None, None, None],
                [Some("Group 1"), None],
            ))
            .unwrap();
        }
        let (out, n) = w.finish().unwrap();
        assert_eq!(n, 20);
        let back: Vec<ImportRow> = match format {
            ExportFormat::Hxl => read_hxl_csv(&out[..], &taxonomy(), "hxl", ReadOptions::at(now()))
                .unwrap()
                .map(Result::unwrap)
                .collect(),
            ExportFormat::GeoJson => read_events_geojson(
                std::str::from_utf8(&out).unwrap().into(),
                &taxonomy(),
                "geojson",
                ReadOptions::at(now()),
            )
            .unwrap()
            .map(Result::unwrap)
            .collect(),
            ExportFormat::Csv => continue,
        };
        assert_eq!(back.len(), 20);
        for (a, row) in events.iter().zip(&back) {
            let b = &row.event.data;
            assert_eq!(b.external_id.as_deref(), Some(a.id.to_string().as_str()));
            assert_eq!(
                (b.occurred_start, b.occurred_end, b.date_precision),
                (a.occurred_start, a.occurred_end, a.date_precision)
            );
            assert_eq!(b.category, a.category);
            assert_eq!(b.casualties, a.casualties);
            assert_eq!(b.point, a.point);
            assert_eq!(b.location_precision, a.location_precision);
            assert_eq!(b.description, a.description);
            if format == ExportFormat::Hxl {
                // `import hxl` reads the country an export names.
                assert_eq!(row.place.country.as_deref(), Some("Niger"));
            }
        }
    }
}
