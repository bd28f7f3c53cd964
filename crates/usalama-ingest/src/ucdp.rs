//! UCDP Georeferenced Event Dataset (GED) import, CSV and GeoJSON, any version from 19.1 on.
//!
//! Columns are found by name (any order, any case; extra columns ignored; columns that
//! came or went between versions are optional), so the 42- and 49-column layouts and the
//! GeoJSON export all read through one mapping (`map_row`). CSV is read lazily, one row at
//! a time, so a file of a million rows takes constant memory. A row with an invalid value
//! becomes a [`Problem`] naming the row and the GED column; only a file that cannot be read
//! or lacks a required column is an [`IngestError`].

use crate::imported::{ImportRow, PlaceHints, Rows};
use crate::json;
use crate::json_file::{JsonRows, JsonSource};
use crate::problem::{IngestError, Problem};
use crate::text::{self, ColumnOrder};
use crate::ReadOptions;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::borrow::Cow;
use std::io::{BufReader, Read};
use usalama_domain::event::EventData;
use usalama_domain::{
    Actor, ActorId, ActorKind, ActorRole, Casualties, Channel, DatePrecision, EventActor, EventId,
    ExternalActorIds, GeoPoint, LocationPrecision, RecordMeta, SourceCodes, Taxonomy,
    VerificationStatus,
};

/// The value of `source` on every imported GED event.
pub const SOURCE: &str = "ucdp-ged";

/// One GED event ready to store: the event's fields and the actors it references.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedEvent {
    /// The event; `data.actors` references the ids of `actors`.
    pub data: EventData,
    /// Side A and side B as actors (one or two).
    pub actors: Vec<Actor>,
}

macro_rules! columns {
    ($($v:ident => [$($alias:literal),+]),+ $(,)?) => {
        /// A GED column the importer knows; the first alias is the canonical name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Col { $($v),+ }

        impl Col {
            const ALL: &'static [Col] = &[$(Col::$v),+];
            fn aliases(self) -> &'static [&'static str] {
                match self { $(Col::$v => &[$($alias),+]),+ }
            }
        }
    };
}

columns! {
    Id => ["id"],
    Relid => ["relid"],
    CodeStatus => ["code_status"],
    TypeOfViolence => ["type_of_violence"],
    ConflictDsetId => ["conflict_dset_id"],
    ConflictNewId => ["conflict_new_id"],
    ConflictName => ["conflict_name"],
    DyadDsetId => ["dyad_dset_id"],
    DyadNewId => ["dyad_new_id"],
    DyadName => ["dyad_name"],
    SideADsetId => ["side_a_dset_id"],
    SideANewId => ["side_a_new_id"],
    SideA => ["side_a"],
    SideBDsetId => ["side_b_dset_id"],
    SideBNewId => ["side_b_new_id"],
    SideB => ["side_b"],
    SourceHeadline => ["source_headline"],
    WherePrec => ["where_prec"],
    WhereCoordinates => ["where_coordinates"],
    WhereDescription => ["where_description"],
    Adm1 => ["adm_1"],
    Adm2 => ["adm_2"],
    Latitude => ["latitude"],
    Longitude => ["longitude"],
    GeomWkt => ["geom_wkt"],
    PriogridGid => ["priogrid_gid"],
    Country => ["country"],
    CountryId => ["country_id"],
    Region => ["region"],
    EventClarity => ["event_clarity"],
    DatePrec => ["date_prec"],
    DateStart => ["date_start"],
    DateEnd => ["date_end"],
    DeathsA => ["deaths_a"],
    DeathsB => ["deaths_b"],
    DeathsCivilians => ["deaths_civilians"],
    DeathsUnknown => ["deaths_unknown"],
    Best => ["best", "best_est"],
    High => ["high", "high_est"],
    Low => ["low", "low_est"],
}

const N: usize = Col::ALL.len();

impl Col {
    fn name(self) -> &'static str {
        self.aliases()[0]
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Columns copied verbatim into `source_codes`, when present and not blank, in the order
/// of their names (each is then appended to the map without a search).
const KEPT: &[Col] = &[
    Col::Adm1,
    Col::Adm2,
    Col::CodeStatus,
    Col::ConflictDsetId,
    Col::ConflictName,
    Col::ConflictNewId,
    Col::Country,
    Col::CountryId,
    Col::DatePrec,
    Col::DeathsA,
    Col::DeathsB,
    Col::DeathsCivilians,
    Col::DeathsUnknown,
    Col::DyadDsetId,
    Col::DyadName,
    Col::DyadNewId,
    Col::EventClarity,
    Col::PriogridGid,
    Col::Region,
    Col::Relid,
    Col::SideANewId,
    Col::SideBNewId,
    Col::TypeOfViolence,
    Col::WherePrec,
];

/// The required columns that `has` says are absent, by canonical name. Coordinates are
/// required in CSV only (GeoJSON carries them in the geometry).
fn missing_required(has: impl Fn(Col) -> bool, need_coordinates: bool) -> Vec<String> {
    let mut missing: Vec<String> = [Col::Id, Col::TypeOfViolence, Col::DateStart, Col::Best]
        .into_iter()
        .filter(|&c| !has(c))
        .map(|c| c.name().to_string())
        .collect();
    if need_coordinates && !(has(Col::Latitude) && has(Col::Longitude)) && !has(Col::GeomWkt) {
        for c in [Col::Latitude, Col::Longitude] {
            if !has(c) {
                missing.push(c.name().to_string());
            }
        }
    }
    missing
}

/// One row's values by column: trimmed, `None` when absent or blank.
struct Row<'a>([Option<Cow<'a, str>>; N]);

impl<'a> Row<'a> {
    /// The cells of `rec` the columns `idx` name, each UTF-8, else Windows-1252 (all of
    /// them when the file is `latin1`: [`text::decode`]).
    fn from_csv(rec: &'a csv::ByteRecord, idx: &[Option<usize>; N], latin1: bool) -> Self {
        Row(std::array::from_fn(|i| {
            idx[i]
                .and_then(|j| rec.get(j))
                .map(|cell| match text::decode(cell, latin1) {
                    Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
                    Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
                })
                .filter(|s| !s.is_empty())
        }))
    }

    fn from_json(props: &'a serde_json::Map<String, serde_json::Value>) -> Self {
        Row(std::array::from_fn(|i| {
            Col::ALL[i]
                .aliases()
                .iter()
                .find_map(|a| json::get_ci(props, a))
                .and_then(json::text)
        }))
    }

