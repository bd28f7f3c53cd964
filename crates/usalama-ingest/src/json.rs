//! GeoJSON plumbing shared by the readers: splitting a document into features without
//! letting one malformed feature fail the whole file (each feature parsed from memory as
//! the [`Scanner`] walks the file), skimming a file's records for a first pass
//! ([`skim_records`]), and reading property values as text.

use crate::problem::IngestError;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::BufRead;

use crate::json_scan::{Scanner, SliceDe};

/// A document's features or records, each or the reason it is not one, and the
/// document's other members.
pub(crate) type Items<G = Value> = (Vec<Result<RawFeature<G>, String>>, Map<String, Value>);

/// Where each feature or record goes as soon as it is read, instead of into a list.
type Sink<'a, 's, G> = &'a mut (dyn FnMut(Result<RawFeature<G>, String>) + 's);

/// A feature's properties and geometry (raw JSON unless the reader converts it while the
/// file is read, [`features_with`]).
pub(crate) struct RawFeature<G = Value> {
    /// The `properties` object (empty when null or absent).
    pub properties: Map<String, Value>,
    /// The `geometry` member, `None` when null or absent.
    pub geometry: Option<G>,
    /// Whether it was a GeoJSON Feature (else a plain record, whose object is its
    /// properties).
    pub is_feature: bool,
}

/// Splits a GeoJSON FeatureCollection (or a single Feature) into its features. A feature
/// that is not an object becomes `Err(reason)` in its place; only a document that is not
/// JSON, or not a FeatureCollection/Feature, is an [`IngestError`].
#[cfg(test)]
pub(crate) fn features(json: &str) -> Result<Vec<Result<RawFeature, String>>, IngestError> {
    features_with(json.as_bytes(), |g| g)
}

/// [`features`] read from `input`, each geometry passed through `convert` as soon as its
/// feature is read, so that only one feature at a time is held as JSON values (a 100 MB
/// boundary file held whole as values took ten times its size), and the text never whole.
pub(crate) fn features_with<G>(
    input: impl BufRead,
    convert: impl FnMut(Value) -> G,
) -> Result<Vec<Result<RawFeature<G>, String>>, IngestError> {
    read_doc(input, None, Whole(convert), None).map(|(items, _)| items)
}

/// Records of a JSON document that is a GeoJSON FeatureCollection or Feature, a JSON array
/// of objects, or an object without a `type` whose `list` member (any ASCII case) is such
/// an array, as the UCDP API's page holds its events in `Result` and ACLED's API answer in
/// `data`. A plain record's object is its properties, with no geometry. Also returns the
/// document's other members (none for an array).
#[cfg(test)]
pub(crate) fn records(json: &str, list: &str) -> Result<Items, IngestError> {
    read_doc(json.as_bytes(), Some(list), Whole(|g| g), None)
}

/// [`records`] (or, without a `list`, the features of a FeatureCollection) read from
/// `input`, each handed to `each` as soon as it is read, so that only one at a time is
/// held as JSON values and the file itself is never held whole. Returns the document's
/// other members. Should the document turn out not to be one of records, the error comes
/// after the records read until then were handed over.
pub(crate) fn each_record(
    input: impl BufRead,
    list: Option<&str>,
    each: &mut dyn FnMut(Result<RawFeature, String>),
) -> Result<Map<String, Value>, IngestError> {
    read_doc(input, list, Whole(|g| g), Some(each)).map(|(_, doc)| doc)
}

/// What a first pass over a file of records learns ([`skim_records`]).
#[derive(Debug, Default)]
pub(crate) struct Skimmed {
    /// Every property name a record has, each once, in the order first met.
    pub names: Vec<String>,
    /// How many items the list holds, records or not.
    pub items: usize,
    /// Whether any record has a geometry.
    pub geometry: bool,
    /// The document's members other than the records.
    pub doc: Map<String, Value>,
}

/// A first pass over the records [`each_record`] would read, without building them: the
/// names of their properties are gathered once for the file, and only the values `wanted`
/// says are read, each handed to `value` with its property's name as it is read. Items
/// that are not records are counted and not looked into; the document's members are read
/// whole. Errors are those of [`each_record`].
pub(crate) fn skim_records(
    input: impl BufRead,
    list: Option<&str>,
    wanted: &dyn Fn(&str) -> bool,
    value: &mut dyn FnMut(&str, &Value),
) -> Result<Skimmed, IngestError> {
    let mut skim = Skim {
        wanted,
        value,
        names: Vec::new(),
        seen: HashSet::new(),
    };
    let (mut items, mut geometry) = (0, false);
    let doc = read_doc(
        input,
        list,
        &mut skim,
        Some(&mut |item: Result<RawFeature<()>, String>| {
            items += 1;
            geometry |= item.is_ok_and(|f| f.geometry.is_some());
        }),
    )?
    .1;
    Ok(Skimmed {
        names: skim.names,
        items,
        geometry,
        doc,
    })
}

