//! Writing events out: HXL-tagged CSV, GeoJSON and plain CSV, one event at a time so that
//! an export of any size takes constant memory.
//!
//! Every format carries the same columns ([`COLUMNS`]): the CSV header names, the HXL
//! hashtag row under a row of the same names, and the GeoJSON properties. Personal data
//! (the people involved, the reporter's contact, and who created a record, which would
//! identify a monitor) has no column: the writer never reads those fields. Text cells of the CSV and HXL output that a spreadsheet would run as a
//! formula (starting with `=`, `+`, `-`, `@`) are prefixed with an apostrophe.

use chrono::NaiveDate;
use std::io::{self, Write};
use std::str::FromStr;
use usalama_domain::{
    Casualties, DatePrecision, Dimension, Event, EventId, GeoPoint, LocationPrecision,
    VerificationStatus,
};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with a text header row and an HXL hashtag row.
    Hxl,
    /// A GeoJSON FeatureCollection of Point features (null geometry when unplaced).
    GeoJson,
    /// CSV with one header row.
    Csv,
}

impl ExportFormat {
    /// The lower-case name (`hxl`, `geojson`, `csv`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Hxl => "hxl",
            Self::GeoJson => "geojson",
            Self::Csv => "csv",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hxl" => Ok(Self::Hxl),
            "geojson" | "json" => Ok(Self::GeoJson),
            "csv" => Ok(Self::Csv),
            other => Err(format!("'{other}' is not one of hxl, geojson, csv")),
        }
    }
}

/// A locality in an exported record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportPlace<'a> {
    /// Its code (P-code; for a country its ISO code); empty when unknown (written as null).
    pub code: &'a str,
    /// Its name.
    pub name: &'a str,
}

