//! Property tests: arbitrary bytes and arbitrary CSV-like text fed to every CSV reader
//! (UCDP GED, ACLED, HXL), to the JSON readers (GeoJSON events, GED and ACLED records,
//! HXL JSON) and to the rejects writers never make them panic; each row ends as an event
//! or a problem naming its row.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use usalama_domain::Taxonomy;
use usalama_ingest::{
    hxl_json_to_csv, parse_taxonomy, read_acled_csv, read_acled_json, read_events_geojson,
    read_ged_csv, read_ged_json, read_hxl_csv, write_csv_rejects, write_geojson_rejects, Problem,
    ReadOptions, RejectsLayout, DEFAULT_TAXONOMY,
};

fn taxonomy() -> Taxonomy {
    parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

/// Cells drawn from values the readers care about, plus arbitrary text.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2023-02-03".to_string()),
        Just("31/02/2023".to_string()),
        Just("15 March 2019".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("NaN".to_string()),
        Just("99999999999999999999".to_string()),
        Just("Battles".to_string()),
        Just("armed_violence".to_string()),
        Just("\"".to_string()),
        Just("#event+type".to_string()),
        Just("#date".to_string()),
        Just("#geo+lat".to_string()),
        "\\PC{0,12}",
        "[0-9.,-]{0,8}",
    ]
}

fn header_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id".to_string()),
        Just("event_id_cnty".to_string()),
        Just("EVENT_DATE".to_string()),
        Just("event_type".to_string()),
        Just("latitude".to_string()),
        Just("longitude".to_string()),
        Just("type_of_violence".to_string()),
        Just("date_start".to_string()),
        Just("best".to_string()),
        Just("fatalities".to_string()),
        Just("#date".to_string()),
        Just("#event +type".to_string()),
        Just("#affected+killed".to_string()),
        Just("#geo+lat".to_string()),
        Just("#geo+lon".to_string()),
        Just("#adm1+code".to_string()),
        "\\PC{0,8}",
    ]
}

/// A CSV-like file: a few header rows and data rows joined with a delimiter.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![",", ";", "\t"]),
        prop::collection::vec(prop::collection::vec(header_cell(), 0..8), 0..3),
        prop::collection::vec(prop::collection::vec(cell(), 0..10), 0..8),
    )
        .prop_map(|(d, heads, rows)| {
            heads
                .into_iter()
                .chain(rows)
                .map(|r| r.join(d))
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes()
        })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..400), csv_text()]
}

fn check_rows<T>(rows: impl Iterator<Item = Result<T, Problem>>) {
    for r in rows.take(100) {
        if let Err(p) = r {
            assert!(p.row >= 1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn ucdp_csv_never_panics(bytes in any_input()) {
        if let Ok(rows) = read_ged_csv(&bytes[..], &taxonomy(), ReadOptions::at(now())) {
            check_rows(rows);
        }
    }

    #[test]
    fn acled_csv_never_panics(bytes in any_input()) {
        if let Ok(rows) = read_acled_csv(&bytes[..], &taxonomy(), ReadOptions::at(now())) {
            check_rows(rows);
        }
    }

    #[test]
    fn hxl_csv_never_panics(bytes in any_input()) {
        if let Ok(rows) = read_hxl_csv(&bytes[..], &taxonomy(), "hxl", ReadOptions::at(now())) {
            check_rows(rows);
        }
        let problems = vec![Problem::new(2, "x", "y"), Problem::new(9, "x", "y")];
        let _ = write_csv_rejects(&bytes[..], RejectsLayout::Hxl, &problems, Vec::new());
    }

    #[test]
    fn geojson_events_never_panic(s in "\\PC{0,200}", killed in any::<i64>(), lat in any::<f64>(), date in "\\PC{0,12}") {
        let _ = read_events_geojson(s.as_str().into(), &taxonomy(), "geojson", ReadOptions::at(now())).map(Iterator::count);
        let doc = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lat, lat]},
             "properties": {"category": "armed_violence", "date": date, "killed": killed}}
        ]});
        let rows = read_events_geojson(doc.to_string().into(), &taxonomy(), "geojson", ReadOptions::at(now()));
        prop_assert!(rows.map(|r| r.count() == 1).unwrap_or(false));
    }

    #[test]
    fn json_records_never_panic(
        names in prop::collection::vec(header_cell(), 0..8),
        rows in prop::collection::vec(prop::collection::vec(cell(), 0..8), 0..6),
        numbers in any::<bool>(),
        s in "\\PC{0,200}",
    ) {
        // Records made of the readers' own names and values, as text or as numbers.
        let records: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                names
                    .iter()
                    .zip(r)
                    .map(|(n, v)| {
                        let v = match v.parse::<f64>().ok().filter(|_| numbers) {
                            Some(x) => serde_json::json!(x),
                            None => serde_json::json!(v),
                        };
                        (n.trim_start_matches('#').to_string(), v)
                    })
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            })
            .collect();
        let problems = vec![Problem::new(1, "x", "y"), Problem::new(9, "x", "y")];
        for doc in [
            serde_json::json!({"TotalCount": 9, "Result": records}).to_string(),
            serde_json::json!({"success": true, "data": records}).to_string(),
            serde_json::Value::from(records.clone()).to_string(),
            s.clone(),
        ] {
            if let Ok(read) = read_ged_json(doc.as_str().into(), &taxonomy(), ReadOptions::at(now())) {
                check_rows(read);
            }
            if let Ok(rows) = read_acled_json(doc.as_str().into(), &taxonomy(), ReadOptions::at(now())) {
                check_rows(rows);
            }
            for list in [None, Some("Result"), Some("data")] {
                let _ = write_geojson_rejects(&doc.as_str().into(), list, &problems, Vec::new());
            }
        }
        // HXL JSON: the rows as arrays (the names as the hashtag row) and as objects.
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .map(|r| names.iter().cloned().zip(r.iter().map(|v| v.clone().into())).collect())
            .collect();
        let arrays: Vec<Vec<String>> = std::iter::once(names).chain(rows).collect();
        for doc in [serde_json::json!(arrays).to_string(), serde_json::json!(objects).to_string(), s] {
            let mut csv = Vec::new();
            if hxl_json_to_csv(&doc.as_str().into(), &mut csv).is_ok() {
                if let Ok(rows) = read_hxl_csv(&csv[..], &taxonomy(), "hxl", ReadOptions::at(now())) {
                    check_rows(rows);
                }
            }
        }
    }
}