/// Reads the document of `input` as [`features_with`] does; with `list`, also as
/// [`records`] does; its items read by `items`; with a `sink`, each item goes there and
/// none is returned. The document is walked by a [`Scanner`], each of its values parsed
/// from memory.
fn read_doc<G>(
    mut input: impl BufRead,
    list: Option<&str>,
    mut items: impl ItemRead<G>,
    mut sink: Option<Sink<'_, '_, G>>,
) -> Result<Items<G>, IngestError> {
    let (first, head) = skip_to_value(&mut input, not_geojson)?;
    let not_json = |e: IngestError| match (e, markup(&head)) {
        (IngestError::Json(_), Some(what)) => IngestError::Format(format!(
            "this is {what}, not GeoJSON: convert it with GDAL, e.g. `ogr2ogr -f GeoJSON \
             -t_srs EPSG:4326 out.geojson FILE`, and import out.geojson"
        )),
        (e, _) => e,
    };
    let mut doc_in = Scanner::new(input);
    if first != Some(b'{') {
        if list.is_some() && first == Some(b'[') {
            let listed =
                list_items(&mut doc_in, &mut items, true, sink.as_deref_mut()).map_err(not_json)?;
            doc_in.end().map_err(not_json)?;
            if let Listed::Array(items) = listed {
                return Ok((items, Map::new()));
            }
        }
        doc_in.value::<IgnoredAny>().map_err(not_json)?;
        doc_in.end().map_err(not_json)?;
        return Err(IngestError::Format(
            "a GeoJSON FeatureCollection was expected, not a JSON array or value".into(),
        ));
    }
    let Members {
        others: mut doc,
        features,
        records: listed,
    } = match members(&mut doc_in, &mut items, list, sink.as_deref_mut()) {
        Ok(read) => read,
        Err(Stop::Projected(crs)) => return Err(projected_crs(&crs)),
        Err(Stop::Failed(e)) => return Err(not_json(e)),
    };
    doc_in.end().map_err(not_json)?;
    let kind = doc
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // A "crs" written after the features (GDAL writes it before them: see `DocSeed`).
    if let Some(crs) = doc.get("crs").and_then(not_lon_lat) {
        return Err(projected_crs(&crs));
    }
    let items = match kind.as_str() {
        "Topology" => Err(IngestError::Format(
            "this is TopoJSON (\"type\": \"Topology\"), not GeoJSON: convert it, e.g. \
             `mapshaper FILE -o format=geojson out.geojson` or `ogr2ogr -f GeoJSON \
             out.geojson FILE`, and import out.geojson"
                .into(),
        )),
        "FeatureCollection" => match features {
            Listed::Array(items) => Ok(items),
            Listed::Absent => Ok(Vec::new()),
            Listed::NotArray => Err(IngestError::Format(
                "the FeatureCollection's \"features\" is not an array".into(),
            )),
        },
        "Feature" => {
            let one = items.feature(Value::Object(std::mem::take(&mut doc)));
            match sink {
                Some(sink) => {
                    sink(one);
                    Ok(Vec::new())
                }
                None => Ok(vec![one]),
            }
        }
        "" => match (listed, list) {
            (Listed::Array(items), _) => Ok(items),
            (Listed::NotArray, Some(list)) => Err(IngestError::Format(format!(
                "the JSON object's \"{list}\" is not an array of records"
            ))),
            (_, Some(list)) => Err(IngestError::Format(format!(
                "a GeoJSON FeatureCollection, a JSON array of records or an object with \
                 a \"{list}\" array of records was expected: the JSON object has none of \
                 \"type\", \"features\" or \"{list}\""
            ))),
            (_, None) => Err(IngestError::Format(
                "a GeoJSON FeatureCollection was expected: the JSON object has no \"type\"".into(),
            )),
        },
        other => Err(IngestError::Format(format!(
            "a GeoJSON FeatureCollection was expected, found type \"{other}\""
        ))),
    }?;
    Ok((items, doc))
}

