//! Administrative boundaries from GeoJSON: OCHA COD-AB (`adm1_pcode`, `ADM1_EN`, …, and
//! the earlier `admin1Pcode`, `admin1Name_en`, `admin1Pcod` of shapefiles), geoBoundaries
//! (`shapeID`, `shapeName`, `shapeISO`, `shapeGroup`), GADM (`GID_1`, `NAME_1`,
//! `VARNAME_1`) and MIMU (`ST`/`ST_PCODE`, `DT`/`DT_PCODE`, `TS`/`TS_PCODE`, `ST_MMR4`;
//! the country from the ISO 3166-1 alpha-3 code its P-codes begin with), detected from the
//! property names, or named explicitly through [`BoundaryFields`]. geoBoundaries CGAZ's
//! `shapeID`, a bare number, is qualified by its country and level (`TCD-ADM1-1000`).
//!
//! Each Polygon or MultiPolygon feature becomes a [`Locality`] of the requested level, its
//! parent's code kept aside for the caller to link (parents may come from another file).
//! Its representative point ([`representative_point`]) lies inside it, also for a district
//! ringing a city and for an area split at the antimeridian; a ring that crosses the
//! antimeridian without being split is refused.
//! Countries (ADM0) named in the properties are returned without geometry. A feature with a
//! missing code or name, or an unusable geometry, is a [`Problem`]; nothing here is specific
//! to one country.

use crate::gazetteer::is_placeholder;
use crate::json::{self, RawFeature};

/// A feature as read: its geometry converted while the file is read ([`multipolygon`]).
type Feature = RawFeature<Result<MultiPolygon<f64>, String>>;
use crate::problem::{IngestError, Problem};
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Centroid, InteriorPoint};
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use usalama_domain::{AdminLevel, Locality, LocalityCode};

/// Property names that override auto-detection; `None` means detect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoundaryFields {
    /// The property holding the locality's code (P-code).
    pub code: Option<String>,
    /// The property holding the locality's name.
    pub name: Option<String>,
    /// The property holding the parent's code.
    pub parent_code: Option<String>,
}

/// One imported boundary: the locality (its `parent` left `None`) and its parent's code.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    /// The locality, with geometry and centroid, no parent yet.
    pub locality: Locality,
    /// The code of the enclosing locality one level up, when the file gives it.
    pub parent_code: Option<LocalityCode>,
    /// The feature's number in the file (1-based), for a [`Problem`] found later.
    pub row: usize,
}

impl BoundaryFeature {
    /// The locality with `parent` set to the id every installation derives from
    /// `parent_code` ([`Locality::id_for_code`]). The caller checks that the parent exists
    /// before storing it.
    pub fn into_linked_locality(self) -> Locality {
        let mut l = self.locality;
        if l.level != AdminLevel::Adm0 {
            if let Some(code) = &self.parent_code {
                let parent = Locality::id_for_code(code);
                if parent != l.id {
                    l.parent = Some(parent);
                }
            }
        }
        l
    }
}

/// The result of reading one boundary file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundarySet {
    /// The localities read, in file order.
    pub features: Vec<BoundaryFeature>,
    /// Countries (ADM0) named by the features' properties (`adm0_pcode`/`adm0_name`, or
    /// `GID_0`, `iso3`, `shapeGroup`), without geometry, sorted by code.
    pub countries: Vec<Locality>,
    /// Features that were rejected.
    pub problems: Vec<Problem>,
}

/// The property names present in a file: lower-case name → spelling used in the file.
struct Keys(BTreeMap<String, String>);

impl Keys {
    fn of(features: &[Result<Feature, String>]) -> Self {
        let mut keys = BTreeMap::new();
        for f in features.iter().flatten() {
            for k in f.properties.keys() {
                keys.entry(k.to_ascii_lowercase())
                    .or_insert_with(|| k.clone());
            }
        }
        Keys(keys)
    }

    /// The first candidate present, in the file's spelling.
    fn find<S: AsRef<str>>(&self, candidates: &[S]) -> Option<String> {
        candidates
            .iter()
            .find_map(|c| self.0.get(&c.as_ref().to_ascii_lowercase()).cloned())
    }

    /// The file's property names, for a message asking to choose one with `option`.
    fn hint(&self, option: &str) -> String {
        if self.0.is_empty() {
            return "; the features have no properties".into();
        }
        let mut names: Vec<&str> = self.0.values().map(String::as_str).take(20).collect();
        if self.0.len() > names.len() {
            names.push("…");
        }
        format!(
            "; the features have {}: name the one to use with {option}",
            names.join(", ")
        )
    }

    /// Keys (file spelling) whose lower-case name satisfies `pred`, in sorted order.
    fn matching(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        self.0
            .iter()
            .filter(|(lower, _)| pred(lower))
            .map(|(_, orig)| orig.clone())
            .collect()
    }
}

/// Language columns of COD-AB files: `adm1_en`, `ADM1_FR`, … (two letters after `admN_`).
fn is_language_key(lower: &str, prefix: &str) -> bool {
    lower.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 2 && rest != "id" && rest.bytes().all(|b| b.is_ascii_lowercase())
    })
}

/// The column prefixes of level `n` in MIMU's layout (the Myanmar Information Management
/// Unit's boundaries): state or region `ST` (`SR` in earlier files), district `DT`,
/// township `TS`. A level's name is in the prefix's own column (`ST`), its P-code in
/// `ST_PCODE`, its name in Myanmar script in `ST_MMR4` or `ST_MMR`.
fn mimu_prefixes(n: u8) -> &'static [&'static str] {
    match n {
        1 => &["st", "sr"],
        2 => &["dt"],
        3 => &["ts"],
        _ => &[],
    }
}

/// The code properties of level `n` in COD-AB (current and earlier, whole or cut to the 10
/// characters of a shapefile's column), GADM and MIMU files.
fn code_keys(n: u8) -> Vec<String> {
    let mut keys = vec![
        format!("adm{n}_pcode"),
        format!("adm{n}pcode"),
        format!("admin{n}pcode"),
        format!("admin{n}pcod"),
        format!("gid_{n}"),
    ];
    keys.extend(mimu_prefixes(n).iter().map(|p| format!("{p}_pcode")));
    keys
}

/// MIMU's code (`name` false) or name columns of level `n` as a message lists them:
/// "ST_PCODE, SR_PCODE, ", "ST beside ST_PCODE, SR beside SR_PCODE, ".
fn mimu_listed(n: u8, name: bool) -> String {
    mimu_prefixes(n)
        .iter()
        .map(|p| {
            let p = p.to_ascii_uppercase();
            if name {
                format!("{p} beside {p}_PCODE, ")
            } else {
                format!("{p}_PCODE, ")
            }
        })
        .collect()
}

/// MIMU's name columns of level `n` that the file has beside their P-code column (`ST`
/// with `ST_PCODE`): a bare `ST` or `TS` elsewhere may mean anything.
fn mimu_name_keys(keys: &Keys, n: u8) -> Vec<String> {
    mimu_prefixes(n)
        .iter()
        .filter(|p| keys.find(&[format!("{p}_pcode")]).is_some())
        .map(|p| p.to_string())
        .collect()
}

fn name_candidates(keys: &Keys, n: u8) -> Vec<String> {
    let prefix = format!("adm{n}_");
    let earlier = format!("admin{n}name_");
    let mut c = vec![format!("adm{n}_name"), format!("adm{n}_en")];
    c.extend(keys.matching(|k| is_language_key(k, &prefix)));
    c.extend([format!("admin{n}name_en"), format!("admin{n}name")]);
    c.extend(keys.matching(|k| is_language_key(k, &earlier)));
    c.push(format!("name_{n}"));
    c.extend(mimu_name_keys(keys, n));
    if n == 0 {
        c.push("country".into());
    }
    c.extend(["shapeName".to_string(), "name".to_string()]);
    c
}

