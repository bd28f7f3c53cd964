//! Events as a GeoJSON FeatureCollection: one Point feature per event, its fields in the
//! feature's properties (names in any case; the first name listed is the one Usalama's own
//! export writes, so an export imports back unchanged).
//!
//! | property | meaning |
//! | --- | --- |
//! | `id`, `event_id`, `external_id` | the event's id in the file (else a hash of the feature) |
//! | `category`, `event_type`, `type` (+ `sub_event_type`) | category code, label, or ACLED type (**required**) |
//! | `occurred_start`, `date_start`, `date`, `event_date` | first day: `2019-03-15`, `15/03/2019`, `2019-03`, `2019` … (**required**) |
//! | `occurred_end`, `date_end` | last day (default: the first, or the end of its month/year) |
//! | `date_precision` | `day`, `week`, `month`, `year` |
//! | `killed`, `killed_best`, `fatalities`, `best` | best estimate of people killed |
//! | `killed_low`, `killed_high` | range of people killed |
//! | `injured`, `abducted`, `displaced` | counts |
//! | `civilians_targeted` | `true`/`false` |
//! | `description`, `notes` | text |
//! | `place_name`, `place`, `location` | where, in words |
//! | `location_precision`, `where_prec` | 1-7 as UCDP's `where_prec` |
//! | `adm1_code`, `adm1_name`, `adm2_code`, `adm2_name`, `adm3_code`, `adm3_name` | for placing features without geometry |
//! | `actor1`/`side_a`, `actor2`/`side_b` | actor names |
//! | `latitude`, `longitude` | when the geometry is null |
//! | `source` | the original source, kept in `source_codes` as `original_source` |
//!
//! Numeric dates are read in one order of day and month per property, decided by the
//! file's dates that allow only one reading (`05/14/2023`), day first when none decides,
//! as the CSV readers do per column. The geometry must be a Point or null. Events are unverified and carry the source the
//! caller names (`geojson` by default).

use crate::hxl::{precision_of_span, truthy, CategoryResolver};
use crate::imported::{ImportRow, PlaceHints, Rows};
use crate::json;
use crate::json_file::{JsonRows, JsonSource};
use crate::problem::{IngestError, Problem};
use crate::text::{self, columns, ColumnOrder};
use crate::ucdp::{truncate, ucdp_actor_kind, ImportedEvent};
use crate::ReadOptions;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use usalama_domain::event::EventData;
use usalama_domain::{
    Actor, ActorId, ActorRole, Casualties, Channel, EventActor, EventId, ExternalActorIds,
    GeoPoint, RecordMeta, SourceCodes, Taxonomy, VerificationStatus,
};

/// The default `source` of imported GeoJSON events.
pub const SOURCE: &str = "geojson";

columns! {
    Id => ["id", "event_id", "external_id"],
    Category => ["category", "event_type", "type"],
    SubType => ["sub_event_type", "subtype"],
    Start => ["occurred_start", "date_start", "date", "event_date"],
    End => ["occurred_end", "date_end"],
    DatePrecision => ["date_precision"],
    Killed => ["killed", "killed_best", "fatalities", "best"],
    KilledLow => ["killed_low", "low"],
    KilledHigh => ["killed_high", "high"],
    Injured => ["injured"],
    Abducted => ["abducted"],
    Displaced => ["displaced"],
    CiviliansTargeted => ["civilians_targeted"],
    Description => ["description", "notes"],
    PlaceName => ["place_name", "place", "location"],
    LocationPrecision => ["location_precision", "where_prec"],
    Adm1Code => ["adm1_code", "adm1_pcode"],
    Adm1Name => ["adm1_name"],
    Adm2Code => ["adm2_code", "adm2_pcode"],
    Adm2Name => ["adm2_name"],
    Adm3Code => ["adm3_code", "adm3_pcode"],
    Adm3Name => ["adm3_name"],
    Country => ["country", "country_name", "country_code", "iso3", "iso"],
    Actor1 => ["actor1", "side_a"],
    Actor2 => ["actor2", "side_b"],
    Latitude => ["latitude", "lat"],
    Longitude => ["longitude", "lon"],
    Source => ["source"],
}

impl Col {
    /// The property's text in `props`, under the first of its names present.
    fn value(self, props: &serde_json::Map<String, serde_json::Value>) -> Option<Cow<'_, str>> {
        self.aliases()
            .iter()
            .find_map(|a| json::get_ci(props, a))
            .and_then(json::text)
    }
}

