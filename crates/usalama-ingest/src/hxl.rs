//! HXL (Humanitarian Exchange Language) tagged CSV: event rows under a row of hashtags.
//!
//! The hashtag row is the first row, among the first [`MAX_HEADER_ROWS`], where most
//! non-empty cells are HXL tag specs (`#tag+attribute…`); any text header rows above it
//! are skipped. Tag specs are normalised (case, spaces, attribute order), so
//! `#Affected +Killed` is `#affected+killed`, and a column is found the HXL way: a pattern
//! matches a column with that hashtag and at least those attributes; among several, the one
//! with the fewest attributes wins (`#affected+killed` before `#affected+killed+f`).
//!
//! | field | hashtags, in order of preference |
//! | --- | --- |
//! | external id | `#event+id`, `#event+code` (else a hash of the row's recognised cells) |
//! | first day | `#date+start`, `#date+occurred`, `#date`, `#date+reported`; else `#date+year` (with `#date+month`, and `#date+day`, the month or the day) |
//! | last day | `#date+end` (else the first day, or the end of the month/year given) |
//! | category | `#event+type` (a category code, a category label in any language, or an ACLED event type, with `#event+type+sub` as ACLED sub-event type) |
//! | place | `#geo+lat` + `#geo+lon` (or `#geo+coord` "lat,lon"), `#geo+precision` (a code 1-7; any other value is kept in `source_codes` only); `#adm1+code`, `#adm1+name`, `#adm2+code`, `#adm2+name`, `#adm3+code`, `#adm3+name`, `#loc+name` |
//! | actors | `#group+name+first` (or `#group+name`), `#group+name+second`; the kind from the name, by ACLED's naming conventions then UCDP's ([`crate::acled::actor_kind_by_name`]) |
//! | people harmed | `#affected+killed` (`+min`/`+max` for the range), `#affected+injured`, `#affected+abducted`, `#affected+displaced` |
//! | civilians targeted | `#meta+civilians_targeted` (`yes`, `true`, `1`, …); without that column, an event of ACLED's type "Violence against civilians" |
//! | text | `#description`; `#meta+source`, `#country+code`, `#country+name` and the event type are kept in `source_codes` |
//!
//! `#date` and `#event+type` are required. Events are unverified and carry the source the
//! caller names (`hxl` by default). Without `#event+id`, a row's id is a hash of its
//! recognised cells, and the k-th row of a file with the same cells as earlier ones gets
//! the hash and k (two identical incidents are two events): re-importing the same file adds
//! nothing, but an edited row becomes a new event, so files meant to be updated should
//! carry `#event+id`. The reader keeps one hash and count per distinct row without
//! `#event+id` (about 16 bytes each) to number them.

use crate::csvin::{CsvIn, Layout};
use crate::imported::{ImportRow, PlaceHints, Rows};
use crate::json_file::JsonSource;
use crate::problem::{IngestError, Problem};
use crate::text::{self, ColumnOrder};
use crate::ucdp::{truncate, ImportedEvent};
use crate::ReadOptions;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use usalama_domain::event::EventData;
use usalama_domain::{
    Actor, ActorId, ActorRole, Casualties, Category, Channel, DatePrecision, EventActor, EventId,
    ExternalActorIds, GeoPoint, RecordMeta, SourceCodes, Taxonomy, VerificationStatus,
};

/// How many rows are searched for the hashtag row.
pub const MAX_HEADER_ROWS: usize = 25;

/// The default `source` of imported HXL events.
pub const SOURCE: &str = "hxl";

/// A parsed HXL tag spec: the hashtag and its attributes, lower case, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpec {
    /// The hashtag without `#`.
    pub tag: String,
    /// The attributes without `+`.
    pub attributes: BTreeSet<String>,
}

impl TagSpec {
    /// Parses `#tag+attr+…` (spaces around parts allowed, any case); `None` when the cell
    /// is not a tag spec.
    pub fn parse(cell: &str) -> Option<Self> {
        let rest = cell.trim().strip_prefix('#')?;
        let mut parts = rest.split('+').map(|p| p.trim().to_lowercase());
        let tag = parts.next().filter(|t| is_name(t))?;
        let mut attributes = BTreeSet::new();
        for a in parts {
            if !is_name(&a) {
                return None;
            }
            attributes.insert(a);
        }
        Some(Self { tag, attributes })
    }

    fn matches(&self, tag: &str, include: &[&str], exclude: &[&str]) -> bool {
        self.tag == tag
            && include.iter().all(|a| self.attributes.contains(*a))
            && !exclude.iter().any(|a| self.attributes.contains(*a))
    }
}

impl std::fmt::Display for TagSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.tag)?;
        for a in &self.attributes {
            write!(f, "+{a}")?;
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

/// Whether a row is the hashtag row: at least one tag spec, and tag specs make up more
/// than half of its non-empty cells.
pub fn is_hashtag_row(cells: &[String]) -> bool {
    let non_empty = cells.iter().filter(|c| !c.trim().is_empty()).count();
    let tags = cells.iter().filter(|c| TagSpec::parse(c).is_some()).count();
    tags > 0 && tags * 2 > non_empty
}

/// Whether every non-empty cell of a row (and there is at least one) is an HXL tag spec: the
/// row of hashtags HDX puts under a file's column names (UCDP GED and ACLED files as HDX
/// serves them), which the UCDP and ACLED readers skip.
pub fn is_hashtags_only<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> bool {
    let mut any = false;
    for c in cells {
        let c = c.as_ref();
        if c.trim().is_empty() {
            continue;
        }
        if TagSpec::parse(c).is_none() {
            return false;
        }
        any = true;
    }
    any
}

/// The fields the reader takes from an HXL file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    Id,
    Start,
    End,
    Year,
    Month,
    Day,
    DatePrecision,
    Type,
    SubType,
    Adm1Code,
    Adm1Name,
    Adm2Code,
    Adm2Name,
    Adm3Code,
    Adm3Name,
    Loc,
    Lat,
    Lon,
    Coord,
    GeoPrecision,
    Group1,
    Group2,
    Killed,
    KilledMin,
    KilledMax,
    Injured,
    Abducted,
    Displaced,
    Description,
    MetaSource,
    CountryCode,
    CountryName,
    CiviliansTargeted,
}

/// One way to find a field: hashtag, required attributes, excluded attributes.
type Pattern = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const DATE_EXCLUDE: &[&str] = &[
    "end",
    "year",
    "month",
    "day",
    "reported",
    "updated",
    "precision",
    "start",
];
const NAME_EXCLUDE: &[&str] = &["code", "id"];