fn alt_name_keys(keys: &Keys, n: u8, chosen: &str) -> Vec<String> {
    let prefix = format!("adm{n}_");
    let earlier = format!("admin{n}name_");
    let numbered = format!("adm{n}_name");
    let chosen = chosen.to_ascii_lowercase();
    keys.matching(|k| {
        k != chosen
            && (k
                .strip_prefix(&numbered)
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                || is_language_key(k, &prefix)
                || is_language_key(k, &earlier)
                || k == format!("adm{n}_ref")
                || k == format!("admin{n}refname")
                || k == format!("admin{n}refn")
                || k.starts_with(&format!("admin{n}altn"))
                || k.starts_with(&format!("adm{n}_alt"))
                || k.starts_with(&format!("adm{n}alt"))
                || k == format!("varname_{n}")
                || k == format!("nl_name_{n}")
                || mimu_prefixes(n).iter().any(|p| {
                    k.strip_prefix(&format!("{p}_mmr"))
                        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
                }))
    })
}

/// Where each feature's code of an area one level up (its country, or its parent) is read.
enum Above {
    /// A property holding it.
    Key(String),
    /// The ISO 3166-1 alpha-3 code that begins the level-1 P-code in this property (MIMU's
    /// `ST_PCODE` "MMR001": "MMR"), for a file whose features name no country.
    CountryPrefix(String),
}

impl Above {
    /// Where the features' country is: a country property (`adm0_pcode`, `GID_0`, `iso3`,
    /// `shapeGroup`, …), else the prefix of the level-1 P-codes.
    fn country(keys: &Keys) -> Option<Self> {
        keys.find(&[
            "adm0_pcode",
            "admin0pcode",
            "admin0pcod",
            "gid_0",
            "iso3",
            "shapeGroup",
        ])
        .map(Above::Key)
        .or_else(|| keys.find(&code_keys(1)).map(Above::CountryPrefix))
    }

    /// The code this feature gives, as text.
    fn code(&self, f: &Feature) -> Option<String> {
        match self {
            Above::Key(k) => props_text(f, k),
            Above::CountryPrefix(k) => {
                let pcode = props_text(f, k)?;
                let (prefix, rest) = pcode.split_at_checked(3)?;
                let iso = prefix
                    .bytes()
                    .all(|b| b.is_ascii_uppercase())
                    .then(|| crate::country::iso3(prefix))
                    .flatten()
                    .filter(|iso| *iso == prefix)?;
                rest.starts_with(|c: char| c.is_ascii_digit())
                    .then(|| iso.to_string())
            }
        }
    }
}

fn props_text(f: &Feature, key: &str) -> Option<String> {
    json::get_ci(&f.properties, key)
        .and_then(json::text)
        .map(|s| s.into_owned())
}

/// Every alternative name in `keys` (values split on `|`, as GADM lists them), without
/// placeholders such as GADM's "NA" ([`is_placeholder`]).
fn alt_names(f: &Feature, keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| props_text(f, k))
        .flat_map(|v| {
            v.split('|')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !is_placeholder(s))
        .collect()
}

/// The text of a name property, `None` when empty or a placeholder ("NA", "N/A", "-").
fn name_text(f: &Feature, key: &str) -> Option<String> {
    props_text(f, key).filter(|s| !is_placeholder(s))
}

fn ring(positions: &[geojson::Position], which: &str) -> Result<LineString<f64>, String> {
    let mut coords = Vec::with_capacity(positions.len() + 1);
    for p in positions {
        match p.as_slice() {
            [x, y, ..] if x.is_finite() && y.is_finite() => coords.push(Coord { x: *x, y: *y }),
            _ => {
                return Err(format!(
                    "{which} has a position that is not two finite numbers"
                ))
            }
        }
    }
    let mut distinct = coords.clone();
    distinct.dedup();
    if distinct.len() > 1 && distinct.first() == distinct.last() {
        distinct.pop();
    }
    if distinct.len() < 3 {
        return Err(format!("{which} has fewer than 3 distinct positions"));
    }
    Ok(LineString::new(coords))
}

fn polygon(rings: &[Vec<geojson::Position>], at: &str) -> Result<Polygon<f64>, String> {
    let (outer, inner) = rings
        .split_first()
        .ok_or_else(|| format!("{at} has no rings"))?;
    let exterior = ring(outer, &format!("the outer ring of {at}"))?;
    let holes = inner
        .iter()
        .enumerate()
        .map(|(i, r)| ring(r, &format!("hole {} of {at}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

/// Converts a GeoJSON Polygon or MultiPolygon into a `MultiPolygon`; of a
/// GeometryCollection (which GIS tools write when a dissolve or clip leaves stray lines or
/// points beside an area) the polygons are kept and the rest dropped.
fn multipolygon(v: serde_json::Value) -> Result<MultiPolygon<f64>, String> {
    areas(json::geometry(v)?)
}

fn areas(value: geojson::GeometryValue) -> Result<MultiPolygon<f64>, String> {
    match value {
        geojson::GeometryValue::GeometryCollection { geometries } => {
            let mut parts = Vec::new();
            for g in geometries {
                if matches!(
                    g.value,
                    geojson::GeometryValue::Polygon { .. }
                        | geojson::GeometryValue::MultiPolygon { .. }
                        | geojson::GeometryValue::GeometryCollection { .. }
                ) {
                    parts.extend(areas(g.value)?.0);
                }
            }
            if parts.is_empty() {
                return Err("is a GeometryCollection without a Polygon or MultiPolygon".into());
            }
            Ok(MultiPolygon(parts))
        }
        geojson::GeometryValue::Polygon { coordinates } => {
            Ok(MultiPolygon(vec![polygon(&coordinates, "the polygon")?]))
        }
        geojson::GeometryValue::MultiPolygon { coordinates } => {
            if coordinates.is_empty() {
                return Err("is an empty MultiPolygon".into());
            }
            coordinates
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("polygon {}", i + 1)))
                .collect::<Result<Vec<_>, _>>()
                .map(MultiPolygon)
        }
        other => Err(format!(
            "is a {}, not a Polygon or MultiPolygon",
            other.type_name()
        )),
    }
}

/// Whether `p` lies strictly inside one of the polygons of `g` (not on an edge).
fn strictly_inside(g: &MultiPolygon<f64>, p: Point<f64>) -> bool {
    g.0.iter()
        .any(|poly| poly.coordinate_position(&p.0) == CoordPos::Inside)
}

/// A point inside `g`, chosen deterministically: the centroid when it is strictly inside
/// (so most localities keep the point they always had), else `geo`'s interior point (the
/// middle of the widest horizontal stretch through the middle of one of its polygons).
fn point_inside(g: &MultiPolygon<f64>) -> Option<Point<f64>> {
    let centroid = g.centroid()?;
    if strictly_inside(g, centroid) {
        return Some(centroid);
    }
    g.interior_point().or(Some(centroid))
}

/// The longitude brought into [-180, 180].
fn normalise_lon(x: f64) -> f64 {
    if x > 180.0 {
        x - 360.0
    } else if x < -180.0 {
        x + 360.0
    } else {
        x
    }
}

/// `g` with its western polygons moved east by 360° when its polygons lie on both sides of
/// the antimeridian (split there as RFC 7946 asks: Fiji, Chukotka, the Aleutians), that is
/// when they span more than 180° of longitude and moving them makes the span narrower.
fn unwrap_antimeridian(g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    let spans: Vec<(f64, f64)> =
        g.0.iter()
            .filter_map(|p| p.bounding_rect())
            .map(|r| (r.min().x, r.max().x))
            .collect();
    let width = |spans: &mut dyn Iterator<Item = (f64, f64)>| {
        let (lo, hi) = spans.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        });
        hi - lo
    };
    let west = |(a, b): (f64, f64)| a + b < 0.0;
    let before = width(&mut spans.iter().copied());
    let after = width(&mut spans.iter().map(|&s| {
        if west(s) {
            (s.0 + 360.0, s.1 + 360.0)
        } else {
            s
        }
    }));
    if before <= 180.0 || after >= before {
        return None;
    }
    let shifted =
        g.0.iter()
            .map(|p| {
                let moves = p
                    .bounding_rect()
                    .is_some_and(|r| west((r.min().x, r.max().x)));
                if moves {
                    geo::MapCoords::map_coords(p, |c| Coord {
                        x: c.x + 360.0,
                        y: c.y,
                    })
                } else {
                    p.clone()
                }
            })
            .collect();
    Some(MultiPolygon(shifted))
}