    fn get(&self, c: Col) -> Option<&str> {
        self.0[c.index()].as_deref()
    }
}

/// Field access for one row, producing problems that name the row and the column.
struct Fields<'r, 'a> {
    row: usize,
    vals: &'r Row<'a>,
    /// The order of day and month of the file's all-numeric dates.
    order: ColumnOrder,
}

impl Fields<'_, '_> {
    fn problem(&self, c: Col, reason: impl Into<String>) -> Problem {
        Problem::new(self.row, c.name(), reason)
    }
    fn opt(&self, c: Col) -> Option<&str> {
        self.vals.get(c)
    }
    fn req(&self, c: Col) -> Result<&str, Problem> {
        self.opt(c).ok_or_else(|| self.problem(c, "is empty"))
    }
    fn int(&self, c: Col, s: &str) -> Result<i64, Problem> {
        crate::text::parse_int(s)
            .ok_or_else(|| self.problem(c, format!("'{s}' is not a whole number")))
    }
    fn code(&self, c: Col, s: &str, what: &str) -> Result<u8, Problem> {
        let v = self.int(c, s)?;
        u8::try_from(v).map_err(|_| self.problem(c, format!("{v} is not a {what} code")))
    }
    fn count(&self, c: Col) -> Result<Option<u32>, Problem> {
        match self.opt(c) {
            None => Ok(None),
            Some(s) => {
                let v = self.int(c, s)?;
                u32::try_from(v).map(Some).map_err(|_| {
                    self.problem(c, format!("{v} is not a count of people (0 or more)"))
                })
            }
        }
    }
    fn float(&self, c: Col, s: &str) -> Result<f64, Problem> {
        // A decimal comma too: semicolon files saved by spreadsheets in French locales.
        crate::text::parse_float(s).ok_or_else(|| self.problem(c, format!("'{s}' is not a number")))
    }
    /// GED's ISO date, else a day as a spreadsheet re-saving the file writes it
    /// (`03/01/2013`, `1/3/2013`, `3-Jan-13`) in the file's order of day and month.
    fn date(&self, c: Col, s: &str) -> Result<NaiveDate, Problem> {
        parse_date(s)
            .or_else(|| {
                text::parse_date_span(s, self.order.order)
                    .filter(|d| d.precision == DatePrecision::Day)
                    .map(|d| d.start)
            })
            .ok_or_else(|| {
                let reason = text::order_conflict(s, self.order).unwrap_or_else(|| {
                    format!("'{s}' is not a date (YYYY-MM-DD, optionally with a time)")
                });
                self.problem(c, reason)
            })
    }
}

/// A GED id as UCDP writes it: `432101` for `432101.0` or `432101.00` (a spreadsheet or a
/// JSON number's way of writing the same id), so that both name one event.
fn whole_id(s: &str) -> &str {
    match s.split_once('.') {
        Some((whole, zeros))
            if !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && zeros.bytes().all(|b| b == b'0') =>
        {
            whole
        }
        _ => s,
    }
}

/// Parses `2013-01-03`, `2009-02-20T00:00:00`, `2009-02-20 00:00:00.000` (a trailing `Z`
/// or UTC offset is accepted); the time is checked but dropped.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let (d, t) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    if let Some(t) = t {
        let t = t.trim_end_matches('Z');
        let t = match t.rfind(['+', '-']) {
            Some(i) if i >= 5 => &t[..i],
            _ => t,
        };
        NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
            .ok()?;
    }
    Some(date)
}

/// Whether a header row (names trimmed, lower case) is a GED file's: it has every column GED
/// requires but the coordinates.
pub(crate) fn is_ged_header(names: &[String]) -> bool {
    missing_required(
        |c| c.aliases().iter().any(|a| names.iter().any(|n| n == a)),
        false,
    )
    .is_empty()
}

/// Parses a WKT `POINT (lon lat)` into `(lon, lat)`.
fn parse_wkt_point(s: &str) -> Option<(f64, f64)> {
    let rest = s.trim();
    let rest = rest
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("point"))
        .map(|_| &rest[5..])?;
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut it = inner.split_whitespace().map(str::parse::<f64>);
    match (it.next(), it.next()) {
        (Some(Ok(x)), Some(Ok(y))) => Some((x, y)),
        _ => None,
    }
}