/// Each field with its patterns in order of preference and the name used in problems.
const FIELDS: &[(F, &str, &[Pattern])] = &[
    (
        F::Id,
        "#event+id",
        &[("event", &["id"], &[]), ("event", &["code"], &[])],
    ),
    (
        F::Start,
        "#date",
        &[
            ("date", &["start"], &[]),
            ("date", &["occurred"], &["end"]),
            ("date", &[], DATE_EXCLUDE),
            ("date", &["reported"], &["end", "year"]),
        ],
    ),
    (F::End, "#date+end", &[("date", &["end"], &[])]),
    (F::Year, "#date+year", &[("date", &["year"], &[])]),
    (F::Month, "#date+month", &[("date", &["month"], &[])]),
    (F::Day, "#date+day", &[("date", &["day"], &[])]),
    (
        F::DatePrecision,
        "#date+precision",
        &[("date", &["precision"], &[])],
    ),
    (
        F::Type,
        "#event+type",
        &[("event", &["type"], &["sub", "code", "id"])],
    ),
    (
        F::SubType,
        "#event+type+sub",
        &[
            ("event", &["type", "sub"], &[]),
            ("event", &["subtype"], &[]),
        ],
    ),
    (F::Adm1Code, "#adm1+code", &[("adm1", &["code"], &[])]),
    (
        F::Adm1Name,
        "#adm1+name",
        &[("adm1", &["name"], &[]), ("adm1", &[], NAME_EXCLUDE)],
    ),
    (F::Adm2Code, "#adm2+code", &[("adm2", &["code"], &[])]),
    (
        F::Adm2Name,
        "#adm2+name",
        &[("adm2", &["name"], &[]), ("adm2", &[], NAME_EXCLUDE)],
    ),
    (F::Adm3Code, "#adm3+code", &[("adm3", &["code"], &[])]),
    (
        F::Adm3Name,
        "#adm3+name",
        &[("adm3", &["name"], &[]), ("adm3", &[], NAME_EXCLUDE)],
    ),
    (
        F::Loc,
        "#loc+name",
        &[("loc", &["name"], &[]), ("loc", &[], NAME_EXCLUDE)],
    ),
    (F::Lat, "#geo+lat", &[("geo", &["lat"], &[])]),
    (F::Lon, "#geo+lon", &[("geo", &["lon"], &[])]),
    (F::Coord, "#geo+coord", &[("geo", &["coord"], &[])]),
    (
        F::GeoPrecision,
        "#geo+precision",
        &[("geo", &["precision"], &[])],
    ),
    (
        F::Group1,
        "#group+name+first",
        &[
            ("group", &["name", "first"], &["assoc", "code"]),
            ("group", &["first"], &["assoc", "code"]),
            ("group", &["name"], &["second", "assoc", "code"]),
        ],
    ),
    (
        F::Group2,
        "#group+name+second",
        &[
            ("group", &["name", "second"], &["assoc", "code"]),
            ("group", &["second"], &["assoc", "code"]),
        ],
    ),
    (
        F::Killed,
        "#affected+killed",
        &[("affected", &["killed"], &["min", "max"])],
    ),
    (
        F::KilledMin,
        "#affected+killed+min",
        &[("affected", &["killed", "min"], &[])],
    ),
    (
        F::KilledMax,
        "#affected+killed+max",
        &[("affected", &["killed", "max"], &[])],
    ),
    (
        F::Injured,
        "#affected+injured",
        &[("affected", &["injured"], &[])],
    ),
    (
        F::Abducted,
        "#affected+abducted",
        &[
            ("affected", &["abducted"], &[]),
            ("affected", &["kidnapped"], &[]),
        ],
    ),
    (
        F::Displaced,
        "#affected+displaced",
        &[
            ("affected", &["displaced"], &[]),
            ("affected", &["idps"], &[]),
        ],
    ),
    (
        F::Description,
        "#description",
        &[("description", &[], &[]), ("event", &["description"], &[])],
    ),
    (F::MetaSource, "#meta+source", &[("meta", &["source"], &[])]),
    (
        F::CountryCode,
        "#country+code",
        &[("country", &["code"], &[])],
    ),
    (
        F::CountryName,
        "#country+name",
        &[("country", &["name"], &[]), ("country", &[], NAME_EXCLUDE)],
    ),
    (
        F::CiviliansTargeted,
        "#meta+civilians_targeted",
        &[("meta", &["civilians_targeted"], &[])],
    ),
];

const NF: usize = FIELDS.len();

fn fi(f: F) -> usize {
    f as usize
}

fn fname(f: F) -> &'static str {
    FIELDS[fi(f)].1
}

/// The column of each field: for the first pattern that any column matches, the matching
/// column with the fewest attributes (the leftmost among equals).
fn map_columns(tags: &[Option<TagSpec>]) -> [Option<usize>; NF] {
    std::array::from_fn(|i| {
        FIELDS[i].2.iter().find_map(|(tag, inc, exc)| {
            tags.iter()
                .enumerate()
                .filter_map(|(j, t)| {
                    t.as_ref()
                        .filter(|t| t.matches(tag, inc, exc))
                        .map(|t| (t.attributes.len(), j))
                })
                .min()
                .map(|(_, j)| j)
        })
    })
}

/// Resolves an event type written as a category code, a category label (any language,
/// case and accents ignored), an ACLED event type (with its sub-event type, which is
/// tried first when given) or an ACLED sub-event type alone.
pub struct CategoryResolver {
    labels: HashMap<String, String>,
}

impl CategoryResolver {
    /// Indexes the taxonomy's labels.
    pub fn new(taxonomy: &Taxonomy) -> Self {
        let mut labels = HashMap::new();
        for c in taxonomy.categories() {
            for l in c.labels.values() {
                labels.entry(text::fold_name(l)).or_insert(c.code.clone());
            }
        }
        Self { labels }
    }

    /// The category for `value` (and an optional sub-type for ACLED types).
    pub fn resolve<'t>(
        &self,
        taxonomy: &'t Taxonomy,
        value: &str,
        sub: Option<&str>,
    ) -> Option<&'t Category> {
        let code = value.trim().to_lowercase().replace([' ', '-'], "_");
        let acled = || taxonomy.map_acled(value, sub.unwrap_or(""));
        let by_code = || taxonomy.category(&code);
        let by_label = || {
            self.labels
                .get(&text::fold_name(value))
                .and_then(|c| taxonomy.category(c))
        };
        // An ACLED sub-event type on its own ("Armed clash").
        let by_sub_event = || {
            let v = value.trim().to_lowercase();
            taxonomy
                .acled_mapping()
                .iter()
                .find(|((_, s), _)| !s.is_empty() && *s == v)
                .and_then(|(_, c)| taxonomy.category(c))
        };
        if sub.is_some() {
            acled()
                .or_else(by_code)
                .or_else(by_label)
                .or_else(by_sub_event)
        } else {
            by_code()
                .or_else(acled)
                .or_else(by_label)
                .or_else(by_sub_event)
        }
    }
}

/// A stable 64-bit FNV-1a hash, for row ids that must not change between runs or builds.
fn fnv1a(parts: &[Option<&str>]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.unwrap_or("").bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

struct Fields<'a> {
    row: usize,
    vals: [Option<&'a str>; NF],
}

impl<'a> Fields<'a> {
    fn problem(&self, f: F, reason: impl Into<String>) -> Problem {
        Problem::new(self.row, fname(f), reason)
    }
    fn opt(&self, f: F) -> Option<&'a str> {
        self.vals[fi(f)]
    }
    fn count(&self, f: F) -> Result<Option<u32>, Problem> {
        self.opt(f)
            .map(|s| {
                text::parse_int(s)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| {
                        self.problem(f, format!("'{s}' is not a count of people (0 or more)"))
                    })
            })
            .transpose()
    }
    fn float(&self, f: F, s: &str) -> Result<f64, Problem> {
        text::parse_float(s).ok_or_else(|| self.problem(f, format!("'{s}' is not a number")))
    }
    fn text(&self, f: F) -> Option<String> {
        self.opt(f).map(str::to_string)
    }
}

/// What the rows of one HXL file share.
pub(crate) struct Context {
    pub taxonomy: Taxonomy,
    pub resolver: CategoryResolver,
    pub source: String,
    pub now: DateTime<Utc>,
    /// The order of day and month of the first day's column.
    pub start_order: ColumnOrder,
    /// The order of day and month of the last day's column.
    pub end_order: ColumnOrder,
    /// Whether the file has a `#meta+civilians_targeted` column; without it an event of
    /// ACLED's type "Violence against civilians" targeted civilians.
    pub has_civilians_targeted: bool,
}

/// Parses a truthy cell: `true`, `yes`, `1`, `y`, `x`, `oui`.
pub(crate) fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_lowercase().as_str(),
        "true" | "yes" | "y" | "1" | "x" | "oui"
    )
}