/// Reads `input` up to its first JSON value: a file whose first bytes `refuse` names (a
/// Shapefile, an archive, a workbook…) is refused; a byte-order mark, which some editors
/// write, is dropped (RFC 8259 §8.1 lets a reader ignore it), and so is the white space
/// before the value. Returns the value's first byte (`None` for an empty document) and the
/// document's first kilobyte from there, for error messages.
fn skip_to_value(
    input: &mut impl BufRead,
    refuse: fn(&[u8]) -> Option<IngestError>,
) -> Result<(Option<u8>, String), IngestError> {
    let read_err = |e: std::io::Error| IngestError::Read(e.to_string());
    let start = input.fill_buf().map_err(read_err)?;
    if let Some(e) = refuse(&start[..start.len().min(1024)]) {
        return Err(e);
    }
    if start.starts_with(b"\xef\xbb\xbf") {
        input.consume(3);
    }
    loop {
        let buf = input.fill_buf().map_err(read_err)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                input.consume(i);
                let buf = input.fill_buf().map_err(read_err)?;
                let head = String::from_utf8_lossy(&buf[..buf.len().min(1024)]).into_owned();
                return Ok((Some(buf[0]), head));
            }
            None if buf.is_empty() => return Ok((None, String::new())),
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// Hands each item of the top-level JSON array of `input` to `each` (with its index), as
/// raw JSON, as soon as it is read; the first error `each` returns stops the reading.
/// `Ok(false)` when the document is JSON but not an array; a file that is not text
/// ([`crate::not_text`]) or not JSON is an error.
pub(crate) fn each_array_item(
    mut input: impl BufRead,
    each: &mut dyn FnMut(usize, Value) -> Result<(), IngestError>,
) -> Result<bool, IngestError> {
    let (first, _) = skip_to_value(&mut input, crate::not_text)?;
    let mut doc = Scanner::new(input);
    if first != Some(b'[') {
        doc.value::<IgnoredAny>()?;
        doc.end()?;
        return Ok(false);
    }
    let mut i = 0;
    array(&mut doc, &mut |doc| {
        let item = doc.value::<Value>()?;
        each(i, item)?;
        i += 1;
        Ok(())
    })?;
    doc.end()?;
    Ok(true)
}

/// Walks an array (the scanner at its `[`), reading each item with `item`, which must
/// parse it.
fn array<R: BufRead>(
    doc: &mut Scanner<R>,
    item: &mut dyn FnMut(&mut Scanner<R>) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    doc.bump();
    if doc.peek()? == Some(b']') {
        doc.bump();
        return Ok(());
    }
    loop {
        item(doc)?;
        match doc.peek()? {
            Some(b',') => doc.bump(),
            Some(b']') => {
                doc.bump();
                return Ok(());
            }
            None => return Err(doc.syntax("EOF while parsing a list")),
            Some(_) => return Err(doc.syntax("expected `,` or `]`")),
        }
    }
}

/// The error of a JSON file that could not be read to its end: a read failure, text that
/// is not UTF-8 (named as such), or JSON that is not valid; placed at `at` (line, column)
/// in the file, where the [`Scanner`] found the value serde_json parsed alone.
pub(crate) fn json_error(e: &serde_json::Error, at: Option<(usize, usize)>) -> IngestError {
    let said = e.to_string();
    let what = match said.rfind(" at line ") {
        Some(i) if e.line() > 0 => &said[..i],
        _ => &said,
    };
    let place = at
        .map(|(line, column)| format!(" at line {line} column {column}"))
        .unwrap_or_default();
    if e.is_io() {
        IngestError::Read(said)
    } else if what == "invalid unicode code point" {
        IngestError::Read(format!("not UTF-8 text{place} (save the file as UTF-8)"))
    } else {
        IngestError::Json(format!("{what}{place}"))
    }
}

/// Why a file whose first bytes are `head` (its first kilobyte is enough) cannot be a
/// GeoJSON file, naming what it is and how to convert it: a Shapefile (`.shp`), a
/// GeoPackage or other SQLite database, a ZIP archive (a zipped Shapefile, a KMZ), or
/// what [`crate::not_text`] recognises; `None` when it may be text.
pub fn not_geojson(head: &[u8]) -> Option<IngestError> {
    let convert = |source: &str| {
        format!(
            "convert it with GDAL, e.g. `ogr2ogr -f GeoJSON -t_srs EPSG:4326 out.geojson \
             {source}`, and import out.geojson"
        )
    };
    let what = if head.starts_with(&[0x00, 0x00, 0x27, 0x0A]) {
        format!(
            "it is the .shp part of a Shapefile: {} (with its .shx, .dbf and .prj files beside it)",
            convert("FILE.shp")
        )
    } else if head.starts_with(b"SQLite format 3\0") {
        format!(
            "it is a GeoPackage (.gpkg) or another SQLite database: {} (adding the layer's \
             name after FILE when it has several)",
            convert("FILE")
        )
    } else if head.starts_with(b"PK\x03\x04") {
        // The first member's name, from the ZIP local header.
        let len = head
            .get(26..28)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as usize);
        let first = head
            .get(30..30 + len)
            .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
            .unwrap_or_default();
        let kind = if [".shp", ".shx", ".dbf", ".prj", ".cpg"]
            .iter()
            .any(|e| first.ends_with(e))
        {
            "a zipped Shapefile"
        } else if first.ends_with(".kml") {
            "a KMZ (zipped KML)"
        } else {
            "a ZIP archive"
        };
        format!("it is {kind}: {}", convert("/vsizip/FILE"))
    } else {
        return crate::not_text(head);
    };
    Some(IngestError::Format(format!("not a GeoJSON file: {what}")))
}

/// How to bring a file in another coordinate system to WGS 84 longitude and latitude.
pub(crate) const REPROJECT: &str = "reproject it to WGS 84, e.g. `ogr2ogr -f GeoJSON -t_srs \
                                    EPSG:4326 out.geojson FILE`, and import out.geojson";

/// The refusal of a file whose `crs` names the projected system `crs` ([`not_lon_lat`]).
fn projected_crs(crs: &str) -> IngestError {
    IngestError::Format(format!(
        "the file's \"crs\" is {crs}, a system whose coordinates are metres or other \
         units, not longitude and latitude in degrees: {REPROJECT}"
    ))
}

/// What a document that is not JSON but XML is (KML, GML), by its first element.
fn markup(text: &str) -> Option<&'static str> {
    let t = text.trim_start();
    if !t.starts_with('<') {
        return None;
    }
    let head = &t[..t.len().min(1024)].to_ascii_lowercase();
    Some(if head.contains("<kml") {
        "KML (Google Earth's XML)"
    } else if head.contains("gml") {
        "GML (XML)"
    } else {
        "XML"
    })
}

/// The coordinate reference system named by a GeoJSON `crs` member (the 2008 GeoJSON
/// specification's, still written by GDAL and ArcGIS) when it is not longitude/latitude
/// in degrees: an EPSG (or ESRI) code outside the geographic range 4000–4999, such as
/// 3857 (Web Mercator) or 32633 (UTM zone 33N). `None` for WGS 84 (`EPSG:4326`,
/// `urn:ogc:def:crs:OGC:1.3:CRS84`), any other geographic CRS (degrees, within metres of
/// WGS 84) and a name not understood (the coordinates are checked anyway).
fn not_lon_lat(crs: &Value) -> Option<String> {
    let name = crs
        .pointer("/properties/name")
        .or_else(|| crs.pointer("/properties/code"))
        .and_then(|n| match n {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format!("EPSG:{n}")),
            _ => None,
        })?;
    let upper = name.to_ascii_uppercase();
    if !(upper.contains("EPSG") || upper.contains("ESRI")) {
        return None;
    }
    // `EPSG:3857`, `urn:ogc:def:crs:EPSG::3857`, `urn:ogc:def:crs:EPSG:6.6:3857`,
    // `http://www.opengis.net/def/crs/EPSG/0/3857`: the code is the last number.
    let code: u32 = upper
        .rsplit(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())?
        .parse()
        .ok()?;
    let geographic = (4000..5000).contains(&code) && code != 4978;
    (!geographic).then_some(name)
}