/// The actor kind implied by a UCDP actor name: `Government of …` is a state security
/// force, `Civilians` are civilians, militia-like names (militia, anti-balaka,
/// self-defence) are militias, anything else a non-state armed group.
pub fn ucdp_actor_kind(name: &str) -> ActorKind {
    let lower = name.trim().to_lowercase();
    if lower.starts_with("government of") {
        ActorKind::StateSecurityForce
    } else if lower == "civilians" {
        ActorKind::Civilians
    } else if ["militia", "anti-balaka", "self-defen"]
        .iter()
        .any(|m| lower.contains(m))
    {
        ActorKind::Militia
    } else {
        ActorKind::NonStateArmedGroup
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The GED column a domain validation error is about.
fn ged_column(domain_field: &str) -> &str {
    match domain_field {
        "external_id" => "id",
        "occurred_start" => "date_start",
        "occurred_end" => "date_end",
        "category" | "dimension" => "type_of_violence",
        "killed_best" => "best",
        "killed_low" => "low",
        "killed_high" => "high",
        "place_name" => "where_coordinates",
        "description" => "source_headline",
        "location_precision" => "where_prec",
        other => other,
    }
}

/// Actors already built from a file, by UCDP id and name: a file names the same few
/// hundred actors on many rows, so each is derived (id hash, kind, checks) once.
#[derive(Default)]
struct ActorCache(std::collections::HashMap<(Option<i64>, String), Actor>);

fn side(
    f: &Fields<'_, '_>,
    name: Col,
    new_id: Col,
    dset_id: Col,
    role: ActorRole,
    cache: &mut ActorCache,
) -> Result<Option<(Actor, EventActor)>, Problem> {
    let Some(actor_name) = f.opt(name) else {
        return Ok(None);
    };
    let ucdp_id = f
        .opt(new_id)
        .or_else(|| f.opt(dset_id))
        .and_then(crate::text::parse_int);
    let key = (ucdp_id, actor_name.to_string());
    if let Some(a) = cache.0.get(&key) {
        return Ok(Some((a.clone(), EventActor { actor: a.id, role })));
    }
    let id = match ucdp_id {
        Some(n) => ActorId::derived(&format!("ucdp:{n}")),
        None => ActorId::derived(&format!("ucdp-name:{}", actor_name.to_lowercase())),
    };
    let external = ExternalActorIds {
        ucdp_id,
        acled_name: None,
    };
    let actor = Actor::new(id, actor_name, ucdp_actor_kind(actor_name), external)
        .map_err(|e| f.problem(name, e.reason))?;
    cache.0.insert(key, actor.clone());
    Ok(Some((actor, EventActor { actor: id, role })))
}

/// Maps one GED row to an event. `geometry_point` is the GeoJSON geometry's `(lon, lat)`
/// (or why it could not be read); CSV rows pass `None` and use latitude/longitude.
fn map_row(
    row: usize,
    vals: &Row<'_>,
    geometry_point: Option<Result<(f64, f64), String>>,
    taxonomy: &Taxonomy,
    now: DateTime<Utc>,
    actor_cache: &mut ActorCache,
    order: ColumnOrder,
) -> Result<ImportRow, Problem> {
    let f = Fields { row, vals, order };
    let id = whole_id(f.req(Col::Id)?);

    let tov_text = f.req(Col::TypeOfViolence)?;
    let tov = f.code(Col::TypeOfViolence, tov_text, "type_of_violence")?;
    let category = taxonomy.map_ucdp(tov).ok_or_else(|| {
        f.problem(
            Col::TypeOfViolence,
            format!("{tov} is not mapped to a category in the taxonomy"),
        )
    })?;

    let start = f.date(Col::DateStart, f.req(Col::DateStart)?)?;
    if start > now.date_naive() {
        return Err(f.problem(Col::DateStart, format!("{start} is in the future")));
    }
    let end = match f.opt(Col::DateEnd) {
        Some(s) => f.date(Col::DateEnd, s)?,
        None => start,
    };
    if end < start {
        return Err(f.problem(Col::DateEnd, format!("{end} is before date_start {start}")));
    }
    let date_precision = match f.opt(Col::DatePrec) {
        Some(s) => DatePrecision::from_ucdp(f.code(Col::DatePrec, s, "date_prec")?)
            .map_err(|e| f.problem(Col::DatePrec, e.reason))?,
        None => match (end - start).num_days() {
            0 => DatePrecision::Day,
            1..=6 => DatePrecision::Week,
            7..=31 => DatePrecision::Month,
            _ => DatePrecision::Year,
        },
    };

    let (lat, lon) = match geometry_point {
        Some(Ok((lon, lat))) => (lat, lon),
        geometry => match (f.opt(Col::Latitude), f.opt(Col::Longitude)) {
            (Some(la), Some(lo)) => (f.float(Col::Latitude, la)?, f.float(Col::Longitude, lo)?),
            _ => match (geometry, f.opt(Col::GeomWkt)) {
                (Some(Err(reason)), _) => return Err(Problem::new(row, "geometry", reason)),
                (None, Some(wkt)) => parse_wkt_point(wkt)
                    .map(|(lon, lat)| (lat, lon))
                    .ok_or_else(|| {
                        f.problem(Col::GeomWkt, format!("'{wkt}' is not a WKT POINT"))
                    })?,
                _ => {
                    let missing = if f.opt(Col::Latitude).is_none() {
                        Col::Latitude
                    } else {
                        Col::Longitude
                    };
                    return Err(f.problem(missing, "is empty (the event has no coordinates)"));
                }
            },
        },
    };
    let point = GeoPoint::new(lat, lon).map_err(|e| Problem::new(row, e.field, e.reason))?;
    let location_precision = match f.opt(Col::WherePrec) {
        Some(s) => Some(
            LocationPrecision::new(f.code(Col::WherePrec, s, "where_prec")?)
                .map_err(|e| f.problem(Col::WherePrec, e.reason))?,
        ),
        None => None,
    };

    let Some(best) = f.count(Col::Best)? else {
        return Err(f.problem(Col::Best, "is empty"));
    };
    // About 1 % of published GED rows have a low estimate above best or a high estimate
    // below it (GED 23.1: 20 of the 1,848 CAR events). Rejecting them would drop real
    // deaths, so the range is widened to include best and the published values are kept
    // verbatim in `source_codes` (`low`, `high`).
    let mut repaired = Vec::new();
    let low = f.count(Col::Low)?.map(|l| {
        if l > best {
            repaired.push((Col::Low, l));
        }
        l.min(best)
    });
    let high = f.count(Col::High)?.map(|h| {
        if h < best {
            repaired.push((Col::High, h));
        }
        h.max(best)
    });

    let mut actors = Vec::with_capacity(2);
    let mut event_actors = Vec::with_capacity(2);
    for (name, new_id, dset_id, role) in [
        (
            Col::SideA,
            Col::SideANewId,
            Col::SideADsetId,
            ActorRole::SideA,
        ),
        (
            Col::SideB,
            Col::SideBNewId,
            Col::SideBDsetId,
            ActorRole::SideB,
        ),
    ] {
        if let Some((actor, link)) = side(&f, name, new_id, dset_id, role, actor_cache)? {
            event_actors.push(link);
            actors.push(actor);
        }
    }

    // In name order (as `KEPT` gives them): each code is appended without a search.
    let mut source_codes = SourceCodes::with_capacity(KEPT.len() + repaired.len(), 256);
    source_codes.extend(KEPT.iter().filter_map(|&c| f.opt(c).map(|v| (c.name(), v))));
    for (c, v) in repaired {
        source_codes.insert(c.name(), v.to_string());
    }

    let place_name = f
        .opt(Col::WhereCoordinates)
        .or_else(|| f.opt(Col::WhereDescription))
        .map(|s| truncate(s, 500));
    let description = match f.opt(Col::SourceHeadline) {
        Some(h) => Some(h.to_string()),
        None => {
            let parts: Vec<&str> = [f.opt(Col::DyadName), f.opt(Col::WhereDescription)]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(": "))
        }
    }
    .map(|d| truncate(&d, 2_000));

    let data = EventData {
        id: EventId::derived(&format!("ucdp-ged:{id}")),
        source: SOURCE.to_string(),
        external_id: Some(id.to_string()),
        channel: Channel::Import,
        occurred_start: start,
        occurred_end: end,
        date_precision,
        reported_at: None,
        point: Some(point),
        location_precision,
        place_name,
        locality: None,
        dimension: category.dimension,
        category: category.code.clone(),
        source_codes,
        actors: event_actors,
        casualties: Casualties {
            killed_best: Some(best),
            killed_low: low,
            killed_high: high,
            ..Default::default()
        },
        civilians_targeted: tov == 3,
        description,
        people: Vec::new(),
        reporter_contact: None,
        status: VerificationStatus::Verified,
        reliability: None,
        credibility: None,
        meta: RecordMeta {
            created_at: now,
            updated_at: now,
            created_by: None,
            owner_org: None,
        },
    };
    let data = data.validate(taxonomy).map_err(|errs| {
        let first = errs.into_iter().next();
        match first {
            Some(e) => Problem::new(row, ged_column(e.field), e.reason),
            None => Problem::new(row, "row", "was rejected"),
        }
    })?;
    Ok(ImportRow {
        row,
        event: ImportedEvent {
            data: data.into_data(),
            actors,
        },
        place: PlaceHints {
            country: f.opt(Col::Country).map(str::to_string),
            ..Default::default()
        },
    })
}

/// Chooses the CSV delimiter from the header line: `,`, `;` or tab, whichever occurs most
/// outside quotes (spreadsheets in French locales save with `;`).
pub(crate) fn sniff_delimiter(head: &[u8]) -> u8 {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let mut counts = [(0usize, b','), (0, b';'), (0, b'\t')];
    let mut quoted = false;
    for &b in &head[..end] {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for c in counts.iter_mut() {
                if c.1 == b {
                    c.0 += 1;
                }
            }
        }
    }
    let mut best = counts[0];
    for c in &counts[1..] {
        if c.0 > best.0 {
            best = *c;
        }
    }
    best.1
}