struct Fields<'a> {
    row: usize,
    vals: [Option<Cow<'a, str>>; N],
}

impl Fields<'_> {
    fn problem(&self, c: Col, reason: impl Into<String>) -> Problem {
        Problem::new(self.row, c.name(), reason)
    }
    fn opt(&self, c: Col) -> Option<&str> {
        self.vals[c.index()].as_deref()
    }
    fn text(&self, c: Col) -> Option<String> {
        self.opt(c).map(str::to_string)
    }
    fn count(&self, c: Col) -> Result<Option<u32>, Problem> {
        self.opt(c)
            .map(|s| {
                text::parse_int(s)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| {
                        self.problem(c, format!("'{s}' is not a count of people (0 or more)"))
                    })
            })
            .transpose()
    }
    fn float(&self, c: Col, s: &str) -> Result<f64, Problem> {
        text::parse_float(s).ok_or_else(|| self.problem(c, format!("'{s}' is not a number")))
    }
}

fn geometry_point(g: serde_json::Value) -> Result<(f64, f64), String> {
    match json::geometry(g)? {
        geojson::GeometryValue::Point { coordinates } => match coordinates.as_slice() {
            [x, y, ..] => Ok((*x, *y)),
            _ => Err("the Point has fewer than two coordinates".into()),
        },
        other => Err(format!("is a {}, not a Point", other.type_name())),
    }
}

fn feature_hash(props: &serde_json::Map<String, serde_json::Value>, geometry: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut keys: Vec<&String> = props.keys().collect();
    keys.sort();
    let text = keys
        .into_iter()
        .map(|k| format!("{k}={}", props[k]))
        .chain([geometry.to_string()])
        .collect::<Vec<_>>()
        .join("\u{1f}");
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

struct Ctx<'t> {
    /// The order of day and month of the start and end dates, one each for the file.
    date_orders: [ColumnOrder; 2],
    taxonomy: &'t Taxonomy,
    resolver: &'t CategoryResolver,
    source: &'t str,
    now: DateTime<Utc>,
}

