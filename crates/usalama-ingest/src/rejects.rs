//! The rejects file of an import: one CSV line per problem with the row, the field and the
//! reason, followed by the original row as it was in the input, so that an analyst can see
//! and fix what was refused. The input is read a second time, lazily, to copy the rows.
//!
//! Columns: `row`, `field`, `reason`, then the input's own header cells (CSV: its first
//! row; HXL: its hashtag row), or `feature` (the original feature as JSON) for GeoJSON.

use crate::csvin::CsvIn;
use crate::hxl::{is_hashtag_row, MAX_HEADER_ROWS};
use crate::json_file::JsonSource;
use crate::problem::{IngestError, Problem};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};

/// How the input's header is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectsLayout {
    /// The first row is the header (UCDP, ACLED).
    Csv,
    /// The header is the HXL hashtag row.
    Hxl,
}

fn by_row(problems: &[Problem]) -> BTreeMap<usize, Vec<&Problem>> {
    let mut m: BTreeMap<usize, Vec<&Problem>> = BTreeMap::new();
    for p in problems {
        m.entry(p.row).or_default().push(p);
    }
    m
}

fn write_err(e: impl std::fmt::Display) -> IngestError {
    IngestError::Read(format!("cannot write the rejects file: {e}"))
}

/// Writes the rejects of a CSV or HXL import, reading `input` again for the original
/// rows. Returns the number of lines written (one per problem).
pub fn write_csv_rejects<R: Read, W: Write>(
    input: R,
    layout: RejectsLayout,
    problems: &[Problem],
    out: W,
) -> Result<u64, IngestError> {
    let mut pending = by_row(problems);
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let mut rows = CsvIn::open(input)?;
    let mut header: Option<Vec<String>> = None;
    let mut lines = 0u64;
    let mut body: Vec<(usize, Vec<String>)> = Vec::new();
    // Find the header first (the hashtag row may come after text rows); rows before it
    // that have problems are kept to be written after the header line.
    let mut seen = 0;
    while header.is_none() {
        let Some(Ok((row, cells))) = rows.next_record() else {
            break;
        };
        seen += 1;
        let is_header = match layout {
            RejectsLayout::Csv => true,
            RejectsLayout::Hxl => is_hashtag_row(&cells) || seen >= MAX_HEADER_ROWS,
        };
        if is_header {
            header = Some(cells.clone());
        }
        if pending.contains_key(&row) {
            body.push((row, cells));
        }
    }
    let mut head = vec!["row".to_string(), "field".into(), "reason".into()];
    head.extend(header.unwrap_or_default());
    w.write_record(&head).map_err(write_err)?;
    let mut emit = |w: &mut csv::Writer<W>, row: usize, ps: &[&Problem], cells: &[String]| {
        for p in ps {
            let mut rec = vec![row.to_string(), p.field.clone(), p.reason.clone()];
            rec.extend(cells.iter().cloned());
            w.write_record(&rec).map_err(write_err)?;
            lines += 1;
        }
        Ok::<(), IngestError>(())
    };
    for (row, cells) in body {
        if let Some(ps) = pending.remove(&row) {
            emit(&mut w, row, &ps, &cells)?;
        }
    }
    while !pending.is_empty() {
        match rows.next_record() {
            Some(Ok((row, cells))) => {
                if let Some(ps) = pending.remove(&row) {
                    emit(&mut w, row, &ps, &cells)?;
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    for (row, ps) in std::mem::take(&mut pending) {
        emit(&mut w, row, &ps, &[])?;
    }
    w.flush().map_err(write_err)?;
    Ok(lines)
}

/// Writes the rejects of a JSON import: `row`, `field`, `reason`, `feature` (the rejected
/// GeoJSON feature or record, from a FeatureCollection's `features`, a UCDP API page's
/// `Result`, an ACLED API answer's `data` or a top-level array: `list` names the member the
/// import read, [`crate::ucdp::JSON_LIST`] or [`crate::acled::JSON_LIST`]), in the order of
/// `problems`. The file is read once more as the import read it, holding only the rejected
/// items; a feature is written with its `type`, `properties` and `geometry`.
pub fn write_geojson_rejects<W: Write>(
    json: &JsonSource,
    list: Option<&str>,
    problems: &[Problem],
    out: W,
) -> Result<u64, IngestError> {
    let wanted: HashSet<usize> = problems.iter().map(|p| p.row).collect();
    let mut items: HashMap<usize, String> = HashMap::new();
    let mut row = 0;
    crate::json::each_record(json.open()?, list, &mut |item| {
        row += 1;
        if !wanted.contains(&row) {
            return;
        }
        let text = match item {
            Ok(f) if f.is_feature => serde_json::json!({
                "type": "Feature",
                "properties": f.properties,
                "geometry": f.geometry,
            })
            .to_string(),
            Ok(f) => serde_json::Value::Object(f.properties).to_string(),
            Err(_) => String::new(),
        };
        items.insert(row, text);
    })?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["row", "field", "reason", "feature"])
        .map_err(write_err)?;
    let mut lines = 0;
    for p in problems {
        let feature = items.get(&p.row).map(String::as_str).unwrap_or_default();
        w.write_record([p.row.to_string().as_str(), &p.field, &p.reason, feature])
            .map_err(write_err)?;
        lines += 1;
    }
    w.flush().map_err(write_err)?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_original_rows_under_the_header() {
        let input = "id,best\n1,2\n2,x\n3,4\n4,-1\n";
        let problems = vec![
            Problem::new(3, "best", "'x' is not a whole number"),
            Problem::new(5, "best", "-1 is not a count"),
        ];
        let mut out = Vec::new();
        let n =
            write_csv_rejects(input.as_bytes(), RejectsLayout::Csv, &problems, &mut out).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "row,field,reason,id,best\n3,best,'x' is not a whole number,2,x\n5,best,-1 is not a count,4,-1\n"
        );
    }

    #[test]
    fn hxl_header_is_the_hashtag_row() {
        let input = "Title\n#date,#event+type\n2020-01-01,nonsense\n";
        let problems = vec![Problem::new(3, "#event+type", "unknown")];
        let mut out = Vec::new();
        write_csv_rejects(input.as_bytes(), RejectsLayout::Hxl, &problems, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "row,field,reason,#date,#event+type\n3,#event+type,unknown,2020-01-01,nonsense\n"
        );
    }

    #[test]
    fn geojson_rejects_carry_the_feature() {
        let json = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":null}]}"#;
        let mut out = Vec::new();
        let problems = [Problem::new(1, "category", "is empty")];
        write_geojson_rejects(&json.into(), None, &problems, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("row,field,reason,feature\n1,category,is empty,"));
        assert!(text.contains("\"\"a\"\":1"));
        assert!(text.contains("Feature"));
    }

    #[test]
    fn json_rejects_follow_the_problems_order_and_the_list_read() {
        let json = r#"{"success":true,"data":[{"id":"x1"},{"id":"x2"},7,{"id":"x4"}]}"#;
        let problems = [
            Problem::new(4, "event_date", "is empty"),
            Problem::new(2, "event_date", "is empty"),
            Problem::new(3, "record", "is not a JSON object"),
        ];
        let mut out = Vec::new();
        let n = write_geojson_rejects(&json.into(), Some("data"), &problems, &mut out).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "row,field,reason,feature\n\
             4,event_date,is empty,\"{\"\"id\"\":\"\"x4\"\"}\"\n\
             2,event_date,is empty,\"{\"\"id\"\":\"\"x2\"\"}\"\n\
             3,record,is not a JSON object,\n"
        );
    }
}