struct GedCsvRows<R: Read> {
    rdr: csv::Reader<BufReader<R>>,
    headers: Vec<String>,
    idx: [Option<usize>; N],
    rec: csv::ByteRecord,
    /// Whether the file is Windows-1252 (Latin-1) throughout, from its first 32 MiB.
    latin1: bool,
    rows: crate::csvin::RowCounter,
    taxonomy: Taxonomy,
    now: DateTime<Utc>,
    done: bool,
    actors: ActorCache,
    /// Whether the next record is the first after the header (which may be HDX's row of
    /// HXL hashtags).
    first: bool,
    /// The order of day and month of the file's all-numeric dates.
    date_order: ColumnOrder,
}

impl<R: Read> Iterator for GedCsvRows<R> {
    type Item = Result<ImportRow, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(true) => {
                    let rec = &self.rec;
                    let row = self
                        .rows
                        .record(self.rdr.position().line(), || crate::csvin::breaks_in(rec));
                    if self.rec.iter().all(|v| v.trim_ascii().is_empty()) {
                        continue;
                    }
                    if std::mem::take(&mut self.first)
                        && crate::hxl::is_hashtags_only(
                            self.rec.iter().map(|c| text::decode(c, self.latin1)),
                        )
                    {
                        continue;
                    }
                    let vals = Row::from_csv(&self.rec, &self.idx, self.latin1);
                    let mapped = map_row(
                        row,
                        &vals,
                        None,
                        &self.taxonomy,
                        self.now,
                        &mut self.actors,
                        self.date_order,
                    );
                    // A row of the wrong width explains its problem better than the
                    // column it happened to reach.
                    let (cells, wanted) = (self.rec.len(), self.headers.len());
                    return Some(mapped.map_err(|p| {
                        if cells == wanted {
                            return p;
                        }
                        Problem::new(
                            row,
                            "row",
                            format!(
                                "has {cells} cells where the header has {wanted}: the row may \
                                 be cut short, or a cell holds an unquoted separator ({}: {})",
                                p.field, p.reason
                            ),
                        )
                    }));
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    let row = self.rows.record(self.rdr.position().line(), || 0);
                    self.done = true;
                    return Some(Err(Problem::new(
                        row,
                        "file",
                        format!("reading stopped here: {e}"),
                    )));
                }
            }
        }
        None
    }
}

/// Reads a GED CSV lazily, row by row. The header is checked up front: missing required
/// columns (`id`, `type_of_violence`, `date_start`, `best`, and `latitude`/`longitude` or
/// `geom_wkt`) are an [`IngestError::MissingColumns`] naming them. Each row then yields
/// its event (with the country it names, as a place hint) or a [`Problem`]; rows are
/// numbered as in a spreadsheet (header = row 1). A row right after the header whose
/// non-empty cells are all HXL hashtags (`#event+code`, `#date+start`, …, as in the GED
/// files on HDX) is skipped. A file whose first 32 MiB are not UTF-8 is read as
/// Windows-1252 (Latin-1), as a spreadsheet program on Windows saves CSV; so is a cell
/// that is not UTF-8 further on in a file that looked like UTF-8.
///
/// Dates are GED's ISO dates, or the days a spreadsheet program writes when it saves the
/// file again (`1/3/2013`, `03/01/2013`), in one order of day and month for the file
/// (decided as the ACLED reader decides it, with a note when no date decides, unless
/// `options` tell it).
pub fn read_ged_csv<R: Read>(
    reader: R,
    taxonomy: &Taxonomy,
    options: ReadOptions,
) -> Result<Rows<impl Iterator<Item = Result<ImportRow, Problem>>>, IngestError> {
    read_ged_csv_ahead(reader, taxonomy, options, text::LOOK_AHEAD)
}