/// A document's list of features or records.
enum Listed<G> {
    Absent,
    NotArray,
    Array(Vec<Result<RawFeature<G>, String>>),
}

/// Why the reading of a document's members stopped.
enum Stop {
    /// A `crs` naming a projected system ([`not_lon_lat`]).
    Projected(String),
    /// The document could not be read.
    Failed(IngestError),
}

impl From<IngestError> for Stop {
    fn from(e: IngestError) -> Self {
        Self::Failed(e)
    }
}

/// A document object's members: the features, the records, and the others.
struct Members<G> {
    others: Map<String, Value>,
    features: Listed<G>,
    records: Listed<G>,
}

/// Reads a JSON object (the scanner at its `{`): its members as values, except `features`
/// and the `list` member, whose items are read by `items` one at a time ([`list_items`]).
/// A `crs` naming a projected system ([`not_lon_lat`]) stops the reading as soon as it is
/// read: GDAL writes `crs` before `features`, so a large projected file is refused without
/// being read to its end. Returns the other members, the features and the records.
fn members<R: BufRead, G>(
    doc: &mut Scanner<R>,
    items: &mut impl ItemRead<G>,
    list: Option<&str>,
    mut sink: Option<Sink<'_, '_, G>>,
) -> Result<Members<G>, Stop> {
    let mut read = Members {
        others: Map::new(),
        features: Listed::Absent,
        records: Listed::Absent,
    };
    doc.bump();
    if doc.peek()? == Some(b'}') {
        doc.bump();
        return Ok(read);
    }
    loop {
        match doc.peek()? {
            Some(b'"') => {}
            None => return Err(doc.syntax("EOF while parsing an object").into()),
            Some(_) => return Err(doc.syntax("key must be a string").into()),
        }
        let key = doc.value::<String>()?;
        match doc.peek()? {
            Some(b':') => doc.bump(),
            None => return Err(doc.syntax("EOF while parsing an object").into()),
            Some(_) => return Err(doc.syntax("expected `:`").into()),
        }
        let records = list.is_some_and(|l| key.eq_ignore_ascii_case(l));
        if key == "features" || records {
            let items = list_items(doc, items, records, sink.as_deref_mut())?;
            *(if records {
                &mut read.records
            } else {
                &mut read.features
            }) = items;
        } else {
            let value = doc.value::<Value>()?;
            if key == "crs" {
                if let Some(name) = not_lon_lat(&value) {
                    return Err(Stop::Projected(name));
                }
            }
            read.others.insert(key, value);
        }
        match doc.peek()? {
            Some(b',') => doc.bump(),
            Some(b'}') => {
                doc.bump();
                return Ok(read);
            }
            None => return Err(doc.syntax("EOF while parsing an object").into()),
            Some(_) => return Err(doc.syntax("expected `,` or `}`").into()),
        }
    }
}

/// Reads a list member: an array is read item by item by `items` (as features, or as plain
/// records; each into the sink when there is one), `null` is no item, anything else is
/// noted as not an array.
fn list_items<R: BufRead, G>(
    doc: &mut Scanner<R>,
    items: &mut impl ItemRead<G>,
    records: bool,
    mut sink: Option<Sink<'_, '_, G>>,
) -> Result<Listed<G>, IngestError> {
    if doc.peek()? != Some(b'[') {
        return Ok(match doc.value::<Value>()? {
            Value::Null => Listed::Absent,
            _ => Listed::NotArray,
        });
    }
    let mut read = Vec::new();
    array(doc, &mut |doc| {
        let item = doc.parse(|de| items.read(de, records))?;
        match sink.as_deref_mut() {
            Some(sink) => sink(item),
            None => read.push(item),
        }
        Ok(())
    })?;
    Ok(Listed::Array(read))
}

/// How the items of a list are read: whole, as JSON values ([`Whole`]), or skimmed for a
/// first pass ([`Skim`]).
trait ItemRead<G> {
    /// The item `de` holds: a plain record when `records`, else a GeoJSON Feature.
    fn read(
        &mut self,
        de: &mut SliceDe<'_>,
        records: bool,
    ) -> Result<Result<RawFeature<G>, String>, serde_json::Error>;

    /// A document that is a single Feature, already read as a value.
    fn feature(&mut self, v: Value) -> Result<RawFeature<G>, String>;
}

/// Items read whole, each geometry passed through the function.
struct Whole<F>(F);

impl<G, F: FnMut(Value) -> G> ItemRead<G> for Whole<F> {
    fn read(
        &mut self,
        de: &mut SliceDe<'_>,
        records: bool,
    ) -> Result<Result<RawFeature<G>, String>, serde_json::Error> {
        let v = Value::deserialize(de)?;
        Ok(if records {
            record(v)
        } else {
            split(v, &mut self.0)
        })
    }

    fn feature(&mut self, v: Value) -> Result<RawFeature<G>, String> {
        split(v, &mut self.0)
    }
}

/// Items skimmed ([`skim_records`]): the names met, and the wanted values handed on.
struct Skim<'w, 'v> {
    wanted: &'w dyn Fn(&str) -> bool,
    value: &'w mut (dyn FnMut(&str, &Value) + 'v),
    names: Vec<String>,
    seen: HashSet<String>,
}