/// A representative point of an area that lies strictly inside it, so that the area one
/// level up that contains this point is the area's parent and a report coarsened to the
/// area stays in it (a district ringing a city has its centroid in the city; this point is
/// in the district). Deterministic: the centroid when it is inside, else a point found
/// from the largest polygon (see `point_inside`). An area whose polygons lie on both sides
/// of the antimeridian is handled as one piece (its western polygons moved east by 360°),
/// and the point's longitude brought back into [-180, 180].
pub fn representative_point(g: &MultiPolygon<f64>) -> Option<Point<f64>> {
    let unwrapped = unwrap_antimeridian(g);
    let p = point_inside(unwrapped.as_ref().unwrap_or(g))?;
    Some(Point::new(normalise_lon(p.x()), p.y()))
}

/// Where a ring of `g` crosses the antimeridian without being split: two consecutive
/// positions more than 180° of longitude apart (edges along a pole, or from one edge of the
/// map to the other, excepted), which a
/// planar reading takes the long way round the globe.
fn antimeridian_jump(g: &MultiPolygon<f64>) -> Option<String> {
    for (i, poly) in g.0.iter().enumerate() {
        let at = if g.0.len() == 1 {
            "the polygon".to_string()
        } else {
            format!("polygon {}", i + 1)
        };
        let rings = std::iter::once(("the outer ring".to_string(), poly.exterior())).chain(
            poly.interiors()
                .iter()
                .enumerate()
                .map(|(h, r)| (format!("hole {}", h + 1), r)),
        );
        for (which, ring) in rings {
            for (k, line) in ring.lines().enumerate() {
                let (a, b) = (line.start, line.end);
                // Along a pole, or across the whole map from one edge to the other (a band
                // around a pole): not a crossing.
                let whole_width = (a.y.abs() == 90.0 && b.y.abs() == 90.0)
                    || (a.x.abs() == 180.0 && b.x.abs() == 180.0);
                if (a.x - b.x).abs() > 180.0 && !whole_width {
                    return Some(format!(
                        "{which} of {at} jumps from longitude {} to {} (positions {} and {}), \
                         so it crosses the antimeridian (longitude 180) and would cover the rest \
                         of the globe; split it at longitude 180 into a MultiPolygon with one \
                         part on each side (RFC 7946, section 3.1.9) and import it again",
                        a.x,
                        b.x,
                        k + 1,
                        k + 2
                    ));
                }
            }
        }
    }
    None
}

fn supplied_centroid(
    f: &Feature,
    lat_key: &Option<String>,
    lon_key: &Option<String>,
) -> Option<Point<f64>> {
    let num = |k: &Option<String>| -> Option<f64> {
        k.as_deref()
            .and_then(|k| props_text(f, k))
            .and_then(|s| s.parse::<f64>().ok())
    };
    let (lat, lon) = (num(lat_key)?, num(lon_key)?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then(|| Point::new(lon, lat))
}

/// The level of the areas in a file, and the property that tells it: the deepest level
/// whose code property (COD-AB, GADM) the file has, or geoBoundaries' `shapeType` when
/// every feature gives the same `ADMk`.
fn file_level(keys: &Keys, features: &[Result<Feature, String>]) -> Option<(u8, String)> {
    if let Some(k) = (0..=5u8)
        .rev()
        .find_map(|k| keys.find(&code_keys(k)).map(|c| (k, c)))
    {
        return Some(k);
    }
    let key = keys.find(&["shapeType"])?;
    let mut types = features.iter().flatten().map(|f| props_text(f, &key));
    let first = types.next()??;
    let k = first
        .to_ascii_uppercase()
        .strip_prefix("ADM")?
        .parse::<u8>()
        .ok()?;
    types
        .all(|t| t.as_deref() == Some(first.as_str()))
        .then(|| (k, format!("{key} \"{first}\"")))
}

/// Refuses a file of level-`k` areas read as level `n`: ADM2 districts read as provinces
/// would each become a province (most of them refused as duplicates of their province's
/// code), and ADM1 provinces read as districts would find no code.
fn check_level(
    keys: &Keys,
    features: &[Result<Feature, String>],
    n: u8,
) -> Result<(), IngestError> {
    let Some((k, key)) = file_level(keys, features) else {
        return Ok(());
    };
    let shallower_only = k < n && keys.find(&code_keys(n)).is_none();
    if k <= n && !shallower_only {
        return Ok(());
    }
    let what = if k > 3 {
        "; Usalama keeps levels adm1 to adm3, so import the level-3 file with --level adm3"
            .to_string()
    } else {
        format!(": import it with --level adm{k}")
    };
    Err(IngestError::Format(format!(
        "the file holds level-{k} areas (it has the property {key}), not level-{n} ones{what} \
         (or name the properties to use with --code-field and --name-field)"
    )))
}

/// Refuses a file whose first position is not a longitude and latitude in degrees: its
/// coordinates are in a projected system (metres) that it does not name, and every one of
/// its features would be refused alike.
fn check_degrees(features: &[Result<Feature, String>]) -> Result<(), IngestError> {
    let first = features.iter().flatten().find_map(|f| {
        let c = f
            .geometry
            .as_ref()?
            .as_ref()
            .ok()?
            .0
            .first()?
            .exterior()
            .0
            .first()?;
        Some((c.x, c.y))
    });
    match first {
        Some((x, y)) if !(x.abs() <= 180.0 && y.abs() <= 90.0) => {
            Err(IngestError::Format(format!(
                "the first position of the file, ({x}, {y}), is not a longitude and latitude \
                 in degrees: the coordinates are in a projected system (metres); {}",
                json::REPROJECT
            )))
        }
        _ => Ok(()),
    }
}

/// The code of a feature whose geoBoundaries `shapeID` is a bare number, as in CGAZ (the
/// global files of all countries, whose `shapeID` numbers the features of one file: the
/// ADM1 and ADM2 files both have a 1000): the number qualified by the feature's country
/// (`shapeGroup`) and level, `TCD-ADM1-1000` (`ADM1-1000` without a country), the form of
/// geoBoundaries' own earlier identifiers, so that the areas of two levels or two
/// countries do not share a code. A JSON number written as a decimal (`1000.0`) counts as
/// the whole number. `None` for any other `shapeID`, kept as it is.
fn qualified_shape_number(id: &str, country: Option<String>, n: u8) -> Option<String> {
    let whole = id.strip_suffix(".0").unwrap_or(id);
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match country {
        Some(c) => format!("{c}-ADM{n}-{whole}"),
        None => format!("ADM{n}-{whole}"),
    })
}

/// Resolves an explicit property name, failing if no feature has it.
fn explicit(keys: &Keys, name: &str) -> Result<String, IngestError> {
    keys.find(&[name])
        .ok_or_else(|| IngestError::MissingColumns(vec![name.to_string()]))
}