/// [`read_ged_csv`], deciding the file's encoding from its first `look_ahead` bytes.
fn read_ged_csv_ahead<R: Read>(
    reader: R,
    taxonomy: &Taxonomy,
    options: ReadOptions,
    look_ahead: u64,
) -> Result<Rows<impl Iterator<Item = Result<ImportRow, Problem>>>, IngestError> {
    let ahead = text::LookAhead::read(reader, look_ahead);
    let head = ahead.head();
    if let Some(e) = crate::csvin::not_text(head) {
        return Err(e);
    }
    let [votes] = options.date_votes(|| Ok([csv_date_votes(&ahead)?]))?;
    let date_order = ColumnOrder::of(options.date_order, &votes);
    let note = text::undecided_note(
        "columns date_start and date_end",
        &votes,
        date_order,
        &ahead.extent(),
    );
    let delimiter = sniff_delimiter(head);
    // A file saved in Windows-1252 (Latin-1), as spreadsheet programs on Windows save
    // CSV, is read as such, and so is a cell that is not UTF-8 further on in a file that
    // looked like UTF-8, as the ACLED and HXL readers do ([`text::decode`]).
    let latin1 = text::looks_latin1(head);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, ahead.into_reader()));
    let header = rdr.byte_headers().map_err(|e| match e.kind() {
        csv::ErrorKind::Io(io) => IngestError::Read(io.to_string()),
        _ => IngestError::Csv(e.to_string()),
    })?;
    let headers: Vec<String> = header
        .iter()
        .map(|h| text::decode(h, latin1).trim().to_ascii_lowercase())
        .collect();
    // The header's row, after any empty lines before it (the reader is past it now).
    let after = rdr.position().line();
    let rows = crate::csvin::RowCounter::at(after.saturating_sub(1).max(1) as usize, after);
    let mut idx = [None; N];
    for (i, h) in headers.iter().enumerate() {
        for &c in Col::ALL {
            if idx[c.index()].is_none() && c.aliases().contains(&h.as_str()) {
                idx[c.index()] = Some(i);
            }
        }
    }
    let missing = missing_required(|c| idx[c.index()].is_some(), true);
    if !missing.is_empty() {
        use crate::csvin::Layout;
        return Err(Layout::missing_columns(
            Layout::of(&headers),
            Some(Layout::Ged),
            missing,
        ));
    }
    let rows = GedCsvRows {
        rdr,
        headers,
        idx,
        rec: csv::ByteRecord::new(),
        latin1,
        rows,
        taxonomy: taxonomy.clone(),
        now: options.now,
        done: false,
        actors: ActorCache::default(),
        first: true,
        date_order,
    };
    Ok(Rows::new(rows, note.into_iter().collect()))
}