fn map_feature(
    f: &Fields<'_>,
    point: Option<(f64, f64)>,
    hash: u64,
    cx: &Ctx<'_>,
) -> Result<ImportRow, Problem> {
    let type_text = f
        .opt(Col::Category)
        .ok_or_else(|| f.problem(Col::Category, "is empty"))?;
    let category = cx
        .resolver
        .resolve(cx.taxonomy, type_text, f.opt(Col::SubType))
        .ok_or_else(|| {
            f.problem(
                Col::Category,
                format!("'{type_text}' is not a category code, a category label or a mapped ACLED event type"),
            )
        })?;
    let start_text = f
        .opt(Col::Start)
        .ok_or_else(|| f.problem(Col::Start, "is empty"))?;
    let [start_order, end_order] = cx.date_orders;
    let span = text::parse_date_span(start_text, start_order.order).ok_or_else(|| {
        let reason = text::order_conflict(start_text, start_order).unwrap_or_else(|| {
            format!("'{start_text}' is not a date (2019-03-15, 15/03/2019, 2019-03 or 2019)")
        });
        f.problem(Col::Start, reason)
    })?;
    if span.start > cx.now.date_naive() {
        return Err(f.problem(Col::Start, format!("{} is in the future", span.start)));
    }
    let (end, mut precision) = match f.opt(Col::End) {
        Some(s) => {
            let e = text::parse_date_span(s, end_order.order)
                .ok_or_else(|| {
                    let reason = text::order_conflict(s, end_order)
                        .unwrap_or_else(|| format!("'{s}' is not a date"));
                    f.problem(Col::End, reason)
                })?
                .end;
            if e < span.start {
                return Err(f.problem(
                    Col::End,
                    format!("{e} is before occurred_start {}", span.start),
                ));
            }
            (e, precision_of_span(span.start, e).max(span.precision))
        }
        None => (span.end, span.precision),
    };
    if let Some(p) = f.opt(Col::DatePrecision) {
        precision = p.trim().to_lowercase().parse().map_err(|_| {
            f.problem(
                Col::DatePrecision,
                format!("'{p}' is not one of day, week, month, year"),
            )
        })?;
    }

    let coords = match point {
        Some(p) => Some(p),
        None => match (f.opt(Col::Latitude), f.opt(Col::Longitude)) {
            (Some(la), Some(lo)) => {
                Some((f.float(Col::Longitude, lo)?, f.float(Col::Latitude, la)?))
            }
            (Some(_), None) => {
                return Err(f.problem(Col::Longitude, "is empty but latitude is not"))
            }
            (None, Some(_)) => {
                return Err(f.problem(Col::Latitude, "is empty but longitude is not"))
            }
            (None, None) => None,
        },
    };
    let point = coords
        .map(|(lon, lat)| GeoPoint::new(lat, lon))
        .transpose()
        .map_err(|e| Problem::new(f.row, e.field, e.reason))?;
    let location_precision = match (point, f.opt(Col::LocationPrecision)) {
        (Some(_), Some(p)) => Some(text::parse_location_precision(p).ok_or_else(|| {
            f.problem(
                Col::LocationPrecision,
                format!("'{p}' is not a precision code 1-7"),
            )
        })?),
        _ => None,
    };

    let casualties = Casualties {
        injured: f.count(Col::Injured)?,
        abducted: f.count(Col::Abducted)?,
        displaced: f.count(Col::Displaced)?,
        ..Casualties::killed(
            f.count(Col::Killed)?,
            f.count(Col::KilledLow)?,
            f.count(Col::KilledHigh)?,
        )
    };

    let external_id = match f.opt(Col::Id) {
        Some(id) => truncate(id, 200),
        None => format!("feature-{hash:016x}"),
    };

    let mut actors = Vec::with_capacity(2);
    let mut links = Vec::with_capacity(2);
    for (c, role) in [
        (Col::Actor1, ActorRole::SideA),
        (Col::Actor2, ActorRole::SideB),
    ] {
        if let Some(name) = f.opt(c) {
            let id = ActorId::derived(&format!("{}-name:{}", cx.source, name.to_lowercase()));
            let a = Actor::new(id, name, ucdp_actor_kind(name), ExternalActorIds::default())
                .map_err(|e| f.problem(c, e.reason))?;
            actors.push(a);
            links.push(EventActor { actor: id, role });
        }
    }

    let mut source_codes = SourceCodes::new();
    for (c, key) in [
        (Col::Category, "event_type"),
        (Col::SubType, "event_subtype"),
        (Col::Source, "original_source"),
    ] {
        if let Some(v) = f.opt(c) {
            source_codes.insert(key, truncate(v, 500));
        }
    }

    let place = PlaceHints {
        adm1_code: f.text(Col::Adm1Code),
        adm1_name: f.text(Col::Adm1Name),
        adm2_code: f.text(Col::Adm2Code),
        adm2_name: f.text(Col::Adm2Name),
        adm3_code: f.text(Col::Adm3Code),
        adm3_name: f.text(Col::Adm3Name),
        place_name: f.text(Col::PlaceName),
        country: f.text(Col::Country),
    };

    let data = EventData {
        id: EventId::derived(&format!("{}:{external_id}", cx.source)),
        source: cx.source.to_string(),
        external_id: Some(external_id),
        channel: Channel::Import,
        occurred_start: span.start,
        occurred_end: end,
        date_precision: precision,
        reported_at: None,
        point,
        location_precision,
        place_name: f.opt(Col::PlaceName).map(|s| truncate(s, 500)),
        locality: None,
        dimension: category.dimension,
        category: category.code.clone(),
        source_codes,
        actors: links,
        casualties,
        civilians_targeted: f.opt(Col::CiviliansTargeted).is_some_and(truthy),
        description: f.opt(Col::Description).map(|s| truncate(s, 10_000)),
        people: Vec::new(),
        reporter_contact: None,
        status: VerificationStatus::Unverified,
        reliability: None,
        credibility: None,
        meta: RecordMeta {
            created_at: cx.now,
            updated_at: cx.now,
            created_by: None,
            owner_org: None,
        },
    };
    let data = data
        .validate(cx.taxonomy)
        .map_err(|errs| match errs.into_iter().next() {
            Some(e) => Problem::new(f.row, e.field, e.reason),
            None => Problem::new(f.row, "feature", "was rejected"),
        })?;
    Ok(ImportRow {
        row: f.row,
        event: ImportedEvent {
            data: data.into_data(),
            actors,
        },
        place,
    })
}