impl ItemRead<()> for &mut Skim<'_, '_> {
    fn read(
        &mut self,
        de: &mut SliceDe<'_>,
        records: bool,
    ) -> Result<Result<RawFeature<()>, String>, serde_json::Error> {
        SkimItem {
            skim: self,
            records,
        }
        .deserialize(de)
    }

    fn feature(&mut self, v: Value) -> Result<RawFeature<()>, String> {
        let f = split(v, &mut |_| ())?;
        for (k, v) in &f.properties {
            self.name(k);
            if (self.wanted)(k) {
                (self.value)(k, v);
            }
        }
        Ok(RawFeature {
            properties: Map::new(),
            ..f
        })
    }
}

impl Skim<'_, '_> {
    /// Notes a property's name; its name again when its value is wanted.
    fn name(&mut self, key: &str) -> Option<String> {
        if !self.seen.contains(key) {
            self.seen.insert(key.to_string());
            self.names.push(key.to_string());
        }
        (self.wanted)(key).then(|| key.to_string())
    }

    /// Skims an object's members as properties.
    fn members<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        while let Some(wanted) = map.next_key_seed(PropertyName(self))? {
            match wanted {
                Some(key) => (self.value)(&key, &map.next_value::<Value>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A property's name, read without being copied unless its value is wanted.
struct PropertyName<'s, 'w, 'v>(&'s mut Skim<'w, 'v>);

impl<'de> DeserializeSeed<'de> for PropertyName<'_, '_, '_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for PropertyName<'_, '_, '_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.name(key))
    }
}

/// The `visit_*` methods of a skim's visitor for the values it refuses (arrays, strings,
/// booleans, numbers): each read past and refused with the visitor's `refused()` reason.
macro_rules! refuse_other_values {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Err(self.refused()))
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Err(self.refused()))
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Err(self.refused()))
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Err(self.refused()))
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Err(self.refused()))
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Err(self.refused()))
        }
    };
}

/// Skims one item: a record's members, or a Feature's `properties` and whether it has a
/// `geometry`; an item [`record`] or [`split`] would refuse is refused the same way.
struct SkimItem<'s, 'w, 'v> {
    skim: &'s mut Skim<'w, 'v>,
    records: bool,
}

impl<'de> DeserializeSeed<'de> for SkimItem<'_, '_, '_> {
    type Value = Result<RawFeature<()>, String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SkimItem<'_, '_, '_> {
    type Value = Result<RawFeature<()>, String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut f = RawFeature {
            properties: Map::new(),
            geometry: None,
            is_feature: !self.records,
        };
        if self.records {
            self.skim.members(&mut map)?;
            return Ok(Ok(f));
        }
        // The properties are skimmed as they are read: should a feature name them twice,
        // or after properties that are not an object, each is skimmed.
        let mut properties = Ok(());
        while let Some(member) = map.next_key::<FeatureMember>()? {
            match member {
                FeatureMember::Properties => {
                    properties = map.next_value_seed(SkimProperties(&mut *self.skim))?;
                }
                FeatureMember::Geometry => {
                    f.geometry = map.next_value::<Option<IgnoredAny>>()?.map(|_| ());
                }
                FeatureMember::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(properties.map(|()| f))
    }

    refuse_other_values!();

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(self.refused()))
    }
}

impl SkimItem<'_, '_, '_> {
    /// Why an item that is not an object is refused, as [`record`] and [`split`] say it.
    fn refused(&self) -> String {
        if self.records {
            NOT_A_RECORD.into()
        } else {
            NOT_A_FEATURE.into()
        }
    }
}

/// The members of a Feature a skim tells apart.
enum FeatureMember {
    Properties,
    Geometry,
    Other,
}

impl<'de> Deserialize<'de> for FeatureMember {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = FeatureMember;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E>(self, key: &str) -> Result<FeatureMember, E> {
                Ok(match key {
                    "properties" => FeatureMember::Properties,
                    "geometry" => FeatureMember::Geometry,
                    _ => FeatureMember::Other,
                })
            }
        }
        d.deserialize_str(Name)
    }
}

/// Skims a Feature's `properties`: an object's members; `null` is none; anything else is
/// refused as [`split`] refuses it.
struct SkimProperties<'s, 'w, 'v>(&'s mut Skim<'w, 'v>);

impl<'de> DeserializeSeed<'de> for SkimProperties<'_, '_, '_> {
    type Value = Result<(), String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SkimProperties<'_, '_, '_> {
    type Value = Result<(), String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        self.0.members(&mut map).map(Ok)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(()))
    }

    refuse_other_values!();
}

impl SkimProperties<'_, '_, '_> {
    /// Why properties that are not an object are refused, as [`split`] says it.
    fn refused(&self) -> String {
        NOT_PROPERTIES.into()
    }
}

const NOT_A_RECORD: &str = "is not a JSON object";
const NOT_A_FEATURE: &str = "is not a GeoJSON Feature object";
const NOT_PROPERTIES: &str = "\"properties\" is not an object";

/// A plain record: its object is its properties, with no geometry.
fn record<G>(v: Value) -> Result<RawFeature<G>, String> {
    match v {
        Value::Object(properties) => Ok(RawFeature {
            properties,
            geometry: None,
            is_feature: false,
        }),
        _ => Err(NOT_A_RECORD.into()),
    }
}

fn split<G>(v: Value, convert: &mut impl FnMut(Value) -> G) -> Result<RawFeature<G>, String> {
    let Value::Object(mut f) = v else {
        return Err(NOT_A_FEATURE.into());
    };
    let properties = match f.remove("properties") {
        Some(Value::Object(p)) => p,
        Some(Value::Null) | None => Map::new(),
        Some(_) => return Err(NOT_PROPERTIES.into()),
    };
    let geometry = match f.remove("geometry") {
        Some(Value::Null) | None => None,
        Some(g) => Some(convert(g)),
    };
    Ok(RawFeature {
        properties,
        geometry,
        is_feature: true,
    })
}