/// The votes of a GED CSV's all-numeric dates for their order of day and month. GED
/// writes ISO dates, which need none: when the first row's `date_start` is one, the
/// look-ahead is not read again and there are no votes. A file re-saved by a spreadsheet
/// writes `03/01/2013` or `1/3/2013`: then the dates of `date_start` and `date_end` in the
/// look-ahead vote together, as one column.
fn csv_date_votes<R: Read>(ahead: &text::LookAhead<R>) -> Result<text::OrderVotes, IngestError> {
    let none = text::OrderVotes::default();
    let mut input = ahead.records()?;
    let Some(Ok((_, headers))) = input.next_record() else {
        return Ok(none);
    };
    let col = |c: Col| {
        headers.iter().position(|h| {
            let h = h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
            c.aliases().contains(&h.as_str())
        })
    };
    let cols = [col(Col::DateStart), col(Col::DateEnd)];
    let mut first = input.next_record();
    if let Some(Ok((_, cells))) = &first {
        if crate::hxl::is_hashtags_only(cells) {
            first = input.next_record();
        }
    }
    let Some(Ok((_, cells))) = first else {
        return Ok(none);
    };
    let start = cols[0].and_then(|c| cells.get(c));
    if start.is_none_or(|d| parse_date(d).is_some()) {
        return Ok(none);
    }
    let mut votes = text::OrderVotes::default();
    for d in cols.iter().flatten().filter_map(|&c| cells.get(c)) {
        votes.add(d);
    }
    for v in ahead.votes(&mut input, cols) {
        votes.day_first += v.day_first;
        votes.month_first += v.month_first;
        votes.ambiguous += v.ambiguous;
    }
    Ok(votes)
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

/// The member a page of the UCDP API holds its events in (any ASCII case).
pub const JSON_LIST: &str = "Result";

/// Reads GED events from JSON in any of the shapes UCDP and analysts' tools give them:
/// - UCDP's GeoJSON export, a FeatureCollection whose properties are as in the CSV and
///   whose point is the Point geometry (or the `latitude`/`longitude` properties);
/// - a page of the UCDP API (`/api/gedevents/VERSION`): `{"TotalCount": …,
///   "NextPageUrl": …, "Result": [{"id": …, "relid": …, …}]}`;
/// - a JSON array of such records (R's `jsonlite`, pandas' `orient="records"`).
///
/// Record `n` is row `n + 1` in problems. A required property absent from every record is
/// an [`IngestError::MissingColumns`]. The file is read twice, never held whole: first
/// skimmed for the properties its records have and the votes of their dates (unless
/// `options` tell their order), then for the rows.
pub fn read_ged_json(
    source: JsonSource,
    taxonomy: &Taxonomy,
    options: ReadOptions,
) -> Result<Rows<JsonRows>, IngestError> {
    // First the columns the records have and the votes of their dates (their other values
    // skipped), then each record mapped as it is read: one at a time is held as JSON values.
    let mut votes = text::OrderVotes::default();
    let is = |c: Col, k: &str| c.aliases().iter().any(|a| a.eq_ignore_ascii_case(k));
    let skimmed = json::skim_records(
        source.open()?,
        Some(JSON_LIST),
        &|k| options.votes_on_dates() && (is(Col::DateStart, k) || is(Col::DateEnd, k)),
        &mut |_, v| {
            if let Some(d) = json::text(v) {
                votes.add(&d);
            }
        },
    )?;
    if skimmed.items > 0 {
        let present = |c: Col| skimmed.names.iter().any(|k| is(c, k));
        let missing = missing_required(present, !skimmed.geometry);
        if !missing.is_empty() {
            return Err(IngestError::MissingColumns(missing));
        }
    }
    let note = api_page_note(&skimmed.doc, skimmed.items);
    let order = ColumnOrder::of(options.date_order, &votes);
    let notes = note
        .into_iter()
        .chain(text::undecided_note(
            "properties date_start and date_end",
            &votes,
            order,
            "the file",
        ))
        .collect();
    let now = options.now;
    let mut actors = ActorCache::default();
    let taxonomy = taxonomy.clone();
    let rows = JsonRows::mapped(&source, Some(JSON_LIST), "feature", move |f, row| {
        let point = f.geometry.map(geometry_point);
        let vals = Row::from_json(&f.properties);
        map_row(row, &vals, point, &taxonomy, now, &mut actors, order)
    })?;
    Ok(Rows::new(rows, notes))
}

/// What to say when a UCDP API page (`doc`, its members but the records) holds fewer than
/// the answer's `TotalCount` events: the API gives at most 1,000 a page.
fn api_page_note(doc: &serde_json::Map<String, serde_json::Value>, held: usize) -> Option<String> {
    let total = json::get_ci(doc, "TotalCount")?.as_u64()?;
    if total <= held as u64 {
        return None;
    }
    let pages = json::get_ci(doc, "TotalPages")
        .and_then(serde_json::Value::as_u64)
        .map(|p| format!(" in {p} pages"))
        .unwrap_or_default();
    let next = json::get_ci(doc, "NextPageUrl")
        .and_then(json::text)
        .map(|u| format!("; the next page is {u}"))
        .unwrap_or_default();
    Some(format!(
        "this file is one page of the UCDP API's answer: it holds {held} of its {total} \
         events{pages}{next}. Save each page and import each file; events already imported \
         are not added twice"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};

    fn taxonomy() -> Taxonomy {
        parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
    }

    #[test]
    fn kept_columns_are_in_the_order_of_their_names() {
        assert!(KEPT.windows(2).all(|w| w[0].name() < w[1].name()));
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    const HEADER: &str = "id,type_of_violence,side_a_new_id,side_a,side_b_new_id,side_b,where_prec,where_coordinates,latitude,longitude,date_prec,date_start,date_end,best,low,high";

    fn csv_rows(body: &str) -> Vec<Result<ImportedEvent, Problem>> {
        let text = format!("{HEADER}\n{body}");
        read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .map(|r| r.map(|row| row.event))
            .collect()
    }

    /// Runs one data row and returns `Ok(event)` or the problem's `field: reason`.
    fn one(row: &str) -> Result<ImportedEvent, String> {
        let mut rows = csv_rows(row);
        assert_eq!(rows.len(), 1);
        rows.remove(0).map_err(|p| {
            assert_eq!(p.row, 2);
            format!("{}: {}", p.field, p.reason)
        })
    }

    const GOOD: &str =
        "7,3,4,Government of X,1,Civilians,2,Town,5.5,20.25,1,2020-01-02,2020-01-03,4,3,6";

    #[test]
    fn maps_a_row() {
        let e = one(GOOD).unwrap();
        let d = &e.data;
        assert_eq!(d.id, EventId::derived("ucdp-ged:7"));
        assert_eq!(d.external_id.as_deref(), Some("7"));
        assert_eq!(d.category, "violence_against_civilians");
        assert!(d.civilians_targeted);
        assert_eq!(d.point.map(|p| (p.lat(), p.lon())), Some((5.5, 20.25)));
        assert_eq!(d.location_precision.map(|p| p.code()), Some(2));
        assert_eq!(d.place_name.as_deref(), Some("Town"));
        assert_eq!(d.casualties.killed_best, Some(4));
        assert_eq!(d.casualties.killed_low, Some(3));
        assert_eq!(d.casualties.killed_high, Some(6));
        assert_eq!(d.source_codes.get("type_of_violence"), Some("3"));
        assert_eq!(d.source_codes.get("where_prec"), Some("2"));
        assert_eq!(d.status, VerificationStatus::Verified);
        assert_eq!(d.meta.created_at, now());
        let kinds: Vec<_> = e
            .actors
            .iter()
            .map(|a| (a.kind, a.external.ucdp_id))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ActorKind::StateSecurityForce, Some(4)),
                (ActorKind::Civilians, Some(1))
            ]
        );
        assert_eq!(d.actors[0].actor, ActorId::derived("ucdp:4"));
        assert_eq!(d.actors[1].role, ActorRole::SideB);
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            (
                GOOD.replace(",2,Town", ",9,Town"),
                "where_prec: 9 is not a where_prec code 1-7",
            ),
            (
                GOOD.replace("2020-01-02", "2020-13-02"),
                "date_start: '2020-13-02' is not a date",
            ),
            (
                GOOD.replace("2020-01-03", "2019-12-31"),
                "date_end: 2019-12-31 is before",
            ),
            (GOOD.replace(",4,3,6", ",4,-3,6"), "low: -3 is not a count"),
            (
                GOOD.replace(",4,3,6", ",4,3,many"),
                "high: 'many' is not a whole number",
            ),
            (GOOD.replace(",4,3,6", ",-1,0,6"), "best: -1 is not a count"),
            (GOOD.replace(",4,3,6", ",,3,6"), "best: is empty"),
            (
                GOOD.replace("5.5,20.25", "95,20.25"),
                "latitude: 95 is not between",
            ),
            (
                GOOD.replace("5.5,20.25", "5.5,east"),
                "longitude: 'east' is not a number",
            ),
            (
                GOOD.replace("7,3,", "7,4,"),
                "type_of_violence: 4 is not mapped",
            ),
            (GOOD.replace("7,3,", ",3,"), "id: is empty"),
            (
                GOOD.replace("2020-01-02,2020-01-03", "2030-01-02,2030-01-03"),
                "date_start: 2030-01-02 is in the future",
            ),
            (
                GOOD.replace(",1,2020", ",0,2020"),
                "date_prec: 0 is not a date_prec code",
            ),
        ];
        for (row, want) in cases {
            let got = one(&row).unwrap_err();
            assert!(got.starts_with(want), "{got} does not start with {want}");
        }
    }

    #[test]
    fn inconsistent_estimates_are_widened_around_best_and_kept_verbatim() {
        let e = one(&GOOD.replace(",4,3,6", ",4,5,3")).unwrap();
        let c = e.data.casualties;
        assert_eq!(
            (c.killed_low, c.killed_best, c.killed_high),
            (Some(4), Some(4), Some(4))
        );
        assert_eq!(e.data.source_codes.get("low"), Some("5"));
        assert_eq!(e.data.source_codes.get("high"), Some("3"));
        let e = one(GOOD).unwrap();
        assert!(!e.data.source_codes.contains_key("low"));
        let e = one(&GOOD.replace(",4,3,6", ",4,,")).unwrap();
        assert_eq!(
            (e.data.casualties.killed_low, e.data.casualties.killed_high),
            (None, None)
        );
    }

    #[test]
    fn accepts_date_forms_and_fills_missing_end() {
        for form in [
            "2009-02-20",
            "2009-02-20T00:00:00",
            "2009-02-20 00:00:00.000",
            "2009-02-20T00:00:00Z",
        ] {
            assert_eq!(
                parse_date(form),
                NaiveDate::from_ymd_opt(2009, 2, 20),
                "{form}"
            );
        }
        assert!(parse_date("20/02/2009").is_none());
        assert!(parse_date("2009-02-20Tnoon").is_none());
        let e = one(&GOOD.replace("2020-01-03", "")).unwrap();
        assert_eq!(e.data.occurred_end, e.data.occurred_start);
    }

    #[test]
    fn dates_a_spreadsheet_wrote_are_read_in_the_order_told() {
        let text = "id,type_of_violence,date_start,date_end,best,latitude,longitude\n\
                    1,1,03/01/2013,03/01/2013,2,5,20\n2,1,13/01/2013,13/01/2013,2,5,20\n";
        let starts = |options: ReadOptions| -> Vec<String> {
            read_ged_csv(text.as_bytes(), &taxonomy(), options)
                .unwrap()
                .map(|r| match r {
                    Ok(r) => r.event.data.occurred_start.to_string(),
                    Err(p) => format!("{} {}", p.row, p.field),
                })
                .collect()
        };
        // Found from the 13th: day first.
        assert_eq!(starts(ReadOptions::at(now())), ["2013-01-03", "2013-01-13"]);
        // Told month first: the 3rd of January is the 1st of March, and the 13th of
        // January cannot be read so.
        let found = read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now())).unwrap();
        assert!(found.notes().is_empty(), "{:?}", found.notes());
        let told = ReadOptions::at(now()).date_order(Some(text::DateOrder::MonthFirst));
        assert_eq!(starts(told), ["2013-03-01", "3 date_start"]);

        // Without the 13th nothing decides: day first, with a note naming both columns,
        // and none when the order is told.
        let undecided = text.replace("13/01/2013", "02/01/2013");
        let rows = read_ged_csv(undecided.as_bytes(), &taxonomy(), ReadOptions::at(now()));
        let notes = rows.unwrap().notes().to_vec();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("4 dates of columns date_start and date_end"),
            "{notes:?}"
        );
        let rows = read_ged_csv(undecided.as_bytes(), &taxonomy(), told).unwrap();
        assert!(rows.notes().is_empty(), "{:?}", rows.notes());
        let json = r#"[{"id": 1, "type_of_violence": 1, "date_start": "03/01/2013", "best": 2, "latitude": 5, "longitude": 20}]"#;
        let read = read_ged_json(json.into(), &taxonomy(), ReadOptions::at(now())).unwrap();
        assert_eq!(read.notes().len(), 1, "{:?}", read.notes());
        assert!(
            read.notes()[0].starts_with("1 date of properties date_start and date_end is before"),
            "{:?}",
            read.notes()
        );
        let read = read_ged_json(json.into(), &taxonomy(), told).unwrap();
        assert!(read.notes().is_empty(), "{:?}", read.notes());
        let start = read.map(|r| r.unwrap().event.data.occurred_start);
        assert_eq!(
            start.map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2013-03-01"]
        );
    }

    #[test]
    fn whole_numbers_decimal_commas_and_wkt() {
        let text = "id;type_of_violence;date_start;best;latitude;longitude\n7;1;2020-01-01;12.0;4,36;18,55\n";
        let row = read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let d = &row.event.data;
        assert_eq!(d.point.map(|p| (p.lat(), p.lon())), Some((4.36, 18.55)));
        assert_eq!(d.casualties.killed_best, Some(12));
        assert_eq!(parse_wkt_point("POINT (36.5 35.7)"), Some((36.5, 35.7)));
        assert_eq!(parse_wkt_point("point(1 2)"), Some((1.0, 2.0)));
        assert_eq!(parse_wkt_point("LINESTRING (1 2, 3 4)"), None);
    }

    #[test]
    fn actor_kinds_from_names() {
        assert_eq!(
            ucdp_actor_kind("Government of Chad"),
            ActorKind::StateSecurityForce
        );
        assert_eq!(ucdp_actor_kind("Civilians"), ActorKind::Civilians);
        assert_eq!(ucdp_actor_kind("anti-Balaka"), ActorKind::Militia);
        assert_eq!(ucdp_actor_kind("Peuhl militia (Zemio)"), ActorKind::Militia);
        assert_eq!(
            ucdp_actor_kind("Self-Defense Mujahidin (CAR)"),
            ActorKind::Militia
        );
        assert_eq!(ucdp_actor_kind("LRA"), ActorKind::NonStateArmedGroup);
    }

    #[test]
    fn an_id_written_with_a_decimal_point_names_the_same_event() {
        let rows: Vec<_> = read_ged_csv(
            "id,type_of_violence,date_start,best,latitude,longitude\n\
             432101.0,1,2020-01-01,2,5,20\n432101,1,2020-01-01,2,5,20\n\
             4321.5,1,2020-01-01,2,5,20\n"
                .as_bytes(),
            &taxonomy(),
            ReadOptions::at(now()),
        )
        .unwrap()
        .map(|r| r.unwrap().event.data)
        .collect();
        assert_eq!(rows[0].id, rows[1].id);
        assert_eq!(rows[0].external_id.as_deref(), Some("432101"));
        assert_eq!(rows[2].external_id.as_deref(), Some("4321.5"));
    }

    #[test]
    fn a_row_of_the_wrong_width_says_so() {
        let rows = csv_rows(&format!("{GOOD}\n7,3,4,Government of X,1\n"));
        let p = rows[1].as_ref().unwrap_err();
        assert_eq!(p.field, "row");
        assert!(
            p.reason.starts_with("has 5 cells where the header has 16"),
            "{}",
            p.reason
        );
        assert!(rows[0].is_ok());
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        // Header row 1, row 2, an empty row 3, a row 4 whose description holds a line
        // break, then a bad row 5.
        let text = "id,type_of_violence,date_start,best,latitude,longitude,where_description\n\
                    1,1,2020-01-01,2,5,20,x\n\
                    \n\
                    2,1,2020-01-01,2,5,20,\"two\nlines\"\n\
                    3,1,2020-01-01,-2,5,20,x\n";
        let rows: Vec<_> = read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 3);
        let p = rows[2].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (5, "best"), "{p:?}");
    }

    #[test]
    fn hdx_row_of_hashtags_under_the_header_is_skipped() {
        // As HDX serves GED: a BOM, an iso3 column, hashtags on some columns only.
        let text = "\u{feff}id,year,type_of_violence,side_a,side_b,where_coordinates,latitude,longitude,country,iso3,date_start,date_end,best\n\
                    #event+code,#date+year,,#group+name+first,#group+name+second,#loc+name,#geo+lat,#geo+lon,#country+name,#country+code,#date+start,#date+end,#affected+killed\n\
                    71663,2013,2,Supporters of A,Supporters of B,Town,22.48,90.06,Bangladesh,BGD,2013-12-13,2013-12-14,1\n\
                    71664,2013,2,Supporters of A,Supporters of B,Town,22.48,90.06,Bangladesh,BGD,2013-12-15,2013-12-15,-1\n";
        let rows: Vec<_> = read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let e = rows[0].as_ref().unwrap();
        assert_eq!(
            (e.row, e.event.data.external_id.as_deref()),
            (3, Some("71663"))
        );
        // Later rows keep their spreadsheet numbers.
        let p = rows[1].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (4, "best"));
        // Only right after the header, and only a row of nothing but hashtags.
        let later = format!("{HEADER}\n{GOOD}\n#event+code,#date+year\n");
        assert!(
            read_ged_csv(later.as_bytes(), &taxonomy(), ReadOptions::at(now()))
                .unwrap()
                .nth(1)
                .unwrap()
                .is_err()
        );
        let half = format!("{HEADER}\n#event+code,3\n");
        assert!(
            read_ged_csv(half.as_bytes(), &taxonomy(), ReadOptions::at(now()))
                .unwrap()
                .next()
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn semicolon_files_blank_rows_and_geom_wkt_fallback() {
        let text =
            "ID;Type_of_violence;date_start;best;geom_wkt\n1;1;2020-01-01;2;POINT (20 5)\n;;;;\n";
        let rows: Vec<_> = read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 1);
        let e = &rows[0].as_ref().unwrap().event;
        assert_eq!(e.data.point.map(|p| (p.lat(), p.lon())), Some((5.0, 20.0)));
        assert_eq!(e.data.location_precision, None);
        assert_eq!(e.data.date_precision, DatePrecision::Day);
        assert!(e.actors.is_empty());
    }

    #[test]
    fn missing_columns_are_fatal_and_named() {
        let err = read_ged_csv(
            "id,type_of_violence,date_start\n".as_bytes(),
            &taxonomy(),
            ReadOptions::at(now()),
        )
        .err()
        .unwrap();
        assert_eq!(
            err,
            IngestError::MissingColumns(vec!["best".into(), "latitude".into(), "longitude".into()])
        );
        assert!(matches!(
            read_ged_csv("".as_bytes(), &taxonomy(), ReadOptions::at(now())).err(),
            Some(IngestError::MissingColumns(m)) if m.len() == 6
        ));
    }

    #[test]
    fn an_acled_export_is_sent_to_the_acled_importer() {
        let text = "event_id_cnty,event_date,event_type,latitude,longitude,fatalities\nX1,2023-05-01,Battles,1,2,0\n";
        let Some(IngestError::Format(msg)) =
            read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now())).err()
        else {
            panic!("not a format error");
        };
        assert!(msg.contains("`usalama import acled`"), "{msg}");
        // A GED file without its coordinates is still told which columns it lacks.
        assert_eq!(
            read_ged_csv(
                "id,type_of_violence,date_start,best\n".as_bytes(),
                &taxonomy(),
                ReadOptions::at(now())
            )
            .err(),
            Some(IngestError::MissingColumns(vec![
                "latitude".into(),
                "longitude".into()
            ]))
        );
    }

    #[test]
    fn counts_of_events_per_area_and_month_are_refused_saying_so() {
        let text = "Country,Admin1,ISO3,Admin1 Pcode,Month,Year,Events,Fatalities\n#country+name,#adm1+name,#country+code,#adm1+code,#date+month,#date+year,#event+num,#affected+killed\nHaiti,Ouest,HTI,HT01,March,2024,81,402\n";
        let Some(IngestError::Format(msg)) =
            read_ged_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now())).err()
        else {
            panic!("not a format error");
        };
        assert!(
            msg.contains("counts of events per area and month")
                && msg.contains("not one row per event"),
            "{msg}"
        );
    }

    #[test]
    fn a_windows_1252_file_is_read_as_such_and_so_is_a_cell_past_the_look_ahead() {
        // Saved by a spreadsheet program on Windows: "Mbrès" as one byte 0xe8.
        let latin = |row: &str| -> Vec<u8> {
            row.chars()
                .map(|c| if c == 'è' { 0xe8 } else { c as u8 })
                .collect()
        };
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend(latin(&GOOD.replace("Town", "Mbrès")));
        bytes.extend_from_slice(format!("\n{}\n", GOOD.replace("7,", "8,")).as_bytes());
        let rows: Vec<_> = read_ged_csv(&bytes[..], &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 2);
        let d = &rows[0].as_ref().unwrap().event.data;
        assert!(d.place_name.as_deref().unwrap().contains("Mbrès"), "{d:?}");
        assert!(rows[1].is_ok());
        // A UTF-8 file (as far as the look-ahead saw) with a byte that is not UTF-8
        // further on: that cell is read as Windows-1252, as the whole file would be, and
        // every row is taken.
        let late: Vec<_> = read_ged_csv_ahead(&bytes[..], &taxonomy(), ReadOptions::at(now()), 64)
            .unwrap()
            .collect();
        assert_eq!(late, rows);
    }

    #[test]
    fn geojson_feature_with_point_and_bad_geometry() {
        let json = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":1,"type_of_violence":1,"date_start":"2020-01-01T00:00:00","date_end":"2020-01-01T00:00:00","best":2,"low":1,"high":3,"where_prec":1,"date_prec":1,"side_a":"Government of Y","side_a_new_id":9,"side_b":"Z","side_b_new_id":10,"relid":0},"geometry":{"type":"Point","coordinates":[20.5,5.25]}},
          {"type":"Feature","properties":{"id":2,"type_of_violence":1,"date_start":"2020-01-01","best":2},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
          {"type":"Feature","properties":{"id":3,"type_of_violence":2,"date_start":"2020-01-01","best":0,"latitude":1.5,"longitude":2.5},"geometry":null}
        ]}"#;
        let rows: Vec<_> = read_ged_json(json.into(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        let e = &rows[0].as_ref().unwrap().event;
        assert_eq!(e.data.point.map(|p| (p.lat(), p.lon())), Some((5.25, 20.5)));
        assert_eq!(e.data.source_codes.get("relid"), Some("0"));
        let p = rows[1].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (2, "geometry"));
        let e = &rows[2].as_ref().unwrap().event;
        assert_eq!(e.data.point.map(|p| (p.lat(), p.lon())), Some((1.5, 2.5)));
        assert!(matches!(
            read_ged_json(r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":1},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#.into(), &taxonomy(), ReadOptions::at(now())),
            Err(IngestError::MissingColumns(m)) if m == ["type_of_violence", "date_start", "best"]
        ));
        // Without any geometry, the coordinates' properties are required too.
        assert!(matches!(
            read_ged_json(r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":1},"geometry":null}]}"#.into(), &taxonomy(), ReadOptions::at(now())),
            Err(IngestError::MissingColumns(m)) if m == ["type_of_violence", "date_start", "best", "latitude", "longitude"]
        ));
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b;c,d\n1;2;3"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c"), b',');
    }
}