/// One event to export: only the fields the formats write, borrowed, with the names the
/// caller looked up for it. Built from a whole [`Event`] ([`ExportRecord::of_event`]) or
/// from a narrow row read for the export alone, so that no per-event value is built.
#[derive(Debug, Clone, Copy)]
pub struct ExportRecord<'a> {
    /// The event's id.
    pub id: EventId,
    /// Its source.
    pub source: &'a str,
    /// Its id at the source.
    pub external_id: Option<&'a str>,
    /// The first day it may have happened.
    pub occurred_start: NaiveDate,
    /// The last day it may have happened.
    pub occurred_end: NaiveDate,
    /// How precise the dates are.
    pub date_precision: DatePrecision,
    /// Its category code.
    pub category: &'a str,
    /// Its human-security dimension.
    pub dimension: Dimension,
    /// Its country: the ISO 3166-1 alpha-3 code (or the boundaries' own code when it names
    /// no ISO country) and the name.
    pub country: Option<ExportPlace<'a>>,
    /// Its localities at ADM1, ADM2 and ADM3.
    pub adm: [Option<ExportPlace<'a>>; 3],
    /// The place name as reported.
    pub place_name: Option<&'a str>,
    /// Its point, when placed.
    pub point: Option<GeoPoint>,
    /// How precise the point is.
    pub location_precision: Option<LocationPrecision>,
    /// People killed, injured, abducted, displaced.
    pub casualties: Casualties,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
    /// The names of its first two actors (side A / side B).
    pub actors: [Option<&'a str>; 2],
    /// Its verification status.
    pub status: VerificationStatus,
    /// Its description.
    pub description: Option<&'a str>,
}

impl<'a> ExportRecord<'a> {
    /// The exported fields of `event`, with its country, localities and actor names.
    pub fn of_event(
        event: &'a Event,
        country: Option<ExportPlace<'a>>,
        adm: [Option<ExportPlace<'a>>; 3],
        actors: [Option<&'a str>; 2],
    ) -> Self {
        Self {
            id: event.id,
            source: &event.source,
            external_id: event.external_id.as_deref(),
            occurred_start: event.occurred_start,
            occurred_end: event.occurred_end,
            date_precision: event.date_precision,
            category: &event.category,
            dimension: event.dimension,
            country,
            adm,
            place_name: event.place_name.as_deref(),
            point: event.point,
            location_precision: event.location_precision,
            casualties: event.casualties,
            civilians_targeted: event.civilians_targeted,
            actors,
            status: event.status,
            description: event.description.as_deref(),
        }
    }
}

/// How many columns an export has.
const WIDTH: usize = 31;

/// The exported columns: CSV/GeoJSON name and HXL hashtag.
pub const COLUMNS: [(&str, &str); WIDTH] = [
    ("id", "#event+id"),
    ("source", "#meta+source"),
    ("external_id", "#meta+id"),
    ("occurred_start", "#date+start"),
    ("occurred_end", "#date+end"),
    ("date_precision", "#date+precision"),
    ("category", "#event+type"),
    ("dimension", "#event+dimension"),
    ("country_code", "#country+code"),
    ("country_name", "#country+name"),
    ("adm1_code", "#adm1+code"),
    ("adm1_name", "#adm1+name"),
    ("adm2_code", "#adm2+code"),
    ("adm2_name", "#adm2+name"),
    ("adm3_code", "#adm3+code"),
    ("adm3_name", "#adm3+name"),
    ("place_name", "#loc+name"),
    ("latitude", "#geo+lat"),
    ("longitude", "#geo+lon"),
    ("location_precision", "#geo+precision"),
    ("killed", "#affected+killed"),
    ("killed_low", "#affected+killed+min"),
    ("killed_high", "#affected+killed+max"),
    ("injured", "#affected+injured"),
    ("abducted", "#affected+abducted"),
    ("displaced", "#affected+displaced"),
    ("civilians_targeted", "#meta+civilians_targeted"),
    ("actor1", "#group+name+first"),
    ("actor2", "#group+name+second"),
    ("status", "#status"),
    ("description", "#description"),
];

/// One cell of a record, borrowed where it can be: written straight to the output, with
/// no JSON value or string built per cell.
#[derive(Debug, Clone, Copy)]
enum Cell<'a> {
    Null,
    Text(&'a str),
    Int(u64),
    Float(f64),
    Bool(bool),
}

/// The cells of a record, in [`COLUMNS`] order (null when unknown). `id` and `dates` hold
/// the text of the id and the two dates, which the cells borrow.
fn cells<'a>(r: &ExportRecord<'a>, id: &'a str, dates: &'a [String; 2]) -> [Cell<'a>; WIDTH] {
    let c = &r.casualties;
    let text = |p: Option<ExportPlace<'a>>, code: bool| {
        p.map(|p| if code { p.code } else { p.name })
            .filter(|t| !t.is_empty())
            .map_or(Cell::Null, Cell::Text)
    };
    let place = |i: usize, code: bool| text(r.adm[i], code);
    let opt_text = |s: Option<&'a str>| s.map(Cell::Text).unwrap_or(Cell::Null);
    let count = |n: Option<u32>| n.map(|n| Cell::Int(u64::from(n))).unwrap_or(Cell::Null);
    [
        Cell::Text(id),
        Cell::Text(r.source),
        opt_text(r.external_id),
        Cell::Text(&dates[0]),
        Cell::Text(&dates[1]),
        Cell::Text(r.date_precision.as_str()),
        Cell::Text(r.category),
        Cell::Text(r.dimension.as_str()),
        text(r.country, true),
        text(r.country, false),
        place(0, true),
        place(0, false),
        place(1, true),
        place(1, false),
        place(2, true),
        place(2, false),
        opt_text(r.place_name),
        r.point.map(|p| Cell::Float(p.lat())).unwrap_or(Cell::Null),
        r.point.map(|p| Cell::Float(p.lon())).unwrap_or(Cell::Null),
        r.location_precision
            .map(|p| Cell::Int(u64::from(p.code())))
            .unwrap_or(Cell::Null),
        count(c.killed_best),
        count(c.killed_low),
        count(c.killed_high),
        count(c.injured),
        count(c.abducted),
        count(c.displaced),
        Cell::Bool(r.civilians_targeted),
        opt_text(r.actors[0]),
        opt_text(r.actors[1]),
        Cell::Text(r.status.as_str()),
        opt_text(r.description),
    ]
}

/// Writes a cell as JSON (as `serde_json` writes the same value).
fn json_cell(out: &mut impl Write, v: Cell<'_>) -> io::Result<()> {
    match v {
        Cell::Null => out.write_all(b"null"),
        Cell::Text(s) => serde_json::to_writer(out, s).map_err(io::Error::other),
        Cell::Int(n) => serde_json::to_writer(out, &n).map_err(io::Error::other),
        Cell::Float(x) => serde_json::to_writer(out, &x).map_err(io::Error::other),
        Cell::Bool(b) => out.write_all(if b { b"true" } else { b"false" }),
    }
}

/// Puts a cell's CSV text in `buf`: text as is (guarded against formulas), numbers and
/// booleans as JSON writes them, empty for null.
fn csv_cell(buf: &mut Vec<u8>, v: Cell<'_>) -> io::Result<()> {
    buf.clear();
    match v {
        Cell::Null => {}
        Cell::Text(s) => {
            if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                buf.push(b'\'');
            }
            buf.extend_from_slice(s.as_bytes());
        }
        other => json_cell(buf, other)?,
    }
    Ok(())
}