/// The precision a span of days suggests: same day, a week, a month, longer.
pub(crate) fn precision_of_span(start: chrono::NaiveDate, end: chrono::NaiveDate) -> DatePrecision {
    match (end - start).num_days() {
        ..=0 => DatePrecision::Day,
        1..=6 => DatePrecision::Week,
        7..=31 => DatePrecision::Month,
        _ => DatePrecision::Year,
    }
}

/// The period a row gives in separate columns: `#date+year`, with `#date+month` (a number or
/// a month's name) the month, and with `#date+day` too the day.
fn year_month_day(f: &Fields<'_>, y: &str) -> Result<text::DateSpan, Problem> {
    let year = text::parse_int(y)
        .and_then(|y| i32::try_from(y).ok())
        .filter(|y| (1000..=9999).contains(y))
        .ok_or_else(|| f.problem(F::Year, format!("'{y}' is not a year")))?;
    let Some(m) = f.opt(F::Month) else {
        return text::DateSpan::year(year)
            .ok_or_else(|| f.problem(F::Year, format!("'{y}' is not a year")));
    };
    let month = text::parse_int(m)
        .and_then(|m| u32::try_from(m).ok())
        .filter(|m| (1..=12).contains(m))
        .or_else(|| text::month_number(m))
        .ok_or_else(|| f.problem(F::Month, format!("'{m}' is not a month (1-12 or its name)")))?;
    match f.opt(F::Day) {
        None => text::DateSpan::month(year, month)
            .ok_or_else(|| f.problem(F::Year, format!("'{y}' is not a year"))),
        Some(d) => text::parse_int(d)
            .and_then(|d| u32::try_from(d).ok())
            .and_then(|d| chrono::NaiveDate::from_ymd_opt(year, month, d))
            .map(text::DateSpan::day)
            .ok_or_else(|| {
                f.problem(
                    F::Day,
                    format!("'{d}' is not a day of month {month} of {year}"),
                )
            }),
    }
}