/// Reads a GeoJSON FeatureCollection of events (see the module documentation for the
/// properties). Feature `n` is row `n + 1` in problems. A document that is not a
/// FeatureCollection is an [`IngestError`], and so is one where no feature has a category
/// or a date ([`IngestError::MissingColumns`]). The file is read twice, never held whole:
/// first skimmed for the properties its features have and the votes of their dates, then
/// for the rows. A date property whose dates could each be read day first or month first,
/// none telling which, is read day first, and the rows' notes ([`Rows::notes`]) say so,
/// unless the person importing told the order ([`ReadOptions::date_order`]).
pub fn read_events_geojson(
    source: JsonSource,
    taxonomy: &Taxonomy,
    event_source: &str,
    options: ReadOptions,
) -> Result<Rows<JsonRows>, IngestError> {
    // One order of day and month per date property, decided by the dates of the whole
    // file that allow only one reading (as the CSV readers do per column); this first
    // pass reads no other value.
    let mut votes = [text::OrderVotes::default(); 2];
    let is = |c: Col, k: &str| c.aliases().iter().any(|a| a.eq_ignore_ascii_case(k));
    let skimmed = json::skim_records(
        source.open()?,
        None,
        &|k| options.votes_on_dates() && (is(Col::Start, k) || is(Col::End, k)),
        &mut |k, v| {
            for (votes, c) in votes.iter_mut().zip([Col::Start, Col::End]) {
                if let Some(d) = json::text(v).filter(|_| is(c, k)) {
                    votes.add(&d);
                }
            }
        },
    )?;
    if skimmed.items > 0 {
        let missing: Vec<String> = [Col::Category, Col::Start]
            .into_iter()
            .filter(|&c| !skimmed.names.iter().any(|k| is(c, k)))
            .map(|c| c.name().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::MissingColumns(missing));
        }
    }
    let date_orders = votes.map(|v| ColumnOrder::of(options.date_order, &v));
    let now = options.now;
    let notes = [Col::Start, Col::End]
        .into_iter()
        .zip(votes.iter().zip(date_orders))
        .filter_map(|(c, (v, order))| {
            text::undecided_note(&format!("property {}", c.name()), v, order, "the file")
        })
        .collect();
    let (taxonomy, event_source) = (taxonomy.clone(), event_source.to_string());
    let resolver = CategoryResolver::new(&taxonomy);
    let rows = JsonRows::mapped(&source, None, "feature", move |f, row| {
        let cx = Ctx {
            date_orders,
            taxonomy: &taxonomy,
            resolver: &resolver,
            source: &event_source,
            now,
        };
        let geometry_text = f
            .geometry
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_default();
        let hash = feature_hash(&f.properties, &geometry_text);
        let point = f
            .geometry
            .map(geometry_point)
            .transpose()
            .map_err(|reason| Problem::new(row, "geometry", reason))?;
        let vals: [Option<Cow<'_, str>>; N] =
            std::array::from_fn(|i| Col::ALL[i].value(&f.properties));
        let fields = Fields { row, vals };
        map_feature(&fields, point, hash, &cx)
    })?;
    Ok(Rows::new(rows, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
    use usalama_domain::DatePrecision;

    fn taxonomy() -> Taxonomy {
        parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn read(json: &str) -> Vec<Result<ImportRow, Problem>> {
        read_events_geojson(json.into(), &taxonomy(), "geojson", ReadOptions::at(now()))
            .unwrap()
            .collect()
    }

    #[test]
    fn a_date_property_no_feature_decides_is_named_in_a_note() {
        let feature = |d: &str| {
            format!(
                r#"{{"type": "Feature", "geometry": null, "properties": {{"category": "armed_violence", "date": "{d}"}}}}"#
            )
        };
        let doc = |a: &str, b: &str| {
            format!(
                r#"{{"type": "FeatureCollection", "features": [{}, {}]}}"#,
                feature(a),
                feature(b)
            )
        };
        let notes = |a: &str, b: &str| {
            let json = doc(a, b);
            let rows = read_events_geojson(
                json.as_str().into(),
                &taxonomy(),
                "geojson",
                ReadOptions::at(now()),
            );
            rows.unwrap().notes().to_vec()
        };
        let undecided = notes("05/01/2023", "06/01/2023");
        assert_eq!(undecided.len(), 1, "{undecided:?}");
        assert!(
            undecided[0].starts_with("2 dates of property "),
            "{undecided:?}"
        );
        assert!(notes("05/01/2023", "25/01/2023").is_empty());

        let told = ReadOptions::at(now()).date_order(Some(text::DateOrder::MonthFirst));
        let json = doc("05/01/2023", "06/01/2023");
        let rows = read_events_geojson(json.as_str().into(), &taxonomy(), "geojson", told).unwrap();
        assert!(rows.notes().is_empty(), "{:?}", rows.notes());
        let starts: Vec<String> = rows
            .map(|r| r.unwrap().event.data.occurred_start.to_string())
            .collect();
        assert_eq!(starts, ["2023-05-01", "2023-06-01"]);
    }

    #[test]
    fn maps_points_and_null_geometries() {
        let rows = read(
            r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[20.5,5.25]},"properties":{"id":"a1","category":"armed_violence","occurred_start":"2021-04-01","occurred_end":"2021-04-03","killed":4,"killed_low":2,"killed_high":9,"injured":1,"description":"Clash","place_name":"Town","location_precision":2,"actor1":"Government of X","actor2":"Rebels","civilians_targeted":true,"source":"ucdp-ged"}},
          {"type":"Feature","geometry":null,"properties":{"Category":"Not enough food","Date":"2021-05","ADM1_CODE":"XA01"}},
          {"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"category":"armed_violence","date":"2021-01-01"}},
          {"type":"Feature","geometry":null,"properties":{"category":"armed_violence","date":"2021-01-01","killed":-2}}
        ]}"#,
        );
        let a = rows[0].as_ref().unwrap();
        let d = &a.event.data;
        assert_eq!(d.id, EventId::derived("geojson:a1"));
        assert_eq!(d.point.map(|p| (p.lat(), p.lon())), Some((5.25, 20.5)));
        assert_eq!(d.date_precision, DatePrecision::Week);
        assert_eq!(
            (
                d.casualties.killed_low,
                d.casualties.killed_best,
                d.casualties.killed_high
            ),
            (Some(2), Some(4), Some(9))
        );
        assert!(d.civilians_targeted);
        assert_eq!(a.event.actors.len(), 2);
        assert_eq!(d.source_codes.get("original_source"), Some("ucdp-ged"));
        let b = rows[1].as_ref().unwrap();
        assert_eq!(b.event.data.category, "food_insecurity");
        assert_eq!(b.event.data.date_precision, DatePrecision::Month);
        assert!(b.event.data.point.is_none());
        assert_eq!(b.place.adm1_code.as_deref(), Some("XA01"));
        let p = rows[2].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (3, "geometry"));
        let p = rows[3].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (4, "killed"));
    }

    #[test]
    fn each_date_property_has_one_order_of_day_and_month() {
        let feature = |start: &str, end: &str| {
            format!(
                r#"{{"type":"Feature","geometry":null,"properties":{{"category":"armed_violence","date":"{start}","date_end":"{end}"}}}}"#
            )
        };
        // Start dates month first (05/14), end dates day first (20/05): 05/01 is 1 May
        // as a start and 5 January as an end.
        let rows = read(&format!(
            r#"{{"type":"FeatureCollection","features":[{},{},{},{}]}}"#,
            feature("05/14/2023", "20/05/2023"),
            feature("05/01/2023", "05/06/2023"),
            feature("14/05/2023", "14/05/2023"),
            feature("05/20/2023", "21/05/2023"),
        ));
        let d = &rows[0].as_ref().unwrap().event.data;
        assert_eq!(d.occurred_start.to_string(), "2023-05-14");
        let d = &rows[1].as_ref().unwrap().event.data;
        assert_eq!(
            (d.occurred_start.to_string(), d.occurred_end.to_string()),
            ("2023-05-01".into(), "2023-06-05".into())
        );
        // The one start written day first, against the file's order: refused, saying so.
        let p = rows[2].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (3, "occurred_start"));
        assert!(p.reason.contains("month first"), "{}", p.reason);
    }

    #[test]
    fn fatal_errors() {
        assert!(matches!(
            read_events_geojson("[]".into(), &taxonomy(), "geojson", ReadOptions::at(now())),
            Err(IngestError::Format(_))
        ));
        assert_eq!(
            read_events_geojson(
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{"x":1}}]}"#.into(),
                &taxonomy(),
                "geojson",
                ReadOptions::at(now())
            )
            .err(),
            Some(IngestError::MissingColumns(vec![
                "category".into(),
                "occurred_start".into()
            ]))
        );
    }
}