/// A property value as trimmed text: strings as they are, numbers and booleans as JSON
/// writes them; `None` for null, blank strings, arrays and objects.
pub(crate) fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then_some(Cow::Borrowed(s))
        }
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Finds a property by name, exactly first and then ignoring ASCII case.
pub(crate) fn get_ci<'a>(props: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    props.get(key).or_else(|| {
        props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Decodes a GeoJSON geometry object.
pub(crate) fn geometry(v: Value) -> Result<geojson::GeometryValue, String> {
    serde_json::from_value::<geojson::Geometry>(v)
        .map(|g| g.value)
        .map_err(|e| format!("is not a valid GeoJSON geometry ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_collections_and_reports_bad_features_in_place() {
        let fs = features(r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":null}, 3]}"#).unwrap();
        assert_eq!(fs.len(), 2);
        let first = fs[0].as_ref().unwrap();
        assert_eq!(text(&first.properties["a"]).as_deref(), Some("1"));
        assert!(first.geometry.is_none());
        assert!(fs[1].is_err());
    }

    #[test]
    fn geometries_are_converted_while_the_file_is_read() {
        // Each feature's geometry is handed over as soon as the feature is read, before
        // the rest of the file is parsed: the error at the end comes after two geometries.
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"a":2},"geometry":{"type":"Point","coordinates":[3,4]}},
            {"type":"Feature","#;
        let mut seen = Vec::new();
        let r = features_with(text.as_bytes(), |g| seen.push(g["coordinates"][0].as_i64()));
        assert!(matches!(r, Err(IngestError::Json(_))));
        assert_eq!(seen, [Some(1), Some(3)]);
        // A single Feature and a null "features" read as before.
        let one = features_with(
            r#"{"geometry":{"type":"Point","coordinates":[5,6]},"type":"Feature"}"#.as_bytes(),
            |g| g["coordinates"][1].as_i64(),
        )
        .unwrap();
        assert_eq!(one[0].as_ref().unwrap().geometry, Some(Some(6)));
        assert!(features(r#"{"type":"FeatureCollection","features":null}"#)
            .unwrap()
            .is_empty());
        assert!(matches!(
            features(r#"{"type":"FeatureCollection","features":{"a":1}}"#),
            Err(IngestError::Format(m)) if m.contains("not an array")
        ));
    }

    #[test]
    fn records_come_from_an_array_or_a_named_list_and_only_when_asked() {
        let (items, doc) = records(
            r#"{"TotalCount":2,"result":[{"id":1},7],"x":null}"#,
            "Result",
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            text(&items[0].as_ref().unwrap().properties["id"]).as_deref(),
            Some("1")
        );
        assert_eq!(
            items[1].as_ref().err().map(String::as_str),
            Some("is not a JSON object")
        );
        assert_eq!(doc["TotalCount"], 2);
        assert!(!doc.contains_key("result"));
        let (items, doc) = records(r#" [{"id":1},{"id":2}]"#, "Result").unwrap();
        assert_eq!((items.len(), doc.len()), (2, 0));
        // A FeatureCollection is still read as features.
        let (items, _) = records(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":3},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#,
            "Result",
        )
        .unwrap();
        assert!(items[0].as_ref().unwrap().geometry.is_some());
        for (bad, says) in [
            (r#"{"Result":{"id":1}}"#, "\"Result\" is not an array"),
            (
                r#"{"TotalCount":0}"#,
                "none of \"type\", \"features\" or \"Result\"",
            ),
            ("[1, 2", "EOF"),
        ] {
            let err = records(bad, "Result").err().unwrap().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        // The GeoJSON readers do not take records.
        assert!(features(r#"[{"id":1}]"#).is_err());
        assert!(features(r#"{"Result":[{"id":1}]}"#).is_err());
    }

    #[test]
    fn each_record_hands_items_over_as_they_are_read() {
        let mut seen = Vec::new();
        let doc = each_record(
            r#"{"TotalCount":3,"Result":[{"id":1},[2],{"id":3}]}"#.as_bytes(),
            Some("Result"),
            &mut |r| seen.push(r.map(|f| f.properties["id"].as_i64())),
        )
        .unwrap();
        assert_eq!(
            seen,
            [Ok(Some(1)), Err("is not a JSON object".into()), Ok(Some(3))]
        );
        assert_eq!(doc["TotalCount"], 3);
        // A single Feature, and an array, go the same way.
        let mut n = 0;
        each_record(
            r#"{"type":"Feature","properties":{"id":1},"geometry":null}"#.as_bytes(),
            Some("Result"),
            &mut |_| n += 1,
        )
        .unwrap();
        each_record(
            r#"[{"id":1},{"id":2}]"#.as_bytes(),
            Some("Result"),
            &mut |_| n += 1,
        )
        .unwrap();
        assert_eq!(n, 3);
        assert!(each_record(
            r#"{"type":"Topology"}"#.as_bytes(),
            Some("Result"),
            &mut |_| ()
        )
        .is_err());
    }

    #[test]
    fn a_file_that_is_not_json_is_named_before_it_is_parsed() {
        let shp: &[u8] = &[0x00, 0x00, 0x27, 0x0A, 0, 0, 0, 0];
        let e = each_record(shp, None, &mut |_| ()).unwrap_err().to_string();
        assert!(e.contains("Shapefile"), "{e}");
        let e = each_record(&b"PK\x03\x04rest"[..], Some("data"), &mut |_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("ZIP"), "{e}");
    }

    #[test]
    fn text_that_is_not_utf8_is_named() {
        let latin1 = b"[{\"place\":\"Mbr\xe8s\"}]";
        let e = each_record(&latin1[..], Some("data"), &mut |_| ()).unwrap_err();
        assert!(
            matches!(&e, IngestError::Read(m) if m.contains("not UTF-8") && m.contains("line 1")),
            "{e}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let fs = features("\u{feff}{\"type\":\"FeatureCollection\",\"features\":[]}").unwrap();
        assert!(fs.is_empty());
    }

    #[test]
    fn fatal_errors_for_non_geojson() {
        assert!(matches!(features("not json"), Err(IngestError::Json(_))));
        assert!(matches!(features("[1]"), Err(IngestError::Format(_))));
        assert!(matches!(
            features(r#"{"type":"Point","coordinates":[1,2]}"#),
            Err(IngestError::Format(m)) if m.contains("Point")
        ));
        assert_eq!(
            features(r#"{"type":"Feature","properties":null,"geometry":null}"#)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn projected_crs_is_refused_geographic_accepted() {
        let doc = |crs: &str| {
            format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"{crs}"}}}},"features":[]}}"#
            )
        };
        for projected in [
            "urn:ogc:def:crs:EPSG::3857",
            "EPSG:32633",
            "http://www.opengis.net/def/crs/EPSG/0/2154",
            "ESRI:102100",
        ] {
            let err = features(&doc(projected))
                .err()
                .expect(projected)
                .to_string();
            for needed in [
                projected,
                "not longitude and latitude",
                "ogr2ogr",
                "EPSG:4326",
            ] {
                assert!(err.contains(needed), "{needed}: {err}");
            }
        }
        for fine in [
            "urn:ogc:def:crs:OGC:1.3:CRS84",
            "EPSG:4326",
            "urn:ogc:def:crs:EPSG::4326",
            "EPSG:4686",
            "WGS 84",
        ] {
            assert!(features(&doc(fine)).is_ok(), "{fine}");
        }
    }

    #[test]
    fn a_projected_crs_before_the_features_is_refused_before_they_are_read() {
        // GDAL's order: "crs" first. The features after it are never read: not converted,
        // and the malformed JSON further on is not reached.
        let text = r#"{"type":"FeatureCollection","name":"caf_adm1",
            "crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},
            "features":[
            {"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"a":2},"geometry":{"type":"Point","coordinates":[3,"#;
        let mut converted = 0;
        let err = features_with(text.as_bytes(), |_| converted += 1)
            .err()
            .unwrap();
        assert!(
            matches!(&err, IngestError::Format(m)
                if m.contains("urn:ogc:def:crs:EPSG::3857") && m.contains("EPSG:4326")),
            "{err}"
        );
        assert_eq!(converted, 0);
        // Written after the features, it is refused once the file is read, as before.
        let after = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}}],
            "crs":{"type":"name","properties":{"name":"EPSG:32633"}}}"#;
        let err = features_with(after.as_bytes(), |_| converted += 1)
            .err()
            .unwrap();
        assert!(err.to_string().contains("EPSG:32633"), "{err}");
        assert_eq!(converted, 1);
        // A geographic crs first changes nothing.
        let fine = r#"{"type":"FeatureCollection",
            "crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
        assert_eq!(features(fine).unwrap().len(), 1);
    }

    #[test]
    fn binary_gis_files_are_named() {
        let named = |head: &[u8]| not_geojson(head).map(|e| e.to_string()).unwrap_or_default();
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend([0; 22]);
        zip.extend([20, 0, 0, 0]);
        zip.extend(b"som_admbnda_adm1.shp");
        for (head, needed) in [
            (&b"\x00\x00\x27\x0a\x00\x00"[..], "Shapefile"),
            (&b"SQLite format 3\0\x10\x00"[..], "GeoPackage"),
            (&zip[..], "zipped Shapefile"),
            (&b"\x1f\x8b\x08"[..], "gzip"),
        ] {
            let m = named(head);
            assert!(m.contains(needed), "{needed}: {m}");
        }
        assert!(named(&zip[..]).contains("/vsizip/"));
        assert!(not_geojson(b"{\"type\"").is_none());
    }

    #[test]
    fn topojson_and_kml_are_named() {
        let err = features(r#"{"type":"Topology","objects":{},"arcs":[]}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("TopoJSON") && err.contains("mapshaper"),
            "{err}"
        );
        let kml = "<?xml version=\"1.0\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document/></kml>";
        let err = features(kml).err().unwrap().to_string();
        assert!(err.contains("KML") && err.contains("ogr2ogr"), "{err}");
    }

    #[test]
    fn text_and_case_insensitive_lookup() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"ADM1_PCODE":"X1","n":2.5,"b":" ","z":null}"#).unwrap();
        assert_eq!(
            get_ci(&m, "adm1_pcode").and_then(text).as_deref(),
            Some("X1")
        );
        assert_eq!(get_ci(&m, "n").and_then(text).as_deref(), Some("2.5"));
        assert!(get_ci(&m, "b").and_then(text).is_none());
        assert!(get_ci(&m, "z").and_then(text).is_none());
        assert!(geometry(serde_json::json!({"type":"Polygon","coordinates":"x"})).is_err());
    }

    mod walked_as_parsed_whole {
        //! The scanner's reading of a document agrees with serde_json's parse of the whole
        //! document, whatever the values and the white space between them.
        use super::super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                (-1e9f64..1e9).prop_map(Value::from),
                "\\PC{0,8}".prop_map(Value::from),
                Just(Value::from("x}]\"\\{[,:")),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map("[a-c\"\\\\]{0,3}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// An item that is a Feature, a plain object or anything.
        fn item() -> impl Strategy<Value = Value> {
            prop_oneof![
                (value(), value()).prop_map(|(p, g)| serde_json::json!({
                    "type": "Feature", "properties": p, "geometry": g
                })),
                value(),
            ]
        }

        fn text(v: &Value, pretty: bool) -> String {
            if pretty {
                serde_json::to_string_pretty(v).unwrap()
            } else {
                serde_json::to_string(v).unwrap()
            }
        }

        type Seen = Result<(Map<String, Value>, Option<Value>, bool), String>;

        fn seen(items: Vec<Result<RawFeature, String>>) -> Vec<Seen> {
            items
                .into_iter()
                .map(|f| f.map(|f| (f.properties, f.geometry, f.is_feature)))
                .collect()
        }

        proptest! {
            #[test]
            fn features_and_records_are_those_of_the_whole_document(
                items in prop::collection::vec(item(), 0..5),
                other in value(),
                pretty in any::<bool>(),
                chunk in 1usize..80,
            ) {
                // Expected: serde_json's parse of the whole text (its floats are read the
                // same way), split as before.
                let written = |doc: Value| {
                    let t = text(&doc, pretty);
                    let whole: Value = serde_json::from_str(&t).unwrap();
                    (t, whole)
                };
                let (t, whole) = written(serde_json::json!({
                    "type": "FeatureCollection", "name": other, "features": items
                }));
                let Value::Array(fs) = whole["features"].clone() else { unreachable!() };
                let expected = seen(fs.iter().cloned().map(|v| split(v, &mut |g| g)).collect());
                // Read in chunks of any size, as from a file.
                let input = std::io::BufReader::with_capacity(chunk, t.as_bytes());
                prop_assert_eq!(seen(features_with(input, |g| g).unwrap()), expected);
                // Skimmed as features: the names of their properties, whether one has a
                // geometry.
                let (mut names, mut geometry) = (Vec::<String>::new(), false);
                for f in &fs {
                    let Value::Object(f) = f else { continue };
                    let props = match f.get("properties") {
                        Some(Value::Object(p)) => Some(p),
                        Some(Value::Null) | None => None,
                        Some(_) => continue,
                    };
                    for k in props.into_iter().flat_map(|p| p.keys()) {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                    geometry |= f.get("geometry").is_some_and(|g| !g.is_null());
                }
                let skimmed = skim_records(t.as_bytes(), None, &|_| false, &mut |_, _| ()).unwrap();
                prop_assert_eq!(skimmed.names, names);
                prop_assert_eq!((skimmed.items, skimmed.geometry), (fs.len(), geometry));

                let (t, whole) = written(serde_json::json!({"TotalCount": other, "Result": items}));
                let Value::Array(rs) = whole["Result"].clone() else { unreachable!() };
                let (read, members) = records(&t, "Result").unwrap();
                prop_assert_eq!(seen(read), seen(rs.iter().cloned().map(record).collect()));
                prop_assert_eq!(&members["TotalCount"], &whole["TotalCount"]);

                // The skim sees the same names, count and wanted values.
                let mut wanted_seen = Vec::new();
                let skimmed = skim_records(
                    t.as_bytes(),
                    Some("Result"),
                    &|k| k.starts_with('a'),
                    &mut |k, v| wanted_seen.push((k.to_string(), v.clone())),
                )
                .unwrap();
                let (mut names, mut wanted) = (Vec::<String>::new(), Vec::new());
                for r in &rs {
                    if let Value::Object(m) = r {
                        for (k, v) in m {
                            if !names.contains(k) {
                                names.push(k.clone());
                            }
                            if k.starts_with('a') {
                                wanted.push((k.clone(), v.clone()));
                            }
                        }
                    }
                }
                prop_assert_eq!(skimmed.names, names);
                prop_assert_eq!(skimmed.items, rs.len());
                prop_assert_eq!(wanted_seen, wanted);
            }

            /// A document cut short or with a byte changed is never read as valid unless
            /// serde_json reads it so, and then its features are the same.
            #[test]
            fn a_damaged_document_is_refused_as_serde_json_refuses_it(
                items in prop::collection::vec(item(), 1..4),
                cut in any::<prop::sample::Index>(),
                byte in any::<u8>(),
                at in any::<prop::sample::Index>(),
                truncate in any::<bool>(),
            ) {
                let doc = serde_json::json!({"type": "FeatureCollection", "features": items});
                let mut bytes = text(&doc, false).into_bytes();
                if truncate {
                    bytes.truncate(cut.index(bytes.len()));
                } else {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
                let read = features_with(&bytes[..], |g| g);
                let whole = serde_json::from_slice::<Value>(&bytes);
                if read.is_ok() {
                    prop_assert!(whole.is_ok(), "read, though serde_json refuses it");
                }
                if let Ok(Value::Object(mut d)) = whole {
                    let is_collection = d.get("type") == Some(&Value::from("FeatureCollection"));
                    let crs_ok = d.get("crs").and_then(not_lon_lat).is_none();
                    if let (true, true, Some(Value::Array(fs))) =
                        (is_collection, crs_ok, d.remove("features"))
                    {
                        let expected = seen(fs.into_iter().map(|v| split(v, &mut |g| g)).collect());
                        prop_assert_eq!(seen(read.unwrap()), expected);
                    }
                }
            }
        }
    }
}