/// Maps one row; `occurrence` is how many rows of the file so far (this one included) have
/// the same recognised cells, for the ids of rows without `#event+id`.
fn map_row(f: &Fields<'_>, cx: &Context, occurrence: u32) -> Result<ImportRow, Problem> {
    let type_text = f
        .opt(F::Type)
        .ok_or_else(|| f.problem(F::Type, "is empty"))?;
    let sub = f.opt(F::SubType);
    let category = cx
        .resolver
        .resolve(&cx.taxonomy, type_text, sub)
        .ok_or_else(|| {
            f.problem(
                F::Type,
                format!(
                    "'{type_text}' is not a category code, a category label or a mapped ACLED event type"
                ),
            )
        })?;

    let span = match (f.opt(F::Start), f.opt(F::Year)) {
        (Some(s), _) => text::parse_date_span(s, cx.start_order.order).ok_or_else(|| {
            let reason = text::order_conflict(s, cx.start_order).unwrap_or_else(|| {
                format!(
                    "'{s}' is not a date (2019-03-15, 15/03/2019, 15 March 2019, 2019-03 or 2019)"
                )
            });
            f.problem(F::Start, reason)
        })?,
        (None, Some(y)) => year_month_day(f, y)?,
        (None, None) => return Err(f.problem(F::Start, "is empty")),
    };
    let start = span.start;
    if start > cx.now.date_naive() {
        let field = if f.opt(F::Start).is_some() {
            F::Start
        } else {
            F::Year
        };
        return Err(f.problem(field, format!("{start} is in the future")));
    }
    let (end, mut precision) = match f.opt(F::End) {
        Some(s) => {
            let e = text::parse_date_span(s, cx.end_order.order)
                .ok_or_else(|| {
                    let reason = text::order_conflict(s, cx.end_order)
                        .unwrap_or_else(|| format!("'{s}' is not a date"));
                    f.problem(F::End, reason)
                })?
                .end;
            if e < start {
                return Err(f.problem(F::End, format!("{e} is before the first day {start}")));
            }
            (e, precision_of_span(start, e).max(span.precision))
        }
        None => (span.end, span.precision),
    };
    if let Some(p) = f.opt(F::DatePrecision) {
        precision = p.trim().to_lowercase().parse().map_err(|_| {
            f.problem(
                F::DatePrecision,
                format!("'{p}' is not one of day, week, month, year"),
            )
        })?;
    }

    let coords = match (f.opt(F::Lat), f.opt(F::Lon), f.opt(F::Coord)) {
        (Some(la), Some(lo), _) => Some((f.float(F::Lat, la)?, f.float(F::Lon, lo)?)),
        (Some(_), None, None) => return Err(f.problem(F::Lon, "is empty but #geo+lat is not")),
        (None, Some(_), None) => return Err(f.problem(F::Lat, "is empty but #geo+lon is not")),
        (_, _, Some(c)) => {
            let mut it = c.split([',', ';', ' ']).filter(|s| !s.is_empty());
            match (
                it.next().and_then(text::parse_float),
                it.next().and_then(text::parse_float),
            ) {
                (Some(la), Some(lo)) => Some((la, lo)),
                _ => {
                    return Err(f.problem(F::Coord, format!("'{c}' is not \"latitude,longitude\"")))
                }
            }
        }
        (None, None, None) => None,
    };
    let point = coords
        .map(|(la, lo)| GeoPoint::new(la, lo))
        .transpose()
        .map_err(|e| {
            let field = if e.field == "latitude" {
                F::Lat
            } else {
                F::Lon
            };
            f.problem(field, e.reason)
        })?;
    // HXL gives `#geo+precision` no vocabulary: a value other than a code 1-7 (metres of
    // GPS accuracy, words, another scale) leaves the precision unknown and is kept verbatim
    // in `source_codes`, rather than costing the event.
    let location_precision = point
        .and(f.opt(F::GeoPrecision))
        .and_then(text::parse_location_precision);

    let casualties = Casualties {
        injured: f.count(F::Injured)?,
        abducted: f.count(F::Abducted)?,
        displaced: f.count(F::Displaced)?,
        ..Casualties::killed(
            f.count(F::Killed)?,
            f.count(F::KilledMin)?,
            f.count(F::KilledMax)?,
        )
    };

    let external_id = match f.opt(F::Id) {
        Some(id) => truncate(id, 200),
        None => match occurrence {
            0 | 1 => format!("row-{:016x}", fnv1a(&f.vals)),
            k => format!("row-{:016x}-{k}", fnv1a(&f.vals)),
        },
    };

    let mut actors = Vec::with_capacity(2);
    let mut links = Vec::with_capacity(2);
    for (field, role) in [(F::Group1, ActorRole::SideA), (F::Group2, ActorRole::SideB)] {
        if let Some(name) = f.opt(field) {
            let id = ActorId::derived(&format!("{}-name:{}", cx.source, name.to_lowercase()));
            let a = Actor::new(
                id,
                name,
                crate::acled::actor_kind_by_name(name),
                ExternalActorIds::default(),
            )
            .map_err(|e| f.problem(field, e.reason))?;
            actors.push(a);
            links.push(EventActor { actor: id, role });
        }
    }

    let mut source_codes = SourceCodes::new();
    for (field, key) in [
        (F::Type, "event_type"),
        (F::SubType, "event_subtype"),
        (F::MetaSource, "meta_source"),
        (F::CountryCode, "country_code"),
        (F::CountryName, "country"),
        (F::GeoPrecision, "geo_precision"),
    ] {
        if let Some(v) = f.opt(field) {
            source_codes.insert(key, truncate(v, 500));
        }
    }

    let place = PlaceHints {
        adm1_code: f.text(F::Adm1Code),
        adm1_name: f.text(F::Adm1Name),
        adm2_code: f.text(F::Adm2Code),
        adm2_name: f.text(F::Adm2Name),
        adm3_code: f.text(F::Adm3Code),
        adm3_name: f.text(F::Adm3Name),
        place_name: f.text(F::Loc),
        country: f.text(F::CountryName).or_else(|| f.text(F::CountryCode)),
    };
    let place_name = f
        .opt(F::Loc)
        .or(f.opt(F::Adm3Name))
        .or(f.opt(F::Adm2Name))
        .or(f.opt(F::Adm1Name))
        .map(|s| truncate(s, 500));

    let data = EventData {
        id: EventId::derived(&format!("{}:{external_id}", cx.source)),
        source: cx.source.clone(),
        external_id: Some(external_id),
        channel: Channel::Import,
        occurred_start: start,
        occurred_end: end,
        date_precision: precision,
        reported_at: None,
        point,
        location_precision,
        place_name,
        locality: None,
        dimension: category.dimension,
        category: category.code.clone(),
        source_codes,
        actors: links,
        casualties,
        civilians_targeted: if cx.has_civilians_targeted {
            f.opt(F::CiviliansTargeted).is_some_and(truthy)
        } else {
            crate::acled::targets_civilians(type_text)
        },
        description: f.opt(F::Description).map(|s| truncate(s, 10_000)),
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
        .validate(&cx.taxonomy)
        .map_err(|errs| match errs.into_iter().next() {
            Some(e) => Problem::new(f.row, hxl_field(e.field), e.reason),
            None => Problem::new(f.row, "row", "was rejected"),
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

/// The hashtag a domain validation error is about.
fn hxl_field(domain_field: &str) -> &str {
    match domain_field {
        "external_id" => "#event+id",
        "occurred_start" | "occurred_end" => "#date",
        "category" | "dimension" => "#event+type",
        "killed_best" => "#affected+killed",
        "killed_low" => "#affected+killed+min",
        "killed_high" => "#affected+killed+max",
        "place_name" => "#loc+name",
        "description" => "#description",
        other => other,
    }
}

struct HxlRows<R: Read> {
    input: CsvIn<R>,
    idx: [Option<usize>; NF],
    cx: Context,
    /// How many rows without `#event+id` have had each hash of recognised cells so far.
    seen: HashMap<u64, u32>,
}

impl<R: Read> Iterator for HxlRows<R> {
    type Item = Result<ImportRow, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let (row, rec) = match self.input.next_record()? {
            Ok(r) => r,
            Err(p) => return Some(Err(p)),
        };
        let f = Fields {
            row,
            vals: crate::csvin::cells(&rec, &self.idx),
        };
        let occurrence = match f.opt(F::Id) {
            Some(_) => 0,
            None => {
                let n = self.seen.entry(fnv1a(&f.vals)).or_insert(0);
                *n = n.saturating_add(1);
                *n
            }
        };
        Some(map_row(&f, &self.cx, occurrence))
    }
}

/// The header of an HXL file: the 1-based row of its hashtag row and the parsed tag specs
/// by column (`None` for columns without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HxlHeader {
    /// Row number of the hashtag row.
    pub row: usize,
    /// Tag spec of each column.
    pub columns: Vec<Option<TagSpec>>,
}

/// The column that counts events, as the file names it, when the file holds counts of events
/// per area and period rather than events: a column tagged as a number of events
/// (`#event+num`, `#indicator+event+num`, `#event+count`) or headed `Events`, and no column
/// that only a file of events has (`#event+id` or `#event+code`; a day of its own, `#date` or
/// `#date+occurred`).
fn counts_of_events(
    columns: &[Option<TagSpec>],
    idx: &[Option<usize>; NF],
    layout: Option<&Layout>,
) -> Option<String> {
    let tags = || columns.iter().flatten();
    let per_event = idx[fi(F::Id)].is_some()
        || tags().any(|t| {
            t.tag == "date" && (t.attributes.is_empty() || t.attributes.contains("occurred"))
        });
    if per_event {
        return None;
    }
    let counts = |t: &&TagSpec| {
        let number = t.attributes.contains("num") || t.attributes.contains("count");
        number && (t.tag == "event" || t.tag == "indicator" && t.attributes.contains("event"))
    };
    match (tags().find(counts), layout) {
        (Some(t), _) => Some(t.to_string()),
        (None, Some(Layout::Counts(column))) => Some(column.clone()),
        _ => None,
    }
}

/// The hashtag row, and what the names of the first row say when the file is not one of
/// events for this reader.
fn find_header<R: Read>(input: &mut CsvIn<R>) -> Result<(HxlHeader, Option<Layout>), IngestError> {
    let mut seen = 0;
    let mut layout = None;
    while let Some(r) = input.next_record() {
        let (row, cells) =
            r.map_err(|p| IngestError::Csv(format!("row {}: {}", p.row, p.reason)))?;
        if is_hashtag_row(&cells) {
            let header = HxlHeader {
                row,
                columns: cells.iter().map(|c| TagSpec::parse(c)).collect(),
            };
            return Ok((header, layout));
        }
        if seen == 0 {
            layout = Layout::of(&cells);
        }
        seen += 1;
        if seen >= MAX_HEADER_ROWS {
            break;
        }
    }
    Err(match layout {
        Some(l) => l.error(),
        None => IngestError::Format(format!(
            "not an HXL file: no row of hashtags (#date, #event+type, …) in the first {MAX_HEADER_ROWS} rows"
        )),
    })
}

/// HXL's JSON forms (as the HXL Proxy and `libhxl` write them) written to `out` as the
/// CSV [`read_hxl_csv`] reads, so that every rule of the CSV reader applies:
/// - an array of arrays (`.json`): any text header rows, the hashtag row, then the data,
///   row for row;
/// - an array of objects keyed by hashtag (`.objects.json`): the keys become the hashtag
///   row (row 1), each object a row after it.
///
/// A value is written as its text (numbers and booleans as JSON writes them, `null` as an
/// empty cell); an array or object inside a cell is refused, naming its row. The file is
/// read twice, a row at a time (first for its form and keys, then for its rows), never
/// held whole.
pub fn hxl_json_to_csv(json: &JsonSource, out: impl std::io::Write) -> Result<(), IngestError> {
    use serde_json::Value;
    // First pass: the form (objects when any row is one) and the keys, in order.
    let (mut objects, mut tags) = (false, Vec::<String>::new());
    each_json_row(json, &mut |_, r| {
        if let Value::Object(o) = r {
            objects = true;
            for k in o.keys() {
                if !tags.contains(k) {
                    tags.push(k.clone());
                }
            }
        }
        Ok(())
    })?;
    let cell = |v: &Value, row: usize| match v {
        Value::Array(_) | Value::Object(_) => Err(IngestError::Format(format!(
            "row {row}: a cell holds a JSON {}, not a value",
            if v.is_array() { "array" } else { "object" }
        ))),
        v => Ok(crate::json::text(v)
            .map(|t| t.into_owned())
            .unwrap_or_default()),
    };
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let write_err = |e: csv::Error| IngestError::Read(e.to_string());
    if objects {
        out.write_record(&tags).map_err(write_err)?;
    }
    each_json_row(json, &mut |i, r| {
        let cells = match (objects, r) {
            (true, Value::Object(o)) => tags
                .iter()
                .map(|t| o.get(t).map_or(Ok(String::new()), |v| cell(v, i + 2)))
                .collect::<Result<Vec<_>, _>>()?,
            (true, _) => {
                return Err(IngestError::Format(format!(
                    "row {}: not an object like the other rows",
                    i + 2
                )))
            }
            (false, Value::Array(values)) => values
                .iter()
                .map(|v| cell(v, i + 1))
                .collect::<Result<Vec<_>, _>>()?,
            (false, _) => {
                return Err(IngestError::Format(format!(
                    "row {}: not an array like the other rows",
                    i + 1
                )))
            }
        };
        out.write_record(&cells).map_err(write_err)
    })?;
    out.flush().map_err(|e| IngestError::Read(e.to_string()))
}

/// [`crate::json::each_array_item`] of `json`; a document that is not an array is an
/// [`IngestError::Format`] saying what HXL JSON is.
fn each_json_row(
    json: &JsonSource,
    each: &mut dyn FnMut(usize, serde_json::Value) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    if crate::json::each_array_item(json.open()?, each)? {
        return Ok(());
    }
    Err(IngestError::Format(
        "HXL JSON is an array of rows (arrays) or of objects keyed by hashtag; this file is \
         a JSON object or value"
            .into(),
    ))
}

/// Reads only the hashtag row of an HXL file (for inspection and tests).
pub fn read_hxl_header<R: Read>(reader: R) -> Result<HxlHeader, IngestError> {
    find_header(&mut CsvIn::open(reader)?).map(|(header, _)| header)
}

/// Reads an HXL-tagged CSV of events lazily. The hashtag row is looked for first; a file
/// without one is an [`IngestError::Format`], and one without `#date` (or `#date+year`) or
/// `#event+type` an [`IngestError::MissingColumns`]: nothing is read then. An ACLED
/// export or UCDP GED data (known by the column names of the first row), and a file of
/// counts of events per area and month (`#event+num`, `#indicator+event+num` or a column
/// `Events`, with no `#event+id` and no day of its own: ACLED's aggregated datasets on HDX,
/// HDX HAPI's conflict events), are an [`IngestError::Format`] saying what the file is and
/// what to do. Rows are numbered as in a spreadsheet, header rows included. `source` names the dataset (e.g.
/// `hxl`); the caller validates it.
///
/// All-numeric dates are read in one order of day and month per column (`#date`, and
/// `#date+end` on its own), decided before the first row from the dates that can only be
/// read one way (`14/05/2023` is day first, `5/14/2023` month first); a date written the
/// other way than most in its column is rejected, naming the column. When no date tells
/// (`05/01/2023`), or as many tell one way as the other, dates are day first, as most of the
/// world writes them. The order is decided from the first 32 MiB of the file, which are
/// kept in memory meanwhile; while every date of a column read there could be either
/// (`05/01/2023`), the file is read on, up to 256 MiB, for one that tells. When none does,
/// the rows' notes ([`Rows::notes`]) say the column's dates were read day first. An order
/// the person importing tells ([`ReadOptions::date_order`]) is every column's, whatever its
/// dates.
pub fn read_hxl_csv<R: Read>(
    reader: R,
    taxonomy: &Taxonomy,
    source: &str,
    options: ReadOptions,
) -> Result<Rows<impl Iterator<Item = Result<ImportRow, Problem>>>, IngestError> {
    let (ahead, [start_votes, end_votes]) = text::look_ahead(
        reader,
        text::LOOK_AHEAD,
        text::LOOK_AHEAD_UNDECIDED,
        |ahead| {
            options.date_votes(|| {
                let mut first = ahead.records()?;
                let (header, _) = find_header(&mut first)?;
                let idx = map_columns(&header.columns);
                Ok(ahead.votes(&mut first, [idx[fi(F::Start)], idx[fi(F::End)]]))
            })
        },
    )?;
    let extent = ahead.extent();
    let mut input = CsvIn::open(ahead.into_reader())?;
    let (header, layout) = find_header(&mut input)?;
    let idx = map_columns(&header.columns);
    if let Some(column) = counts_of_events(&header.columns, &idx, layout.as_ref()) {
        return Err(crate::csvin::counts_not_events(&column));
    }
    // GED's type of violence is a number no HXL reading maps, tagged or not; ACLED's
    // events read here would be stored a second time beside the same events imported by
    // ACLED's reader, under other ids.
    if let Some(l @ (Layout::Ged | Layout::Acled)) = layout {
        return Err(l.error());
    }
    let mut missing = Vec::new();
    if idx[fi(F::Start)].is_none() && idx[fi(F::Year)].is_none() {
        missing.push(match idx[fi(F::End)] {
            Some(_) => "#date (or #date+start: the first day; #date+end, which the file has, \
                        gives only the last)"
                .to_string(),
            None => "#date".to_string(),
        });
    }
    if idx[fi(F::Type)].is_none() {
        missing.push("#event+type".to_string());
    }
    if !missing.is_empty() {
        return Err(Layout::missing_columns(layout, None, missing));
    }
    let (start_order, end_order) = (
        ColumnOrder::of(options.date_order, &start_votes),
        ColumnOrder::of(options.date_order, &end_votes),
    );
    // Each date column named by its hashtags.
    let named = |f: F| {
        let tag = header.columns.get(idx[fi(f)]?)?.as_ref()?;
        Some(format!("column {tag}"))
    };
    let notes = [
        (F::Start, start_votes, start_order),
        (F::End, end_votes, end_order),
    ]
    .into_iter()
    .filter_map(|(f, votes, order)| text::undecided_note(&named(f)?, &votes, order, &extent))
    .collect();
    let rows = HxlRows {
        input,
        idx,
        cx: Context {
            taxonomy: taxonomy.clone(),
            resolver: CategoryResolver::new(taxonomy),
            source: source.to_string(),
            now: options.now,
            start_order,
            end_order,
            has_civilians_targeted: idx[fi(F::CiviliansTargeted)].is_some(),
        },
        seen: HashMap::new(),
    };
    Ok(Rows::new(rows, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
    use usalama_domain::ActorKind;

    /// [`hxl_json_to_csv`] of `doc` into memory.
    fn to_csv(doc: &str) -> Result<Vec<u8>, IngestError> {
        let mut out = Vec::new();
        hxl_json_to_csv(&doc.into(), &mut out).map(|()| out)
    }

    fn taxonomy() -> Taxonomy {
        parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn rows(text: &str) -> Vec<Result<ImportRow, Problem>> {
        read_hxl_csv(text.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now()))
            .unwrap()
            .collect()
    }

    #[test]
    fn a_date_column_no_row_decides_is_named_in_a_note() {
        let text =
            "When,What\n#date+start,#event+type\n05/01/2023,Armed clash\n06/01/2023,Armed clash\n";
        let rows =
            read_hxl_csv(text.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now())).unwrap();
        assert_eq!(rows.notes().len(), 1, "{:?}", rows.notes());
        assert!(
            rows.notes()[0].starts_with("2 dates of column #date+start"),
            "{:?}",
            rows.notes()
        );
        let iso = "#date,#event+type\n2023-01-05,Armed clash\n";
        let rows =
            read_hxl_csv(iso.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now())).unwrap();
        assert!(rows.notes().is_empty());
    }

    #[test]
    fn field_table_follows_the_enum() {
        for (i, (f, _, _)) in FIELDS.iter().enumerate() {
            assert_eq!(fi(*f), i);
        }
    }

    #[test]
    fn tag_specs_are_normalised() {
        let a = TagSpec::parse(" #Affected +Killed+F ").unwrap();
        let b = TagSpec::parse("#affected+f+killed").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "#affected+f+killed");
        assert!(TagSpec::parse("affected").is_none());
        assert!(TagSpec::parse("#").is_none());
        assert!(TagSpec::parse("#a+").is_none());
        assert!(TagSpec::parse("#1a").is_none());
        assert!(TagSpec::parse("#a b").is_none());
    }

    #[test]
    fn hashtag_row_after_text_rows_and_columns_by_preference() {
        let text = "Incidents,,,,\nDate,Type,Killed,Killed (women),Notes\n#date+occurred, #event +type,#affected+killed+f,#affected+killed,#description\n2023-01-05,Armed clash,1,4,Shots\n";
        let h = read_hxl_header(text.as_bytes()).unwrap();
        assert_eq!(h.row, 3);
        let idx = map_columns(&h.columns);
        assert_eq!(idx[fi(F::Killed)], Some(3));
        assert_eq!(idx[fi(F::Start)], Some(0));
        let r = rows(text);
        let e = r[0].as_ref().unwrap();
        assert_eq!(e.row, 4);
        let d = &e.event.data;
        assert_eq!(d.casualties.killed_best, Some(4));
        assert_eq!(d.category, "armed_violence");
        assert_eq!(d.status, VerificationStatus::Unverified);
        assert!(d.external_id.as_deref().unwrap().starts_with("row-"));
    }

    #[test]
    fn maps_every_field() {
        let text = "#event+id,#date+start,#date+end,#adm1+code,#adm1+name,#adm2+code,#adm2+name,#loc+name,#geo+lat,#geo+lon,#event+type,#group+name+first,#group+name+second,#affected+killed,#affected+injured,#description,#meta+source\nE1,2022-03-01,2022-03-04,XA01,North,XA0101,Upper,Village A,6.5,20.25,Violences contre des civils,Armed Group X,Civilians,5,2,Attack on a market,radio\n";
        let r = rows(text);
        let e = r[0].as_ref().unwrap();
        let d = &e.event.data;
        assert_eq!(d.id, EventId::derived("hxl:E1"));
        assert_eq!(d.category, "violence_against_civilians");
        assert_eq!(d.date_precision, DatePrecision::Week);
        assert_eq!(d.occurred_end.to_string(), "2022-03-04");
        assert_eq!(d.point.map(|p| (p.lat(), p.lon())), Some((6.5, 20.25)));
        assert_eq!(d.place_name.as_deref(), Some("Village A"));
        assert_eq!(d.casualties.killed_best, Some(5));
        assert_eq!(d.casualties.injured, Some(2));
        assert_eq!(d.description.as_deref(), Some("Attack on a market"));
        assert_eq!(d.source_codes.get("meta_source"), Some("radio"));
        assert_eq!(e.event.actors.len(), 2);
        assert_eq!(e.place.adm2_code.as_deref(), Some("XA0101"));
        assert_eq!(e.place.adm1_name.as_deref(), Some("North"));
    }

    #[test]
    fn event_types_by_code_label_or_acled_and_years() {
        let text = "#date+year,#event+type,#event+type+sub\n2019,sexual_violence,\n2019,KIDNAPPING OR DISAPPEARANCE,\n2019,Violence against civilians,Abduction/forced disappearance\n2019,Combats et attaques armées,\n2019,nonsense,\n";
        let r = rows(text);
        let cats: Vec<String> = r
            .iter()
            .map(|x| match x {
                Ok(e) => e.event.data.category.clone(),
                Err(p) => format!("{}: {}", p.field, p.reason),
            })
            .collect();
        assert_eq!(cats[0], "sexual_violence");
        assert_eq!(cats[1], "abduction");
        assert_eq!(cats[2], "abduction");
        assert_eq!(cats[3], "armed_violence");
        assert!(
            cats[4].starts_with("#event+type: 'nonsense' is not"),
            "{}",
            cats[4]
        );
        let e = r[0].as_ref().unwrap();
        assert_eq!(e.event.data.date_precision, DatePrecision::Year);
        assert_eq!(e.event.data.occurred_end.to_string(), "2019-12-31");
    }

    #[test]
    fn year_month_and_day_in_columns_of_their_own() {
        // Incident lists with the date in three columns (as the Aid Worker Security
        // Database's layout): the day, else the month, else the year.
        let text = "Incident ID,Year,Month,Day,Means of attack,Total killed\n\
                    #event+id,#date+year,#date+month,#date+day,#event+type,#affected+killed\n\
                    3401,2023,5,14,Armed clash,2\n\
                    3402,2023,November,,Armed clash,0\n\
                    3403,2022,,,Armed clash,1\n\
                    3404,2023,2,30,Armed clash,1\n\
                    3405,2023,Brumaire,,Armed clash,1\n";
        assert_eq!(
            outcomes(text),
            [
                "2023-05-14..2023-05-14",
                "2023-11-01..2023-11-30",
                "2022-01-01..2022-12-31",
                "row 6 #date+day: '30' is not a day of month 2 of 2023",
                "row 7 #date+month: 'Brumaire' is not a month (1-12 or its name)",
            ]
        );
        let r = rows(text);
        let precision = |i: usize| r[i].as_ref().unwrap().event.data.date_precision;
        assert_eq!(
            [precision(0), precision(1), precision(2)],
            [
                DatePrecision::Day,
                DatePrecision::Month,
                DatePrecision::Year
            ]
        );
    }

    #[test]
    fn a_geo_precision_of_another_vocabulary_keeps_the_event() {
        let text = "#event+id,#date,#event+type,#geo+lat,#geo+lon,#geo+precision\n\
                    E1,2023-04-02,Armed clash,6.5,20.2,2\n\
                    E2,2023-04-02,Armed clash,6.5,20.2,12.5\n\
                    E3,2023-04-02,Armed clash,6.5,20.2,exact\n";
        let got: Vec<_> = rows(text)
            .into_iter()
            .map(|r| {
                let d = r.unwrap().event.data;
                let kept = d.source_codes.get("geo_precision").map(str::to_string);
                (d.location_precision.map(|p| p.code()), kept)
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some(2), Some("2".to_string())),
                (None, Some("12.5".to_string())),
                (None, Some("exact".to_string()))
            ]
        );
    }

    #[test]
    fn bad_values_name_the_hashtag() {
        let head = "#date,#event+type,#geo+lat,#geo+lon,#affected+killed\n";
        for (row, want) in [
            (
                "2020-02-30,armed_violence,,,",
                "#date: '2020-02-30' is not a date",
            ),
            (
                "2020-02-03,armed_violence,95,1,",
                "#geo+lat: 95 is not between",
            ),
            ("2020-02-03,armed_violence,5,,", "#geo+lon: is empty"),
            (
                "2020-02-03,armed_violence,,,-1",
                "#affected+killed: '-1' is not a count",
            ),
            ("2020-02-03,,,,1", "#event+type: is empty"),
            (
                "2031-02-03,armed_violence,,,",
                "#date: 2031-02-03 is in the future",
            ),
        ] {
            let r = rows(&format!("{head}{row}\n"));
            let p = r[0].as_ref().unwrap_err();
            let got = format!("{}: {}", p.field, p.reason);
            assert!(got.starts_with(want), "{got} does not start with {want}");
            assert_eq!(p.row, 2);
        }
    }

    #[test]
    fn fatal_without_hashtags_or_required_columns() {
        assert!(matches!(
            read_hxl_csv(
                "a,b\n1,2\n".as_bytes(),
                &taxonomy(),
                "hxl",
                ReadOptions::at(now())
            )
            .err(),
            Some(IngestError::Format(_))
        ));
        assert_eq!(
            read_hxl_csv(
                "#org,#adm1\nX,Y\n".as_bytes(),
                &taxonomy(),
                "hxl",
                ReadOptions::at(now())
            )
            .err(),
            Some(IngestError::MissingColumns(vec![
                "#date".into(),
                "#event+type".into()
            ]))
        );
        // A last day alone: what the first day is tagged is said.
        let Some(IngestError::MissingColumns(m)) = read_hxl_csv(
            "#event+id,#date+end,#event+type\nE1,2023-04-04,Armed clash\n".as_bytes(),
            &taxonomy(),
            "hxl",
            ReadOptions::at(now()),
        )
        .err() else {
            panic!("not missing columns");
        };
        assert!(
            m[0].starts_with("#date (or #date+start") && m[0].contains("#date+end"),
            "{m:?}"
        );
    }

    #[test]
    fn libhxl_mixed_dates_read_in_one_order() {
        // One date month first (03-18-14) and one day first (19/3/15): as many of each, so
        // the column is day first and 03-18-14 is the one refused.
        let bytes = include_bytes!("../../../data/samples/hxl/libhxl_input-date.csv");
        let mut input = CsvIn::open(&bytes[..]).unwrap();
        let (header, _) = find_header(&mut input).unwrap();
        let col = map_columns(&header.columns)[fi(F::Start)].unwrap();
        let mut cells_of_col = Vec::new();
        let mut votes = text::OrderVotes::default();
        while let Some(Ok((_, cells))) = input.next_record() {
            votes.add(&cells[col]);
            cells_of_col.push(cells[col].clone());
        }
        let order = ColumnOrder::of(None, &votes);
        assert_eq!(order.order, text::DateOrder::DayFirst);
        let dates: Vec<String> = cells_of_col
            .iter()
            .map(|c| match text::parse_date_span(c, order.order) {
                Some(span) => span.start.to_string(),
                None => text::order_conflict(c, order).unwrap(),
            })
            .collect();
        assert_eq!(dates[0], "2015-03-01");
        assert!(dates[1].starts_with("'03-18-14' is written month first"));
        assert_eq!(
            dates[2..],
            [
                "2015-03-01",
                "2015-03-02",
                "2015-03-10",
                "2015-03-11",
                "2015-03-19",
                "2015-03-31"
            ]
        );
    }

    fn outcomes(text: &str) -> Vec<String> {
        rows(text)
            .into_iter()
            .map(|r| match r {
                Ok(e) => {
                    let d = &e.event.data;
                    format!("{}..{}", d.occurred_start, d.occurred_end)
                }
                Err(p) => format!("row {} {}: {}", p.row, p.field, p.reason),
            })
            .collect()
    }

    #[test]
    fn dates_are_read_in_one_order_per_column() {
        // One file, one order: 5/14 says month first, so 5/1 is the first of May.
        let us = "Date,Place,Type,Killed\n#date,#loc+name,#event+type,#affected+killed\n5/14/2023,Khartoum,Armed clash,10\n5/1/2023,Omdurman,Armed clash,4\n";
        assert_eq!(
            outcomes(us),
            ["2023-05-14..2023-05-14", "2023-05-01..2023-05-01"]
        );
        // Each column by its own dates: the start column is day first, the end column
        // month first.
        let cols = "#date+start,#date+end,#event+type\n14/05/2023,05/14/2023,Armed clash\n01/05/2023,05/02/2023,Armed clash\n";
        assert_eq!(
            outcomes(cols),
            ["2023-05-14..2023-05-14", "2023-05-01..2023-05-02"]
        );
        // Against the majority: rejected, naming the column.
        let mixed = "#date,#event+type\n14/05/2023,Armed clash\n15/05/2023,Armed clash\n5/16/2023,Armed clash\n05/01/2023,Armed clash\n";
        let got = outcomes(mixed);
        assert!(
            got[2].starts_with("row 4 #date: '5/16/2023' is written month first"),
            "{}",
            got[2]
        );
        assert_eq!(got[3], "2023-01-05..2023-01-05");
    }

    #[test]
    fn dates_with_a_time_are_read_in_the_column_order() {
        let text = "ID,Date,Type\n#event+id,#date,#event+type\nT1,01/05/2023 10:00,Armed clash\nT2,01/05/2023,Armed clash\nT3,2023/05/01 10:00:00,Armed clash\nT4,20230501,Armed clash\n";
        assert_eq!(outcomes(text), ["2023-05-01..2023-05-01"; 4]);
        let us = "#date,#event+type\n05/14/2023 23:59,Armed clash\n05/01/2023 10:00,Armed clash\n";
        assert_eq!(
            outcomes(us),
            ["2023-05-14..2023-05-14", "2023-05-01..2023-05-01"]
        );
    }

    #[test]
    fn identical_rows_without_an_id_are_each_an_event() {
        let text = "Date,Place,Type,Killed\n#date,#loc+name,#event+type,#affected+killed\n2023-05-01,Gao,Armed clash,1\n2023-05-01,Gao,Armed clash,1\n2023-05-02,Gao,Armed clash,1\n2023-05-01,Gao,Armed clash,1\n";
        let ids = |t: &str| -> Vec<String> {
            rows(t)
                .into_iter()
                .map(|r| r.unwrap().event.data.external_id.unwrap())
                .collect()
        };
        let a = ids(text);
        let distinct: BTreeSet<&String> = a.iter().collect();
        assert_eq!(distinct.len(), 4, "{a:?}");
        // The first keeps the id it always had; the others are numbered after it.
        assert_eq!(a[1], format!("{}-2", a[0]));
        assert_eq!(a[3], format!("{}-3", a[0]));
        // Stable: the same file gives the same ids again.
        assert_eq!(ids(text), a);
        // Rows with an id are left alone.
        let with_id =
            "#event+id,#date,#event+type\nE1,2023-05-01,Armed clash\nE1,2023-05-01,Armed clash\n";
        assert_eq!(ids(with_id), ["E1", "E1"]);
    }

    #[test]
    fn an_acled_export_is_sent_to_the_acled_importer() {
        let text =
            "event_id_cnty,event_date,event_type,latitude,longitude\nX1,2023-05-01,Battles,1,2\n";
        let Some(IngestError::Format(msg)) =
            read_hxl_csv(text.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now())).err()
        else {
            panic!("not a format error");
        };
        assert!(msg.contains("usalama import acled"), "{msg}");
        let upper = text.replace("event_id_cnty", "EVENT_ID_CNTY");
        let Some(IngestError::Format(msg)) =
            read_hxl_csv(upper.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now())).err()
        else {
            panic!("not a format error");
        };
        assert!(msg.contains("usalama import acled"), "{msg}");
        let Some(IngestError::Format(msg)) = read_hxl_csv(
            "a,b\n1,2\n".as_bytes(),
            &taxonomy(),
            "hxl",
            ReadOptions::at(now()),
        )
        .err() else {
            panic!("not a format error");
        };
        assert!(msg.starts_with("not an HXL file"), "{msg}");
    }

    fn format_error(text: &str) -> String {
        match read_hxl_csv(text.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now())).err() {
            Some(IngestError::Format(msg)) => msg,
            other => panic!("not a format error: {other:?}"),
        }
    }

    #[test]
    fn ged_data_from_hdx_is_sent_to_the_ucdp_importer() {
        // As HDX serves GED: hashtags on some columns, none for the type of violence.
        let text = "id,year,type_of_violence,side_a,side_b,latitude,longitude,country,iso3,date_start,date_end,best\n\
                    #event+code,#date+year,,#group+name+first,#group+name+second,#geo+lat,#geo+lon,#country+name,#country+code,#date+start,#date+end,#affected+killed\n\
                    71663,2013,2,A,B,22.48,90.06,Bangladesh,BGD,2013-12-13,2013-12-14,1\n";
        let msg = format_error(text);
        assert!(
            msg.contains("UCDP GED") && msg.contains("`usalama import ucdp`"),
            "{msg}"
        );
        // The same with a byte-order mark and the id column untagged.
        let bom = format!("\u{feff}{}", text.replacen("#event+code", "", 1));
        assert!(format_error(&bom).contains("`usalama import ucdp`"));
        // Even with its type of violence tagged: no HXL reading maps GED's 1, 2 and 3.
        let typed = text.replacen("#date+year,,", "#date+year,#event+type,", 1);
        assert!(format_error(&typed).contains("`usalama import ucdp`"));
    }

    #[test]
    fn counts_of_events_per_area_and_month_are_refused_saying_so() {
        for (text, column) in [
            // ACLED's aggregated datasets on HDX: by admin 2, by admin 1, demonstrations.
            ("Country,Admin1,Admin2,ISO3,Admin2 Pcode,Admin1 Pcode,Month,Year,Events,Fatalities\n#country+name,#adm1+name,#adm2+name,#country+code,#adm2+code,#adm1+code,#date+month,#date+year,#event+num,#affected+killed\nMali,Gao,Ansongo,MLI,ML0702,ML07,January,2023,12,31\n", "#event+num"),
            ("Country,Admin1,ISO3,Admin1 Pcode,Month,Year,Events,Fatalities\n#country+name,#adm1+name,#country+code,#adm1+code,#date+month,#date+year,#event+num,#affected+killed\nHaiti,Ouest,HTI,HT01,March,2024,81,402\n", "#event+num"),
            ("Country,Admin1,ISO3,Admin1 Pcode,Month,Year,Events\n#country+name,#adm1+name,#country+code,#adm1+code,#date+month,#date+year,#event+num\nKenya,Nairobi,KEN,KE047,June,2024,17\n", "#event+num"),
            // HDX HAPI's conflict events, with its hashtags (which do name a type of event
            // and dates, so that its rows would otherwise be read as events) and without.
            ("location_code,admin1_code,admin1_name,admin_level,event_type,events,fatalities,reference_period_start,reference_period_end\n#country+code,#adm1+code,#adm1+name,#adm+level,#event+type,#indicator+event+num,#affected+killed,#date+start,#date+end\nSDN,SD01,Khartoum,1,political_violence,45,120,2024-05-01,2024-05-31\n", "#indicator+event+num"),
            ("location_code,admin1_code,admin1_name,admin2_code,admin2_name,event_type,events,fatalities,reference_period_start,reference_period_end\nMLI,ML07,Gao,ML0702,Ansongo,political_violence,12,31,2023-01-01,2023-01-31\n", "events"),
        ] {
            let msg = format_error(text);
            assert!(
                msg.contains("counts of events per area and month")
                    && msg.contains(&format!("'{column}'"))
                    && msg.contains("not one row per event")
                    && msg.contains("`usalama import acled`"),
                "{msg}"
            );
        }
        // A file of events that also counts something stays a file of events.
        let events = "#event+id,#date,#event+type,#event+num\nE1,2023-05-01,Armed clash,2\n";
        assert!(rows(events)[0].is_ok());
    }

    #[test]
    fn acled_actor_names_get_their_kinds() {
        let text = "#event+code,#date+occurred,#event+type,#group+name+first,#group+name+second,#geo+lat,#geo+lon,#affected+killed\nYEM1,2023-05-02,Violence against civilians,Police Forces of Yemen (2017-) Supreme Political Council,Civilians (Yemen),13.9283,43.4817,1\nYEM2,2023-05-03,Battles,Military Forces of Yemen (2012-) Presidential Leadership Council,Protesters (Yemen),15.4608,45.3258,0\nYEM3,2023-05-04,Battles,Government of Yemen,Houthis,15.4,45.3,0\n";
        let kinds: Vec<Vec<ActorKind>> = rows(text)
            .into_iter()
            .map(|r| r.unwrap().event.actors.iter().map(|a| a.kind).collect())
            .collect();
        use ActorKind::*;
        assert_eq!(
            kinds,
            [
                vec![StateSecurityForce, Civilians],
                vec![StateSecurityForce, Civilians],
                vec![StateSecurityForce, NonStateArmedGroup]
            ]
        );
    }

    #[test]
    fn an_acled_export_with_hashtags_is_sent_to_the_acled_reader() {
        // As HDX served ACLED's events: ACLED's names, then a row of hashtags. Read here,
        // its events would get other ids than the same events imported by `import acled`.
        let text = "event_id_cnty,event_date,event_type,actor1,latitude,longitude,fatalities\n#event+code,#date+occurred,#event+type,#group+name+first,#geo+lat,#geo+lon,#affected+killed\nYEM1,2023-05-02,Battles,Houthis,13.9283,43.4817,1\n";
        let Err(IngestError::Format(msg)) =
            read_hxl_csv(text.as_bytes(), &taxonomy(), "hxl", ReadOptions::at(now()))
        else {
            panic!("not refused");
        };
        assert!(msg.contains("`usalama import acled`"), "{msg}");
        let acled: Vec<_> =
            crate::acled::read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
                .unwrap()
                .collect();
        assert_eq!(acled.len(), 1);
        assert!(acled[0].is_ok(), "{:?}", acled[0]);
    }

    #[test]
    fn hxl_json_reads_as_the_same_csv() {
        let csv_text = "Incidents,,\n#date,#event+type,#affected+killed,#adm1+name\n2023-05-02,Battles,3,Ouham\n2023-05-03,\"Violence against civilians\",0,\"Nana, Mambéré\"\n";
        let arrays = r##"[["Incidents",null,null],["#date","#event+type","#affected+killed","#adm1+name"],
            ["2023-05-02","Battles",3,"Ouham"],["2023-05-03","Violence against civilians",0,"Nana, Mambéré"]]"##;
        let objects = r##"[{"#date":"2023-05-02","#event+type":"Battles","#affected+killed":3,"#adm1+name":"Ouham"},
            {"#date":"2023-05-03","#event+type":"Violence against civilians","#affected+killed":"0","#adm1+name":"Nana, Mambéré"}]"##;
        let events = |bytes: &[u8]| -> Vec<_> {
            read_hxl_csv(bytes, &taxonomy(), "hxl", ReadOptions::at(now()))
                .unwrap()
                .map(|r| r.unwrap().event)
                .collect()
        };
        let reference = events(csv_text.as_bytes());
        assert_eq!(reference.len(), 2);
        assert_eq!(events(&to_csv(arrays).unwrap()), reference);
        assert_eq!(events(&to_csv(objects).unwrap()), reference);
        // Rows keep their numbers: the second data row of the arrays is row 4.
        let bad = arrays.replace("\"2023-05-03\"", "\"2023-13-45\"");
        let rows: Vec<_> = read_hxl_csv(
            &to_csv(&bad).unwrap()[..],
            &taxonomy(),
            "hxl",
            ReadOptions::at(now()),
        )
        .unwrap()
        .collect();
        assert_eq!(rows[1].as_ref().unwrap_err().row, 4);
        for (doc, says) in [
            (r##"{"#date":"2023-05-02"}"##, "array of rows"),
            (
                r##"[{"#date":["2023-05-02"]}]"##,
                "row 2: a cell holds a JSON array",
            ),
            (r##"[["#date"],{"#date":"x"}]"##, "row 2: not an object"),
            (r##"[["#date"],"x"]"##, "row 2: not an array"),
            ("PK\u{3}\u{4}[]", "ZIP"),
        ] {
            let e = to_csv(doc).unwrap_err().to_string();
            assert!(e.contains(says), "{doc}: {e}");
        }
    }

    #[test]
    fn civilians_are_targeted_by_the_column_else_by_acleds_type() {
        let targeted = |text: &str| -> Vec<bool> {
            rows(text)
                .into_iter()
                .map(|r| r.unwrap().event.data.civilians_targeted)
                .collect()
        };
        // ACLED events as HDX served them: no column, so ACLED's type says.
        let acled =
            "#date,#event+type\n2023-05-02,Violence against civilians\n2023-05-03,Battles\n";
        assert_eq!(targeted(acled), [true, false]);
        // With the column, only the column says.
        let column = "#date,#event+type,#meta+civilians_targeted\n2023-05-02,Violence against civilians,\n2023-05-03,Battles,yes\n";
        assert_eq!(targeted(column), [false, true]);
    }

    #[test]
    fn row_ids_are_stable_and_content_based() {
        let text = "#date,#event+type,#affected+killed\n2020-01-01,armed_violence,1\n2020-01-01,armed_violence,2\n";
        let a: Vec<_> = rows(text)
            .into_iter()
            .map(|r| r.unwrap().event.data.id)
            .collect();
        let b: Vec<_> = rows(text)
            .into_iter()
            .map(|r| r.unwrap().event.data.id)
            .collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
    }
}