/// Reads a boundary GeoJSON as localities of `level`. Property names are detected (see the
/// module documentation) unless `fields` names them. No detectable code or name property
/// (or a named one absent from every feature) is an [`IngestError::MissingColumns`]; a
/// feature without a code or name, with a duplicate code, or with a geometry that is not a
/// usable WGS 84 Polygon/MultiPolygon is a [`Problem`] (row = feature index + 1). A file
/// without features, of areas of another level, or whose coordinates are not degrees is an
/// [`IngestError::Format`] saying what to do. The file is read from `input` once, each
/// feature's geometry converted as soon as it is read; the text is never held whole.
pub fn read_boundaries(
    input: impl std::io::BufRead,
    level: AdminLevel,
    fields: &BoundaryFields,
) -> Result<BoundarySet, IngestError> {
    let features = json::features_with(input, multipolygon)?;
    if features.is_empty() {
        return Err(IngestError::Format(
            "the file has no features (no areas): check that the layer with the areas was \
             exported"
                .into(),
        ));
    }
    let keys = Keys::of(&features);
    let n = level.depth();
    if fields.code.is_none() {
        check_level(&keys, &features, n)?;
    }
    check_degrees(&features)?;

    let code_key = match &fields.code {
        Some(k) => explicit(&keys, k)?,
        None => {
            let mut c = code_keys(n).to_vec();
            if n == 0 {
                c.extend(["iso3".to_string(), "shapeGroup".to_string()]);
            }
            let shape_iso_complete = keys.find(&["shapeISO"]).is_some_and(|k| {
                features
                    .iter()
                    .flatten()
                    .all(|f| props_text(f, &k).is_some())
            });
            if shape_iso_complete {
                c.push("shapeISO".into());
            }
            c.push("shapeID".into());
            keys.find(&c).ok_or_else(|| {
                IngestError::MissingColumns(vec![format!(
                    "a code property (adm{n}_pcode, ADM{n}_PCODE, admin{n}Pcode, GID_{n}, \
                     {}shapeISO or shapeID){}",
                    mimu_listed(n, false),
                    keys.hint("--code-field")
                )])
            })?
        }
    };
    let name_key = match &fields.name {
        Some(k) => explicit(&keys, k)?,
        None => keys.find(&name_candidates(&keys, n)).ok_or_else(|| {
            IngestError::MissingColumns(vec![format!(
                "a name property (adm{n}_name, ADM{n}_EN, admin{n}Name_en, NAME_{n}, {}or \
                 shapeName){}",
                mimu_listed(n, true),
                keys.hint("--name-field")
            )])
        })?,
    };
    let country = if n >= 1 { Above::country(&keys) } else { None };
    let parent = match &fields.parent_code {
        Some(k) => Some(Above::Key(explicit(&keys, k)?)),
        None => match n {
            0 => None,
            1 => Above::country(&keys),
            _ => keys.find(&code_keys(n - 1)).map(Above::Key),
        },
    };
    let alt_keys = alt_name_keys(&keys, n, &name_key);
    let country_name_key = if n >= 1 {
        let mut c = vec!["adm0_name".to_string(), "adm0_en".to_string()];
        c.extend(keys.matching(|k| is_language_key(k, "adm0_")));
        c.extend(["admin0name_en".to_string(), "admin0name".to_string()]);
        c.extend(keys.matching(|k| is_language_key(k, "admin0name_")));
        c.extend(["country".to_string(), "name_0".to_string()]);
        keys.find(&c)
    } else {
        None
    };
    let country_alt_keys = country_name_key
        .as_deref()
        .map(|k| alt_name_keys(&keys, 0, k))
        .unwrap_or_default();
    // geoBoundaries' `shapeID` found, not named: a CGAZ number is qualified.
    let numbered_shapes = fields.code.is_none() && code_key.eq_ignore_ascii_case("shapeID");
    let country_of = |f: &Feature| country.as_ref().and_then(|c| c.code(f));
    let lat_key = keys.find(&["center_lat"]);
    let lon_key = keys.find(&["center_lon"]);

    let mut set = BoundarySet::default();
    let mut seen: HashMap<LocalityCode, usize> = HashMap::new();
    let mut countries: BTreeMap<LocalityCode, Locality> = BTreeMap::new();
    for (i, f) in features.into_iter().enumerate() {
        let row = i + 1;
        let mut f = match f {
            Ok(f) => f,
            Err(reason) => {
                set.problems.push(Problem::new(row, "feature", reason));
                continue;
            }
        };
        let geometry = f.geometry.take();
        let result = (|| -> Result<BoundaryFeature, Problem> {
            let mut code_text = props_text(&f, &code_key)
                .ok_or_else(|| Problem::new(row, &code_key, "is empty"))?;
            if numbered_shapes {
                if let Some(q) = qualified_shape_number(&code_text, country_of(&f), n) {
                    code_text = q;
                }
            }
            let code = LocalityCode::new(&code_text).map_err(|e| {
                Problem::new(row, &code_key, format!("'{code_text}': {}", e.reason))
            })?;
            if let Some(prev) = seen.get(&code) {
                return Err(Problem::new(
                    row,
                    &code_key,
                    format!("'{code}' is also the code of feature {prev}"),
                ));
            }
            let name = props_text(&f, &name_key)
                .ok_or_else(|| Problem::new(row, &name_key, "is empty"))?;
            let geometry = geometry
                .ok_or_else(|| Problem::new(row, "geometry", "is missing"))?
                .map_err(|r| Problem::new(row, "geometry", r))?;
            if let Some(jump) = antimeridian_jump(&geometry) {
                return Err(Problem::new(
                    row,
                    "geometry",
                    format!("'{name}' ({code}): {jump}"),
                ));
            }
            // A supplied centre is kept only when it lies inside the area.
            let centroid = supplied_centroid(&f, &lat_key, &lon_key)
                .filter(|c| {
                    strictly_inside(&geometry, *c)
                        || unwrap_antimeridian(&geometry)
                            .is_some_and(|u| strictly_inside(&u, Point::new(c.x() + 360.0, c.y())))
                })
                .or_else(|| representative_point(&geometry));
            let locality =
                Locality::new(code.clone(), &name, level, None, Some(geometry), centroid)
                    .map_err(|e| {
                        let field = match e.field {
                            "name" => name_key.as_str(),
                            other => other,
                        };
                        Problem::new(row, field, e.reason)
                    })?
                    .with_alt_names(alt_names(&f, &alt_keys));
            let parent_code = parent
                .as_ref()
                .and_then(|p| p.code(&f))
                .and_then(|p| LocalityCode::new(&p).ok())
                .filter(|p| *p != code);
            Ok(BoundaryFeature {
                locality,
                parent_code,
                row,
            })
        })();
        match result {
            Ok(feature) => {
                seen.insert(feature.locality.code.clone(), row);
                set.features.push(feature);
            }
            Err(p) => set.problems.push(p),
        }
        if let Some(code) = country
            .as_ref()
            .and_then(|c| c.code(&f))
            .and_then(|c| LocalityCode::new(&c).ok())
        {
            if let Entry::Vacant(slot) = countries.entry(code) {
                let code = slot.key().clone();
                // Without a name property, the ISO 3166-1 name of an alpha-3 code.
                let name = country_name_key
                    .as_deref()
                    .and_then(|k| name_text(&f, k))
                    .or_else(|| crate::country::name(code.as_str()).map(str::to_string))
                    .unwrap_or_else(|| code.to_string());
                if let Ok(c) = Locality::new(code, &name, AdminLevel::Adm0, None, None, None) {
                    slot.insert(c.with_alt_names(alt_names(&f, &country_alt_keys)));
                }
            }
        }
    }
    set.countries = countries.into_values().collect();
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// [`read_boundaries`] of `text` with the default fields.
    fn read(text: &str, level: AdminLevel) -> Result<BoundarySet, IngestError> {
        read_boundaries(text.as_bytes(), level, &BoundaryFields::default())
    }

    fn collection(features: Vec<serde_json::Value>) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn square(x: f64, y: f64) -> serde_json::Value {
        json!({"type": "Polygon", "coordinates": [[[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x, y]]]})
    }

    fn feature(props: serde_json::Value, geometry: serde_json::Value) -> serde_json::Value {
        json!({"type": "Feature", "properties": props, "geometry": geometry})
    }

    #[test]
    fn cod_ab_lower_case_with_alt_names_and_country() {
        let text = collection(vec![feature(
            json!({"adm1_pcode": "XY01", "adm1_name": "North", "adm1_name1": "Nord", "adm1_name2": null,
                   "adm1_ref": "North", "adm0_pcode": "XY", "adm0_name": "Xland", "adm0_name1": "Xpays",
                   "center_lat": 0.25, "center_lon": 0.75}),
            square(0.0, 0.0),
        )]);
        let set = read(&text, AdminLevel::Adm1).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let f = &set.features[0];
        assert_eq!(f.locality.code.as_str(), "XY01");
        assert_eq!(f.locality.name, "North");
        assert_eq!(f.locality.alt_names, vec!["Nord".to_string()]);
        assert_eq!(f.locality.centroid, Some(Point::new(0.75, 0.25)));
        assert_eq!(f.parent_code.as_ref().map(|c| c.as_str()), Some("XY"));
        assert_eq!(set.countries.len(), 1);
        assert_eq!(set.countries[0].name, "Xland");
        assert_eq!(set.countries[0].alt_names, vec!["Xpays".to_string()]);
        assert!(set.countries[0].geometry.is_none());
        let linked = f.clone().into_linked_locality();
        assert_eq!(linked.parent, Some(set.countries[0].id));
    }

    #[test]
    fn cod_ab_upper_case_language_columns() {
        let text = collection(vec![feature(
            json!({"ADM2_PCODE": "ZZ0101", "ADM2_EN": "Riverside", "ADM2_FR": "Bord-de-Rivière",
                   "ADM1_PCODE": "ZZ01", "ADM1_EN": "North", "ADM0_PCODE": "ZZ", "ADM0_EN": "Zedland"}),
            json!({"type": "MultiPolygon", "coordinates": [[[[0,0],[2,0],[2,2],[0,2],[0,0]]], [[[5,5],[6,5],[6,6],[5,5]]]]}),
        )]);
        let set = read(&text, AdminLevel::Adm2).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let l = &set.features[0].locality;
        assert_eq!((l.code.as_str(), l.name.as_str()), ("ZZ0101", "Riverside"));
        assert_eq!(l.alt_names, vec!["Bord-de-Rivière".to_string()]);
        assert_eq!(l.geometry.as_ref().map(|g| g.0.len()), Some(2));
        assert!(l.centroid.is_some());
        assert_eq!(
            set.features[0].parent_code.as_ref().map(|c| c.as_str()),
            Some("ZZ01")
        );
        assert_eq!(set.countries[0].name, "Zedland");
    }

    #[test]
    fn geoboundaries_and_gadm() {
        let gb = collection(vec![
            feature(
                json!({"shapeName": "Alpha", "shapeISO": "", "shapeID": "ABC-ADM1-1", "shapeGroup": "ABC", "shapeType": "ADM1"}),
                square(0.0, 0.0),
            ),
            feature(
                json!({"shapeName": "Beta", "shapeISO": "ABC-B", "shapeID": "ABC-ADM1-2", "shapeGroup": "ABC", "shapeType": "ADM1"}),
                square(1.0, 0.0),
            ),
        ]);
        let set = read(&gb, AdminLevel::Adm1).unwrap();
        let codes: Vec<_> = set
            .features
            .iter()
            .map(|f| f.locality.code.as_str())
            .collect();
        assert_eq!(
            codes,
            ["ABC-ADM1-1", "ABC-ADM1-2"],
            "shapeISO is incomplete, so shapeID is used"
        );
        assert_eq!(
            set.features[0].parent_code.as_ref().map(|c| c.as_str()),
            Some("ABC")
        );
        assert_eq!(set.countries[0].code.as_str(), "ABC");

        let gadm = collection(vec![feature(
            json!({"GID_0": "ABC", "COUNTRY": "Abcland", "GID_1": "ABC.1_1", "NAME_1": "One", "VARNAME_1": "Uno|Un"}),
            square(0.0, 0.0),
        )]);
        let set = read(&gadm, AdminLevel::Adm1).unwrap();
        let l = &set.features[0].locality;
        assert_eq!((l.code.as_str(), l.name.as_str()), ("ABC.1_1", "One"));
        assert_eq!(l.alt_names, vec!["Uno".to_string(), "Un".to_string()]);
        assert_eq!(set.countries[0].name, "Abcland");
    }

    #[test]
    fn cgaz_numbers_are_qualified_by_country_and_level() {
        // geoBoundaries CGAZ: all countries in one file, `shapeID` a number of that file.
        let cgaz = |level: &str, features: &[(&str, &str, serde_json::Value)]| {
            collection(
                features
                    .iter()
                    .enumerate()
                    .map(|(i, (group, name, id))| {
                        feature(
                            json!({"shapeGroup": group, "shapeType": level, "shapeName": name,
                                   "shapeID": id}),
                            square(i as f64, 10.0),
                        )
                    })
                    .collect(),
            )
        };
        let adm1 = cgaz(
            "ADM1",
            &[
                ("TCD", "Salamat", json!(1000)),
                ("CAF", "Vakaga", json!(1001.0)),
            ],
        );
        let set = read(&adm1, AdminLevel::Adm1).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let got: Vec<_> = set
            .features
            .iter()
            .map(|f| {
                (
                    f.locality.code.as_str(),
                    f.parent_code.as_ref().map(|c| c.as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("TCD-ADM1-1000", Some("TCD")),
                ("CAF-ADM1-1001", Some("CAF"))
            ]
        );
        let countries: Vec<_> = set
            .countries
            .iter()
            .map(|c| (c.code.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            countries,
            [("CAF", "Central African Republic"), ("TCD", "Chad")]
        );
        // The ADM2 file's numbers start again: its codes differ from the ADM1 file's.
        let adm2 = cgaz("ADM2", &[("TCD", "Aboudeïa", json!("1000"))]);
        let set = read(&adm2, AdminLevel::Adm2).unwrap();
        assert_eq!(set.features[0].locality.code.as_str(), "TCD-ADM2-1000");
        // Named explicitly, the number is taken as it is.
        let fields = BoundaryFields {
            code: Some("shapeID".into()),
            ..Default::default()
        };
        let set = read_boundaries(adm1.as_bytes(), AdminLevel::Adm1, &fields).unwrap();
        assert_eq!(set.features[0].locality.code.as_str(), "1000");
        assert_eq!(qualified_shape_number("12345678B0", None, 1), None);
        assert_eq!(
            qualified_shape_number("7", None, 2).as_deref(),
            Some("ADM2-7")
        );
    }

    #[test]
    fn mimu_states_districts_and_townships() {
        // Myanmar's layout from MIMU: `ST`/`ST_PCODE`, `DT`/`DT_PCODE`, `TS`/`TS_PCODE`,
        // names in Myanmar script in `*_MMR4`, no country column.
        let kachin = json!({"OBJECTID": 1, "ST": "Kachin", "ST_PCODE": "MMR001", "ST_RG": "State",
                            "ST_MMR4": "ကချင်ပြည်နယ်"});
        let adm1 = collection(vec![
            feature(kachin, square(96.0, 25.0)),
            feature(
                json!({"OBJECTID": 2, "ST": "Yangon", "ST_PCODE": "MMR013", "ST_RG": "Region",
                       "ST_MMR4": "ရန်ကုန်တိုင်းဒေသကြီး"}),
                square(96.0, 16.5),
            ),
        ]);
        let set = read(&adm1, AdminLevel::Adm1).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let f = &set.features[0];
        assert_eq!(
            (f.locality.code.as_str(), f.locality.name.as_str()),
            ("MMR001", "Kachin")
        );
        assert_eq!(f.locality.alt_names, ["ကချင်ပြည်နယ်"]);
        assert_eq!(f.parent_code.as_ref().map(|c| c.as_str()), Some("MMR"));
        let countries: Vec<_> = set
            .countries
            .iter()
            .map(|c| (c.code.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(countries, [("MMR", "Myanmar")]);

        let adm2 = collection(vec![feature(
            json!({"ST": "Kachin", "ST_PCODE": "MMR001", "DT": "Myitkyina", "DT_PCODE": "MMR001D001",
                   "ST_MMR4": "ကချင်ပြည်နယ်", "DT_MMR4": "မြစ်ကြီးနားခရိုင်"}),
            square(97.0, 25.0),
        )]);
        let set = read(&adm2, AdminLevel::Adm2).unwrap();
        let f = &set.features[0];
        assert_eq!(
            (f.locality.code.as_str(), f.locality.name.as_str()),
            ("MMR001D001", "Myitkyina")
        );
        assert_eq!(f.locality.alt_names, ["မြစ်ကြီးနားခရိုင်"]);
        assert_eq!(f.parent_code.as_ref().map(|c| c.as_str()), Some("MMR001"));
        assert_eq!(set.countries[0].code.as_str(), "MMR");

        let adm3 = collection(vec![feature(
            json!({"ST": "Kachin", "ST_PCODE": "MMR001", "DT": "Myitkyina", "DT_PCODE": "MMR001D001",
                   "TS": "Waingmaw", "TS_PCODE": "MMR001002", "TS_MMR4": "ဝိုင်းမော်",
                   "TS_MMR": "ဝိုင္းေမာ္"}),
            square(97.5, 25.2),
        )]);
        let set = read(&adm3, AdminLevel::Adm3).unwrap();
        let f = &set.features[0];
        assert_eq!(
            (f.locality.code.as_str(), f.locality.name.as_str()),
            ("MMR001002", "Waingmaw")
        );
        assert_eq!(f.locality.alt_names, ["ဝိုင္းေမာ္", "ဝိုင်းမော်"]);
        assert_eq!(
            f.parent_code.as_ref().map(|c| c.as_str()),
            Some("MMR001D001")
        );
        // A township file read as states is refused naming its level, as other layouts.
        let err = read(&adm3, AdminLevel::Adm1).unwrap_err().to_string();
        assert!(
            err.contains("level-3 areas") && err.contains("TS_PCODE"),
            "{err}"
        );

        // Earlier files: `SR`/`SR_PCODE` for the state or region.
        let earlier = collection(vec![feature(
            json!({"SR": "Rakhine", "SR_PCODE": "MMR012", "DT": "Sittwe", "DT_PCODE": "MMR012D001"}),
            square(92.8, 20.1),
        )]);
        let set = read(&earlier, AdminLevel::Adm1);
        assert!(set.is_err(), "a district file is not a state file");
        let set = read(&earlier, AdminLevel::Adm2).unwrap();
        let f = &set.features[0];
        assert_eq!(f.locality.name, "Sittwe");
        assert_eq!(f.parent_code.as_ref().map(|c| c.as_str()), Some("MMR012"));

        // Nothing of it is Myanmar's: another country's P-codes give that country, and a
        // prefix that is no ISO 3166-1 alpha-3 code gives none.
        let other = collection(vec![
            feature(
                json!({"SR": "Banteay Meanchey", "SR_PCODE": "KHM01"}),
                square(103.0, 13.5),
            ),
            feature(
                json!({"SR": "North", "SR_PCODE": "XYZ02"}),
                square(0.0, 0.0),
            ),
        ]);
        let set = read(&other, AdminLevel::Adm1).unwrap();
        let parents: Vec<_> = set
            .features
            .iter()
            .map(|f| f.parent_code.as_ref().map(|c| c.as_str()))
            .collect();
        assert_eq!(parents, [Some("KHM"), None]);
        assert_eq!(set.countries[0].name, "Cambodia");
    }

    #[test]
    fn earlier_cod_ab_columns_whole_and_cut_to_ten_characters() {
        // Somalia's, Chad's or Nigeria's COD-AB before 2020: `admin1Pcode`, `admin1Name_en`;
        // the same exported to a shapefile and back: `admin1Pcod`, `admin1RefN`.
        let adm1 = collection(vec![feature(
            json!({"OBJECTID": 1, "admin1Name_en": "Banadir", "admin1Name_so": "Banaadir",
                   "admin1Pcode": "SO22", "admin1RefName": "Banadir", "admin1AltName1_en": "Benadir",
                   "admin1AltName2_en": null, "admin0Name_en": "Somalia", "admin0Pcode": "SO",
                   "date": "2019-10-23", "validOn": "2019-11-13", "validTo": null}),
            square(45.0, 2.0),
        )]);
        let set = read(&adm1, AdminLevel::Adm1).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let f = &set.features[0];
        assert_eq!(
            (f.locality.code.as_str(), f.locality.name.as_str()),
            ("SO22", "Banadir")
        );
        assert_eq!(f.locality.alt_names, ["Benadir", "Banaadir"]);
        assert_eq!(f.parent_code.as_ref().map(|c| c.as_str()), Some("SO"));
        assert_eq!(
            (
                set.countries[0].code.as_str(),
                set.countries[0].name.as_str()
            ),
            ("SO", "Somalia")
        );

        let adm2 = collection(vec![feature(
            json!({"admin2Name": "Mongo", "admin2Pcod": "TD0801", "admin1Name": "Guéra",
                   "admin1Pcod": "TD08", "admin0Name": "Tchad", "admin0Pcod": "TD"}),
            square(18.0, 12.0),
        )]);
        let set = read(&adm2, AdminLevel::Adm2).unwrap();
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let f = &set.features[0];
        assert_eq!(
            (f.locality.code.as_str(), f.locality.name.as_str()),
            ("TD0801", "Mongo")
        );
        assert_eq!(f.parent_code.as_ref().map(|c| c.as_str()), Some("TD08"));
        assert_eq!(set.countries[0].name, "Tchad");
    }

    #[test]
    fn a_file_of_another_level_is_refused_naming_the_level() {
        let level_of = |props: serde_json::Value, level: AdminLevel| {
            let text = collection(vec![feature(props, square(0.0, 0.0))]);
            read(&text, level)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let cod_adm2 = json!({"ADM2_PCODE": "UA0502", "ADM2_EN": "Haisynskyi", "ADM1_PCODE": "UA05",
                              "ADM1_EN": "Vinnytska", "ADM0_PCODE": "UA"});
        let m = level_of(cod_adm2.clone(), AdminLevel::Adm1);
        assert!(
            m.contains("level-2 areas") && m.contains("--level adm2") && m.contains("ADM2_PCODE"),
            "{m}"
        );
        let m = level_of(
            json!({"ADM1_PCODE": "UA05", "ADM1_EN": "Vinnytska", "ADM0_PCODE": "UA"}),
            AdminLevel::Adm2,
        );
        assert!(m.contains("--level adm1"), "{m}");
        let gadm2 = json!({"GID_0": "MLI", "GID_1": "MLI.1_1", "NAME_1": "Bamako", "GID_2": "MLI.1.1_1",
                           "NAME_2": "Bamako"});
        assert!(level_of(gadm2, AdminLevel::Adm1).contains("--level adm2"));
        let gb = json!({"shapeName": "Haisyn", "shapeISO": "", "shapeID": "X-B1", "shapeGroup": "UKR",
                        "shapeType": "ADM2"});
        assert!(level_of(gb.clone(), AdminLevel::Adm1).contains("--level adm2"));
        assert!(level_of(gb, AdminLevel::Adm2).is_empty());
        assert!(level_of(cod_adm2.clone(), AdminLevel::Adm2).is_empty());
        let adm4 = json!({"ADM4_PCODE": "X1", "ADM4_EN": "a", "ADM3_PCODE": "X", "ADM3_EN": "b"});
        assert!(level_of(adm4, AdminLevel::Adm3).contains("adm1 to adm3"));
        // Properties named explicitly are taken as asked.
        let text = collection(vec![feature(cod_adm2, square(0.0, 0.0))]);
        let fields = BoundaryFields {
            code: Some("ADM1_PCODE".into()),
            name: Some("ADM1_EN".into()),
            parent_code: None,
        };
        assert!(read_boundaries(text.as_bytes(), AdminLevel::Adm1, &fields).is_ok());
    }

    #[test]
    fn coordinates_in_metres_without_a_crs_are_refused() {
        let text = collection(vec![
            feature(
                json!({"adm1_pcode": "A1", "adm1_name": "Metres"}),
                json!({"type": "MultiPolygon", "coordinates": [[[[2337000.0, 480000.0], [2437000.0, 480000.0], [2437000.0, 580000.0], [2337000.0, 480000.0]]]]}),
            ),
            feature(
                json!({"adm1_pcode": "A2", "adm1_name": "Other"}),
                square(500000.0, 0.0),
            ),
        ]);
        let m = read(&text, AdminLevel::Adm1).unwrap_err().to_string();
        for needed in [
            "(2337000, 480000)",
            "not a longitude and latitude",
            "EPSG:4326",
        ] {
            assert!(m.contains(needed), "{needed}: {m}");
        }
    }

    #[test]
    fn a_geometry_collection_keeps_its_polygons() {
        let text = collection(vec![
            feature(
                json!({"adm1_pcode": "A1", "adm1_name": "Dissolved"}),
                json!({"type": "GeometryCollection", "geometries": [
                    {"type": "LineString", "coordinates": [[5.0, 5.0], [6.0, 6.0]]},
                    square(0.0, 0.0),
                    {"type": "MultiPolygon", "coordinates": [[[[3.0, 0.0], [4.0, 0.0], [4.0, 1.0], [3.0, 0.0]]]]}]}),
            ),
            feature(
                json!({"adm1_pcode": "A2", "adm1_name": "Lines"}),
                json!({"type": "GeometryCollection", "geometries": [
                    {"type": "LineString", "coordinates": [[5.0, 5.0], [6.0, 6.0]]}]}),
            ),
        ]);
        let set = read(&text, AdminLevel::Adm1).unwrap();
        assert_eq!(set.features.len(), 1);
        let g = set.features[0].locality.geometry.as_ref().unwrap();
        assert_eq!(g.0.len(), 2);
        assert!(point_is_inside(&set.features[0].locality));
        assert_eq!(set.problems.len(), 1);
        assert!(set.problems[0]
            .reason
            .contains("GeometryCollection without"));
    }

    #[test]
    fn placeholder_values_are_not_names() {
        let gadm = collection(vec![
            feature(
                json!({"GID_0": "MLI", "COUNTRY": "Mali", "GID_1": "MLI.1_1", "NAME_1": "Bamako",
                       "VARNAME_1": "Bamako District|NA", "NL_NAME_1": "NA"}),
                square(0.0, 0.0),
            ),
            feature(
                json!({"GID_0": "MLI", "COUNTRY": "Mali", "GID_1": "MLI.4_1", "NAME_1": "Kidal",
                       "VARNAME_1": null, "NL_NAME_1": "n/a"}),
                square(1.0, 0.0),
            ),
            feature(
                json!({"GID_0": "MLI", "COUNTRY": "Mali", "GID_1": "MLI.5_1", "NAME_1": "Koulikoro",
                       "VARNAME_1": "-", "NL_NAME_1": "None"}),
                square(2.0, 0.0),
            ),
        ]);
        let set = read(&gadm, AdminLevel::Adm1).unwrap();
        let alts: Vec<_> = set
            .features
            .iter()
            .map(|f| f.locality.alt_names.clone())
            .collect();
        assert_eq!(
            alts,
            vec![vec!["Bamako District".to_string()], vec![], vec![]]
        );
        assert!(set.problems.is_empty());
    }

    #[test]
    fn explicit_fields_override_detection() {
        let text = collection(vec![feature(
            json!({"K": "Q1", "N": "Quux", "P": "Q", "adm1_pcode": "no"}),
            square(0.0, 0.0),
        )]);
        let fields = BoundaryFields {
            code: Some("k".into()),
            name: Some("N".into()),
            parent_code: Some("P".into()),
        };
        let set = read_boundaries(text.as_bytes(), AdminLevel::Adm1, &fields).unwrap();
        assert_eq!(set.features[0].locality.code.as_str(), "Q1");
        assert_eq!(
            set.features[0].parent_code.as_ref().map(|c| c.as_str()),
            Some("Q")
        );
        let missing = BoundaryFields {
            code: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(
            read_boundaries(text.as_bytes(), AdminLevel::Adm1, &missing),
            Err(IngestError::MissingColumns(vec!["nope".into()]))
        );
    }

    #[test]
    fn bad_features_become_problems() {
        let text = collection(vec![
            feature(
                json!({"adm1_pcode": "A1", "adm1_name": "Good"}),
                square(0.0, 0.0),
            ),
            feature(
                json!({"adm1_pcode": null, "adm1_name": "No code"}),
                square(0.0, 0.0),
            ),
            feature(
                json!({"adm1_pcode": "A3", "adm1_name": ""}),
                square(0.0, 0.0),
            ),
            feature(
                json!({"adm1_pcode": "A4", "adm1_name": "Point"}),
                json!({"type": "Point", "coordinates": [1, 2]}),
            ),
            feature(
                json!({"adm1_pcode": "A5", "adm1_name": "Projected"}),
                square(500000.0, 0.0),
            ),
            feature(
                json!({"adm1_pcode": "A1", "adm1_name": "Twice"}),
                square(0.0, 0.0),
            ),
            feature(
                json!({"adm1_pcode": "A7", "adm1_name": "Flat"}),
                json!({"type": "Polygon", "coordinates": [[[0,0],[1,1],[0,0]]]}),
            ),
            feature(
                json!({"adm1_pcode": "A8", "adm1_name": "Null"}),
                serde_json::Value::Null,
            ),
            feature(
                json!({"adm1_pcode": "A 9", "adm1_name": "Space"}),
                square(0.0, 0.0),
            ),
            json!(42),
            feature(
                json!({"adm1_pcode": "A11", "adm1_name": "Broken"}),
                json!({"type": "Polygon", "coordinates": [[[0, "x"]]]}),
            ),
        ]);
        let set = read(&text, AdminLevel::Adm1).unwrap();
        assert_eq!(set.features.len(), 1);
        let got: Vec<_> = set
            .problems
            .iter()
            .map(|p| (p.row, p.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "adm1_pcode"),
                (3, "adm1_name"),
                (4, "geometry"),
                (5, "geometry"),
                (6, "adm1_pcode"),
                (7, "geometry"),
                (8, "geometry"),
                (9, "adm1_pcode"),
                (10, "feature"),
                (11, "geometry"),
            ],
            "{:#?}",
            set.problems
        );
        assert!(set.problems[4].reason.contains("feature 1"));
    }

    /// Whether the locality's representative point is strictly inside its geometry.
    fn point_is_inside(l: &Locality) -> bool {
        let (g, c) = (l.geometry.as_ref().unwrap(), l.centroid.unwrap());
        strictly_inside(g, c)
    }

    fn place_in(parents: &BoundarySet, child: &Locality) -> Option<String> {
        let localities: Vec<Locality> = parents
            .features
            .iter()
            .map(|f| f.locality.clone())
            .collect();
        let placer = crate::Placer::new(&localities);
        let c = child.centroid.unwrap();
        let point = usalama_domain::GeoPoint::new(c.y(), c.x()).unwrap();
        let id = placer.place(point, None).at(AdminLevel::Adm1)?;
        localities
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.code.to_string())
    }

    #[test]
    fn ring_district_gets_a_point_inside_it_not_in_the_enclave() {
        // A province with a city enclave, and the district that rings the city.
        let hole = json!([
            [30.2, 50.2],
            [30.2, 50.6],
            [30.8, 50.6],
            [30.8, 50.2],
            [30.2, 50.2]
        ]);
        let adm1 = collection(vec![
            feature(
                json!({"adm1_pcode": "P32", "adm1_name": "Province"}),
                json!({"type": "Polygon", "coordinates": [[[29.3, 49.2], [32.2, 49.2], [32.2, 51.5], [29.3, 51.5], [29.3, 49.2]], hole]}),
            ),
            feature(
                json!({"adm1_pcode": "P80", "adm1_name": "City"}),
                json!({"type": "Polygon", "coordinates": [[[30.2, 50.2], [30.8, 50.2], [30.8, 50.6], [30.2, 50.6], [30.2, 50.2]]]}),
            ),
        ]);
        let adm2 = collection(vec![feature(
            json!({"shapeID": "R-1", "shapeName": "Ring raion", "center_lat": 50.4, "center_lon": 30.5}),
            json!({"type": "Polygon", "coordinates": [[[29.9, 49.9], [31.1, 49.9], [31.1, 50.9], [29.9, 50.9], [29.9, 49.9]], hole]}),
        )]);
        let parents = read(&adm1, AdminLevel::Adm1).unwrap();
        let set = read(&adm2, AdminLevel::Adm2).unwrap();
        let ring = &set.features[0].locality;
        assert!(
            point_is_inside(ring),
            "the supplied centre in the enclave is replaced: {:?}",
            ring.centroid
        );
        assert_eq!(place_in(&parents, ring).as_deref(), Some("P32"));
        // Deterministic, and the same when computed from the geometry alone.
        let again = read(&adm2, AdminLevel::Adm2).unwrap();
        assert_eq!(again.features[0].locality.centroid, ring.centroid);
        for f in &parents.features {
            assert!(point_is_inside(&f.locality), "{}", f.locality.code);
        }
    }

    #[test]
    fn representative_point_is_inside_awkward_shapes() {
        let mp = |rings: Vec<Vec<(f64, f64)>>| {
            MultiPolygon(vec![Polygon::new(
                LineString::from(rings[0].clone()),
                rings[1..]
                    .iter()
                    .map(|r| LineString::from(r.clone()))
                    .collect(),
            )])
        };
        // A U shape, a thin crescent-like L, and a square with a hole on its centroid.
        let shapes = [
            mp(vec![vec![
                (0.0, 0.0),
                (3.0, 0.0),
                (3.0, 3.0),
                (2.0, 3.0),
                (2.0, 1.0),
                (1.0, 1.0),
                (1.0, 3.0),
                (0.0, 3.0),
                (0.0, 0.0),
            ]]),
            mp(vec![vec![
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 0.1),
                (0.1, 0.1),
                (0.1, 10.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]]),
            mp(vec![
                vec![(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)],
                vec![(1.0, 1.0), (1.0, 3.0), (3.0, 3.0), (3.0, 1.0), (1.0, 1.0)],
            ]),
        ];
        for g in &shapes {
            let p = representative_point(g).unwrap();
            assert!(strictly_inside(g, p), "{p:?} outside {g:?}");
        }
        // A convex area keeps its centroid.
        let square = mp(vec![vec![
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (0.0, 2.0),
            (0.0, 0.0),
        ]]);
        assert_eq!(representative_point(&square), Some(Point::new(1.0, 1.0)));
    }

    #[test]
    fn split_at_the_antimeridian_points_stay_in_the_area() {
        let split = |code: &str, name: &str, west: f64, east: f64, south: f64, north: f64| {
            feature(
                json!({"shapeID": code, "shapeName": name}),
                json!({"type": "MultiPolygon", "coordinates": [
                    [[[west, south], [180.0, south], [180.0, north], [west, north], [west, south]]],
                    [[[-180.0, south], [east, south], [east, north], [-180.0, north], [-180.0, south]]]]}),
            )
        };
        let adm1 = collection(vec![
            split("E", "Eastern", 178.5, -178.5, -19.5, -17.0),
            split("N", "Northern", 178.0, -179.8, -17.0, -16.0),
            feature(
                json!({"shapeID": "W", "shapeName": "Western"}),
                square(177.0, -18.5),
            ),
        ]);
        let adm2 = collection(vec![
            split("E-1", "Lau", 179.0, -178.5, -19.5, -17.0),
            split("N-1", "Cakaudrove", 179.0, -179.8, -17.0, -16.0),
        ]);
        let parents = read(&adm1, AdminLevel::Adm1).unwrap();
        let set = read(&adm2, AdminLevel::Adm2).unwrap();
        for f in parents.features.iter().chain(&set.features) {
            let l = &f.locality;
            assert!(point_is_inside(l), "{} at {:?}", l.code, l.centroid);
            let x = l.centroid.unwrap().x();
            assert!(x.abs() > 176.0, "{} at {x}: not near Fiji", l.code);
        }
        let lau = &set.features[0].locality;
        assert_eq!(place_in(&parents, lau).as_deref(), Some("E"));
        assert_eq!(
            place_in(&parents, &set.features[1].locality).as_deref(),
            Some("N")
        );
        // The area's own centroid, found with its western part moved east, is used when it
        // is inside (here in the eastern part, 3° wide against 2° on the western side).
        let uneven = MultiPolygon(vec![
            Polygon::new(
                LineString::from(vec![
                    (178.0, 0.0),
                    (180.0, 0.0),
                    (180.0, 1.0),
                    (178.0, 1.0),
                    (178.0, 0.0),
                ]),
                vec![],
            ),
            Polygon::new(
                LineString::from(vec![
                    (-180.0, 0.0),
                    (-177.0, 0.0),
                    (-177.0, 1.0),
                    (-180.0, 1.0),
                    (-180.0, 0.0),
                ]),
                vec![],
            ),
        ]);
        let p = representative_point(&uneven).unwrap();
        assert!(
            (p.x() - -179.5).abs() < 1e-9 && (p.y() - 0.5).abs() < 1e-9,
            "{p:?}"
        );
        // Parts far apart on one side of the globe are not moved.
        let far = MultiPolygon(vec![
            Polygon::new(
                LineString::from(vec![
                    (-170.0, 0.0),
                    (-169.0, 0.0),
                    (-169.0, 1.0),
                    (-170.0, 0.0),
                ]),
                vec![],
            ),
            Polygon::new(
                LineString::from(vec![(169.0, 0.0), (170.0, 0.0), (170.0, 1.0), (169.0, 0.0)]),
                vec![],
            ),
            Polygon::new(
                LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
                vec![],
            ),
        ]);
        assert!(strictly_inside(&far, representative_point(&far).unwrap()));
        // Nor are the parts of an area on both sides of the prime meridian.
        let greenwich = MultiPolygon(vec![
            Polygon::new(
                LineString::from(vec![(-1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]),
                vec![],
            ),
            Polygon::new(
                LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
                vec![],
            ),
        ]);
        assert!(unwrap_antimeridian(&greenwich).is_none());
    }

    #[test]
    fn ring_crossing_the_antimeridian_unsplit_is_refused() {
        let text = collection(vec![
            feature(
                json!({"shapeID": "FJ-E", "shapeName": "Eastern"}),
                json!({"type": "Polygon", "coordinates": [[[178.5, -19.5], [-178.5, -19.5], [-178.5, -17.0], [178.5, -17.0], [178.5, -19.5]]]}),
            ),
            feature(
                json!({"shapeID": "FJ-W", "shapeName": "Western"}),
                square(177.0, -18.5),
            ),
            // Edges along the South Pole or across the whole map are not crossings.
            feature(
                json!({"shapeID": "AQ", "shapeName": "Polar"}),
                json!({"type": "Polygon", "coordinates": [[[-180.0, -90.0], [180.0, -90.0], [180.0, -80.0], [-180.0, -80.0], [-180.0, -90.0]]]}),
            ),
        ]);
        let set = read(&text, AdminLevel::Adm1).unwrap();
        let codes: Vec<_> = set
            .features
            .iter()
            .map(|f| f.locality.code.as_str())
            .collect();
        assert_eq!(codes, ["FJ-W", "AQ"]);
        assert_eq!(set.problems.len(), 1, "{:?}", set.problems);
        let p = &set.problems[0];
        assert_eq!((p.row, p.field.as_str()), (1, "geometry"));
        for needed in [
            "'Eastern' (FJ-E)",
            "178.5 to -178.5",
            "antimeridian",
            "split it",
            "RFC 7946",
        ] {
            assert!(p.reason.contains(needed), "{needed}: {}", p.reason);
        }
    }

    #[test]
    fn no_code_or_name_property_is_fatal() {
        let text = collection(vec![feature(json!({"foo": 1}), square(0.0, 0.0))]);
        let err = read(&text, AdminLevel::Adm1).unwrap_err();
        assert!(err.to_string().contains("adm1_pcode"), "{err}");
        let text = collection(vec![feature(json!({"adm1_pcode": "X"}), square(0.0, 0.0))]);
        let err = read(&text, AdminLevel::Adm1).unwrap_err();
        assert!(err.to_string().contains("adm1_name"), "{err}");
        // A layout not known: the file's own properties are named, and the option.
        let text = collection(vec![feature(
            json!({"REGION": "Kachin", "REG_CODE": "MM01", "REG_LOCAL": "ကချင်ပြည်နယ်"}),
            square(0.0, 0.0),
        )]);
        let err = read(&text, AdminLevel::Adm1).unwrap_err();
        assert!(
            err.to_string().contains(
                "the features have REG_CODE, REG_LOCAL, REGION: name the one to use with \
                 --code-field"
            ),
            "{err}"
        );
        // A MIMU name column without its P-code column is not taken for a name.
        let text = collection(vec![feature(
            json!({"TS": "2024-05-01", "code": "A1"}),
            square(0.0, 0.0),
        )]);
        let fields = BoundaryFields {
            code: Some("code".into()),
            ..Default::default()
        };
        let err = read_boundaries(text.as_bytes(), AdminLevel::Adm3, &fields).unwrap_err();
        assert!(
            err.to_string().contains(
                "a name property (adm3_name, ADM3_EN, admin3Name_en, NAME_3, TS beside TS_PCODE, \
                 or shapeName); the features have code, TS: name the one to use with \
                 --name-field"
            ),
            "{err}"
        );
        assert!(matches!(
            read_boundaries(&b"{"[..], AdminLevel::Adm1, &BoundaryFields::default()),
            Err(IngestError::Json(_))
        ));
        let empty = collection(vec![]);
        let err = read(&empty, AdminLevel::Adm1).unwrap_err();
        assert!(err.to_string().contains("no features"), "{err}");
    }
}