enum Inner<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json { out: W, first: bool },
}

/// Writes events in one format, streaming.
pub struct EventWriter<W: Write> {
    inner: Inner<W>,
    written: u64,
    /// Reused for each CSV cell.
    buf: Vec<u8>,
    /// Reused for each GeoJSON feature, written out whole.
    line: Vec<u8>,
    /// Reused for the text of the two dates.
    dates: [String; 2],
    /// Column positions in the order of their names (GeoJSON properties are written
    /// sorted, as a JSON object of `serde_json` keeps them).
    order: [usize; WIDTH],
    /// Per position of `order`: the property's key as JSON, with its colon (and the comma
    /// before every key but the first), written once here instead of once per event.
    keys: Vec<Vec<u8>>,
}

fn io_err(e: csv::Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write> EventWriter<W> {
    /// Starts an export: writes the header rows (CSV, HXL) or opens the collection
    /// (GeoJSON).
    pub fn new(out: W, format: ExportFormat) -> io::Result<Self> {
        let inner = match format {
            ExportFormat::Csv | ExportFormat::Hxl => {
                let mut w = csv::WriterBuilder::new().flexible(false).from_writer(out);
                w.write_record(COLUMNS.iter().map(|c| c.0))
                    .map_err(io_err)?;
                if format == ExportFormat::Hxl {
                    w.write_record(COLUMNS.iter().map(|c| c.1))
                        .map_err(io_err)?;
                }
                Inner::Csv(Box::new(w))
            }
            ExportFormat::GeoJson => {
                let mut out = out;
                out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
                Inner::Json { out, first: true }
            }
        };
        let mut order = [0usize; WIDTH];
        for (i, o) in order.iter_mut().enumerate() {
            *o = i;
        }
        order.sort_by_key(|&i| COLUMNS[i].0);
        let mut keys = Vec::with_capacity(order.len());
        for (n, &i) in order.iter().enumerate() {
            let mut k = Vec::new();
            if n > 0 {
                k.push(b',');
            }
            json_cell(&mut k, Cell::Text(COLUMNS[i].0))?;
            k.push(b':');
            keys.push(k);
        }
        Ok(Self {
            inner,
            written: 0,
            buf: Vec::with_capacity(256),
            line: Vec::with_capacity(2048),
            dates: [String::with_capacity(10), String::with_capacity(10)],
            order,
            keys,
        })
    }

    /// Writes one event.
    pub fn write(&mut self, r: &ExportRecord<'_>) -> io::Result<()> {
        use std::fmt::Write as _;
        let mut id_text = [0u8; 36];
        let id: &str = r.id.as_uuid().hyphenated().encode_lower(&mut id_text);
        for (text, day) in self
            .dates
            .iter_mut()
            .zip([r.occurred_start, r.occurred_end])
        {
            text.clear();
            // Writing to a String cannot fail.
            let _ = write!(text, "{day}");
        }
        let vals = cells(r, id, &self.dates);
        match &mut self.inner {
            Inner::Csv(w) => {
                for v in vals {
                    csv_cell(&mut self.buf, v)?;
                    w.write_field(&self.buf).map_err(io_err)?;
                }
                w.write_record(None::<&[u8]>).map_err(io_err)?;
            }
            Inner::Json { out, first } => {
                // The keys of each object in sorted order, as `serde_json` writes them.
                let line = &mut self.line;
                line.clear();
                line.extend_from_slice(if *first { b"\n" } else { b",\n" });
                *first = false;
                line.extend_from_slice(b"{\"geometry\":");
                match r.point {
                    Some(p) => {
                        line.extend_from_slice(b"{\"coordinates\":[");
                        json_cell(line, Cell::Float(p.lon()))?;
                        line.push(b',');
                        json_cell(line, Cell::Float(p.lat()))?;
                        line.extend_from_slice(b"],\"type\":\"Point\"}");
                    }
                    None => line.extend_from_slice(b"null"),
                }
                line.extend_from_slice(b",\"id\":");
                json_cell(line, Cell::Text(id))?;
                line.extend_from_slice(b",\"properties\":{");
                for (key, &i) in self.keys.iter().zip(self.order.iter()) {
                    line.extend_from_slice(key);
                    json_cell(line, vals[i])?;
                }
                line.extend_from_slice(b"},\"type\":\"Feature\"}");
                out.write_all(line)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the export (closes the GeoJSON collection), flushes, and returns the writer
    /// and the number of events written.
    pub fn finish(self) -> io::Result<(W, u64)> {
        let out = match self.inner {
            Inner::Csv(w) => w
                .into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?,
            Inner::Json { mut out, .. } => {
                out.write_all(b"\n]}\n")?;
                out
            }
        };
        let mut out = out;
        out.flush()?;
        Ok((out, self.written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, Utc};
    use serde_json::{json, Map, Value};
    use usalama_domain::{
        Casualties, Category, Channel, DatePrecision, Dimension, EventData, EventId, GeoPoint,
        Person, RecordMeta, Taxonomy, VerificationStatus,
    };

    fn event(point: bool) -> Event {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let taxonomy = Taxonomy::new(
            vec![Category {
                code: "armed_violence".into(),
                dimension: Dimension::Lives,
                labels: [("en".to_string(), "x".to_string())].into(),
                sensitive: false,
            }],
            Default::default(),
            Default::default(),
        )
        .unwrap();
        EventData {
            id: EventId::derived("t:1"),
            source: "web".into(),
            external_id: None,
            channel: Channel::WebForm,
            occurred_start: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap(),
            occurred_end: NaiveDate::from_ymd_opt(2022, 1, 2).unwrap(),
            date_precision: DatePrecision::Day,
            reported_at: None,
            point: point.then(|| GeoPoint::new(5.5, 20.25).unwrap()),
            location_precision: None,
            place_name: Some("=HYPERLINK(\"x\")".into()),
            locality: None,
            dimension: Dimension::Lives,
            category: "armed_violence".into(),
            source_codes: Default::default(),
            actors: vec![],
            casualties: Casualties {
                killed_best: Some(3),
                ..Default::default()
            },
            civilians_targeted: true,
            description: Some("Shots, \"many\"\nnear the market".into()),
            people: vec![Person {
                name: Some("Secret Witness".into()),
                ..Default::default()
            }],
            reporter_contact: Some("+236 555 0101".into()),
            status: VerificationStatus::Unverified,
            reliability: None,
            credibility: None,
            meta: RecordMeta {
                created_at: t,
                updated_at: t,
                created_by: Some("monitor-7".into()),
                owner_org: None,
            },
        }
        .validate(&taxonomy)
        .unwrap()
    }

    fn export(format: ExportFormat, events: &[Event]) -> String {
        let mut w = EventWriter::new(Vec::new(), format).unwrap();
        for e in events {
            w.write(&ExportRecord::of_event(
                e,
                Some(ExportPlace {
                    code: "XAA",
                    name: "Xland",
                }),
                [
                    Some(ExportPlace {
                        code: "XA01",
                        name: "North",
                    }),
                    None,
                    None,
                ],
                [Some("Group A"), None],
            ))
            .unwrap();
        }
        let (out, n) = w.finish().unwrap();
        assert_eq!(n, events.len() as u64);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_and_hxl_have_headers_and_no_personal_data() {
        let e = event(true);
        let csv = export(ExportFormat::Csv, std::slice::from_ref(&e));
        let mut lines = csv.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("id,source,external_id,occurred_start"));
        assert!(csv.contains("'=HYPERLINK"));
        assert!(csv.contains("North"));
        let hxl = export(ExportFormat::Hxl, std::slice::from_ref(&e));
        assert_eq!(
            hxl.lines().nth(1).unwrap().split(',').next(),
            Some("#event+id")
        );
        assert!(hxl
            .lines()
            .nth(1)
            .unwrap()
            .contains(",#event+dimension,#country+code,#country+name,#adm1+code,"));
        assert!(hxl
            .lines()
            .nth(2)
            .unwrap()
            .contains(",lives,XAA,Xland,XA01,"));
        for out in [&csv, &hxl, &export(ExportFormat::GeoJson, &[e])] {
            assert!(!out.contains("Secret Witness"));
            assert!(!out.contains("555 0101"));
            assert!(!out.contains("monitor-7"));
            assert!(!out.contains("created_by"));
        }
    }

    #[test]
    fn geojson_is_a_feature_collection() {
        let out = export(ExportFormat::GeoJson, &[event(true), event(false)]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let fs = v["features"].as_array().unwrap();
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[0]["geometry"]["coordinates"], json!([20.25, 5.5]));
        assert_eq!(fs[0]["properties"]["killed"], json!(3));
        assert_eq!(fs[0]["properties"]["adm1_code"], json!("XA01"));
        assert_eq!(fs[0]["properties"]["country_code"], json!("XAA"));
        assert_eq!(fs[0]["properties"]["country_name"], json!("Xland"));
        assert!(fs[1]["geometry"].is_null());
        let empty: Value = serde_json::from_str(&export(ExportFormat::GeoJson, &[])).unwrap();
        assert_eq!(empty["features"], json!([]));
    }

    #[test]
    fn geojson_features_are_written_as_serde_json_writes_them() {
        // Each feature line, read and written again by serde_json (keys sorted), is the
        // same bytes: the direct writer formats numbers, text and key order alike.
        let out = export(ExportFormat::GeoJson, &[event(true), event(false)]);
        let lines: Vec<&str> = out.lines().skip(1).filter(|l| l.starts_with('{')).collect();
        assert_eq!(lines.len(), 2);
        for l in lines {
            let l = l.trim_end_matches(',');
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), l);
            let props: &Map<String, Value> = v["properties"].as_object().unwrap();
            assert_eq!(props.len(), COLUMNS.len());
        }
    }

    #[test]
    fn formats_parse() {
        assert_eq!("HXL".parse::<ExportFormat>(), Ok(ExportFormat::Hxl));
        assert_eq!(
            "geojson".parse::<ExportFormat>().map(|f| f.as_str()),
            Ok("geojson")
        );
        assert!("xlsx".parse::<ExportFormat>().is_err());
    }
}
