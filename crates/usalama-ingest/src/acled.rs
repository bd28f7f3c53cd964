//! ACLED (Armed Conflict Location & Event Data) export CSV, in the current lower-case
//! layout (`event_id_cnty`, `event_date`, `disorder_type`, `sub_event_type`, `assoc_actor_1`,
//! `civilian_targeting`, …) and the older upper-case one (`EVENT_ID_CNTY`, `EVENT_DATE` as
//! `15/03/2019` or `15 March 2019`, `ALLY_ACTOR_1`, …), UTF-8 or Latin-1.
//!
//! Columns are found by name in any order and case. The category comes from the
//! taxonomy's ACLED table (`event_type` / `sub_event_type`), every ACLED code is kept
//! verbatim in `source_codes`, actors are keyed by their ACLED name with a kind from the
//! `inter1`/`inter2` codes, and the precisions are mapped as follows:
//!
//! | ACLED | Usalama |
//! | --- | --- |
//! | `geo_precision` 1 (the town itself) | location precision 1 (exact) |
//! | `geo_precision` 2 (near a town, in a part of a region) | 2 (within about 25 km) |
//! | `geo_precision` 3 (only the region: a provincial capital is used) | 4 (province only) |
//! | `time_precision` 1 / 2 / 3 | day / week / month |
//!
//! `fatalities` is the best estimate of people killed; ACLED gives no range. Events get
//! source `acled` and the external id `event_id_cnty`, so re-importing is idempotent.
//!
//! The same columns are read from the JSON of ACLED's API ([`read_acled_json`]).

use crate::csvin::{self, CsvIn};
use crate::imported::{ImportRow, PlaceHints, Rows};
use crate::json;
use crate::json_file::{JsonRows, JsonSource};
use crate::problem::{IngestError, Problem};
use crate::text::{self, columns, ColumnOrder};
use crate::ucdp::{truncate, ImportedEvent};
use crate::ReadOptions;
use chrono::{DateTime, Utc};
use std::io::Read;
use usalama_domain::event::EventData;
use usalama_domain::{
    Actor, ActorId, ActorKind, ActorRole, Casualties, Channel, DatePrecision, EventActor, EventId,
    ExternalActorIds, GeoPoint, LocationPrecision, RecordMeta, SourceCodes, Taxonomy,
    VerificationStatus,
};

/// The value of `source` on every imported ACLED event.
pub const SOURCE: &str = "acled";

columns! {
    EventIdCnty => ["event_id_cnty"],
    EventIdNoCnty => ["event_id_no_cnty"],
    EventDate => ["event_date"],
    Year => ["year"],
    TimePrecision => ["time_precision"],
    DisorderType => ["disorder_type"],
    EventType => ["event_type"],
    SubEventType => ["sub_event_type"],
    Actor1 => ["actor1"],
    AssocActor1 => ["assoc_actor_1", "ally_actor_1"],
    Inter1 => ["inter1"],
    Actor2 => ["actor2"],
    AssocActor2 => ["assoc_actor_2", "ally_actor_2"],
    Inter2 => ["inter2"],
    Interaction => ["interaction"],
    CivilianTargeting => ["civilian_targeting"],
    Iso => ["iso"],
    Iso3 => ["iso3"],
    Gwno => ["gwno"],
    Region => ["region"],
    Country => ["country"],
    Admin1 => ["admin1"],
    Admin2 => ["admin2"],
    Admin3 => ["admin3"],
    Location => ["location"],
    Latitude => ["latitude"],
    Longitude => ["longitude"],
    GeoPrecision => ["geo_precision"],
    Source => ["source"],
    SourceScale => ["source_scale"],
    Notes => ["notes"],
    Fatalities => ["fatalities"],
    Tags => ["tags"],
    Timestamp => ["timestamp"],
}

/// Columns without which no row can be imported.
const REQUIRED: [Col; 5] = [
    Col::EventIdCnty,
    Col::EventDate,
    Col::EventType,
    Col::Latitude,
    Col::Longitude,
];

/// Columns copied verbatim into `source_codes`, when present and not blank.
const KEPT: &[Col] = &[
    Col::EventIdNoCnty,
    Col::Year,
    Col::TimePrecision,
    Col::DisorderType,
    Col::EventType,
    Col::SubEventType,
    Col::AssocActor1,
    Col::Inter1,
    Col::AssocActor2,
    Col::Inter2,
    Col::Interaction,
    Col::CivilianTargeting,
    Col::Iso,
    Col::Iso3,
    Col::Gwno,
    Col::Region,
    Col::Country,
    Col::Admin1,
    Col::Admin2,
    Col::Admin3,
    Col::GeoPrecision,
    Col::Source,
    Col::SourceScale,
    Col::Tags,
    Col::Timestamp,
];

/// Whether an event of ACLED type `event_type` targeted civilians, for files without
/// ACLED's `civilian_targeting` column (before 2022, and HXL extracts): its type is
/// "Violence against civilians".
pub(crate) fn targets_civilians(event_type: &str) -> bool {
    event_type
        .trim()
        .eq_ignore_ascii_case("violence against civilians")
}

/// The actor kind for an ACLED `inter1`/`inter2` code, numeric (1-8, files before 2024)
/// or written out ("State forces", …): 1 state forces → state security force;
/// 2 rebel groups → non-state armed group; 3 political and 4 identity militias → militia;
/// 5 rioters, 6 protesters and 7 civilians → civilians; 8 external/other forces → by
/// name: private security, else the military or police of a state, else an
/// international organisation. `None` for an unknown code.
pub fn acled_actor_kind(inter: &str, name: &str) -> Option<ActorKind> {
    let inter = inter.trim().to_lowercase();
    // A whole number may be written `1.0`, as spreadsheets and data frames do.
    let inter = match text::parse_int(&inter) {
        Some(n) => n.to_string(),
        None => inter,
    };
    let code = match inter.as_str() {
        "1" | "state forces" => 1,
        "2" | "rebel group" | "rebel groups" => 2,
        "3" | "political militia" | "political militias" => 3,
        "4" | "identity militia" | "identity militias" => 4,
        "5" | "rioters" => 5,
        "6" | "protesters" => 6,
        "7" | "civilians" => 7,
        "8" | "external/other forces" | "external/other force" => 8,
        _ => return None,
    };
    Some(match code {
        1 => ActorKind::StateSecurityForce,
        2 => ActorKind::NonStateArmedGroup,
        3 | 4 => ActorKind::Militia,
        5..=7 => ActorKind::Civilians,
        _ => match acled_name_kind(name) {
            Some(k @ (ActorKind::PrivateSecurityCompany | ActorKind::StateSecurityForce)) => k,
            _ => ActorKind::InternationalOrganisation,
        },
    })
}

/// The actor kind an ACLED actor name says by ACLED's naming conventions:
/// `Military Forces of X (…)` and `Police Forces of X (…)` state security forces; a name
/// with "Private Security" a private security company; `Civilians (X)`, `Protesters (X)` and
/// `Rioters (X)` (or the word alone) civilians, as ACLED's codes 5-7 are. `None` for any
/// other name.
pub fn acled_name_kind(name: &str) -> Option<ActorKind> {
    let n = name.trim().to_lowercase();
    let base = n.split('(').next().unwrap_or("").trim();
    if n.contains("private security") {
        Some(ActorKind::PrivateSecurityCompany)
    } else if n.starts_with("military forces of") || n.starts_with("police forces of") {
        Some(ActorKind::StateSecurityForce)
    } else if matches!(base, "civilians" | "protesters" | "rioters") {
        Some(ActorKind::Civilians)
    } else {
        None
    }
}

/// The kind of an actor known only by its name (no ACLED `inter` code): ACLED's naming
/// conventions ([`acled_name_kind`]) first, then UCDP's ([`crate::ucdp::ucdp_actor_kind`]:
/// `Government of X` state forces, militias by name, else a non-state armed group).
pub fn actor_kind_by_name(name: &str) -> ActorKind {
    acled_name_kind(name).unwrap_or_else(|| crate::ucdp::ucdp_actor_kind(name))
}

/// The ACLED column a domain validation error is about.
fn acled_column(domain_field: &str) -> &str {
    match domain_field {
        "external_id" => "event_id_cnty",
        "occurred_start" | "occurred_end" => "event_date",
        "category" | "dimension" => "event_type",
        "killed_best" => "fatalities",
        "place_name" => "location",
        "description" => "notes",
        "location_precision" => "geo_precision",
        other => other,
    }
}

/// Field access for one row, producing problems that name the row and the column.
struct Fields<'a> {
    row: usize,
    vals: [Option<&'a str>; N],
}

impl<'a> Fields<'a> {
    fn problem(&self, c: Col, reason: impl Into<String>) -> Problem {
        Problem::new(self.row, c.name(), reason)
    }
    fn opt(&self, c: Col) -> Option<&'a str> {
        self.vals[c.index()]
    }
    fn req(&self, c: Col) -> Result<&'a str, Problem> {
        self.opt(c).ok_or_else(|| self.problem(c, "is empty"))
    }
    fn code(&self, c: Col, what: &str) -> Result<Option<u8>, Problem> {
        self.opt(c)
            .map(|s| {
                text::parse_int(s)
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or_else(|| self.problem(c, format!("'{s}' is not a {what} code")))
            })
            .transpose()
    }
    fn float(&self, c: Col) -> Result<f64, Problem> {
        let s = self.req(c)?;
        text::parse_float(s).ok_or_else(|| self.problem(c, format!("'{s}' is not a number")))
    }
}

fn actor(
    f: &Fields<'_>,
    name: Col,
    inter: Col,
    role: ActorRole,
) -> Result<Option<(Actor, EventActor)>, Problem> {
    let Some(actor_name) = f.opt(name) else {
        return Ok(None);
    };
    let kind = match f.opt(inter) {
        Some(code) => acled_actor_kind(code, actor_name).ok_or_else(|| {
            f.problem(
                inter,
                format!("'{code}' is not an ACLED actor type code 1-8 or name"),
            )
        })?,
        None => actor_kind_by_name(actor_name),
    };
    let id = ActorId::derived(&format!("acled:{}", actor_name.to_lowercase()));
    let external = ExternalActorIds {
        ucdp_id: None,
        acled_name: Some(actor_name.to_string()),
    };
    let a = Actor::new(id, actor_name, kind, external).map_err(|e| f.problem(name, e.reason))?;
    Ok(Some((a, EventActor { actor: id, role })))
}

/// Maps one ACLED row to an event.
fn map_row(
    f: &Fields<'_>,
    taxonomy: &Taxonomy,
    has_civilian_targeting: bool,
    date_order: ColumnOrder,
    now: DateTime<Utc>,
) -> Result<ImportRow, Problem> {
    let id = f.req(Col::EventIdCnty)?;
    let event_type = f.req(Col::EventType)?;
    let sub_event_type = f.opt(Col::SubEventType).unwrap_or("");
    let category = taxonomy
        .map_acled(event_type, sub_event_type)
        .ok_or_else(|| {
            let what = if sub_event_type.is_empty() {
                format!("'{event_type}'")
            } else {
                format!("'{event_type}' / '{sub_event_type}'")
            };
            f.problem(
                Col::EventType,
                format!("{what} is not mapped to a category in the taxonomy"),
            )
        })?;

    let date_text = f.req(Col::EventDate)?;
    let date = text::parse_date_span(date_text, date_order.order)
        .filter(|s| s.precision == DatePrecision::Day)
        .ok_or_else(|| {
            let reason = text::order_conflict(date_text, date_order).unwrap_or_else(|| {
                format!("'{date_text}' is not a date (2019-03-15, 15/03/2019 or 15 March 2019)")
            });
            f.problem(Col::EventDate, reason)
        })?
        .start;
    if date > now.date_naive() {
        return Err(f.problem(Col::EventDate, format!("{date} is in the future")));
    }
    let date_precision = match f.code(Col::TimePrecision, "time_precision")? {
        None | Some(1) => DatePrecision::Day,
        Some(2) => DatePrecision::Week,
        Some(3) => DatePrecision::Month,
        Some(other) => {
            return Err(f.problem(
                Col::TimePrecision,
                format!("{other} is not a time_precision code 1-3"),
            ))
        }
    };

    let (lat, lon) = (f.float(Col::Latitude)?, f.float(Col::Longitude)?);
    let point = GeoPoint::new(lat, lon).map_err(|e| Problem::new(f.row, e.field, e.reason))?;
    let location_precision = match f.code(Col::GeoPrecision, "geo_precision")? {
        None => None,
        Some(1) => Some(LocationPrecision::EXACT),
        Some(2) => LocationPrecision::new(2).ok(),
        Some(3) => LocationPrecision::new(4).ok(),
        Some(other) => {
            return Err(f.problem(
                Col::GeoPrecision,
                format!("{other} is not a geo_precision code 1-3"),
            ))
        }
    };

    let killed = match f.opt(Col::Fatalities) {
        None => None,
        Some(s) => Some(
            text::parse_int(s)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| {
                    f.problem(
                        Col::Fatalities,
                        format!("'{s}' is not a count of people (0 or more)"),
                    )
                })?,
        ),
    };

    let mut actors = Vec::with_capacity(2);
    let mut links = Vec::with_capacity(2);
    for (name, inter, role) in [
        (Col::Actor1, Col::Inter1, ActorRole::SideA),
        (Col::Actor2, Col::Inter2, ActorRole::SideB),
    ] {
        if let Some((a, link)) = actor(f, name, inter, role)? {
            actors.push(a);
            links.push(link);
        }
    }

    let mut source_codes = SourceCodes::new();
    for &c in KEPT {
        if let Some(v) = f.opt(c) {
            source_codes.insert(c.name(), truncate(v, 2_000));
        }
    }

    let civilians_targeted = if has_civilian_targeting {
        f.opt(Col::CivilianTargeting).is_some()
    } else {
        targets_civilians(event_type)
    };

    let place = PlaceHints {
        adm1_name: f.opt(Col::Admin1).map(str::to_string),
        adm2_name: f.opt(Col::Admin2).map(str::to_string),
        adm3_name: f.opt(Col::Admin3).map(str::to_string),
        place_name: f.opt(Col::Location).map(str::to_string),
        country: f.opt(Col::Country).map(str::to_string),
        ..Default::default()
    };

    let data = EventData {
        id: EventId::derived(&format!("{SOURCE}:{id}")),
        source: SOURCE.to_string(),
        external_id: Some(id.to_string()),
        channel: Channel::Import,
        occurred_start: date,
        occurred_end: date,
        date_precision,
        reported_at: None,
        point: Some(point),
        location_precision,
        place_name: f.opt(Col::Location).map(|s| truncate(s, 500)),
        locality: None,
        dimension: category.dimension,
        category: category.code.clone(),
        source_codes,
        actors: links,
        casualties: Casualties {
            killed_best: killed,
            ..Default::default()
        },
        civilians_targeted,
        description: f.opt(Col::Notes).map(|s| truncate(s, 10_000)),
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
    let data = data
        .validate(taxonomy)
        .map_err(|errs| match errs.into_iter().next() {
            Some(e) => Problem::new(f.row, acled_column(e.field), e.reason),
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

struct AcledRows<R: Read> {
    input: CsvIn<R>,
    idx: [Option<usize>; N],
    taxonomy: Taxonomy,
    date_order: ColumnOrder,
    now: DateTime<Utc>,
    /// Whether the next record is the first after the header (which may be HDX's row of
    /// HXL hashtags).
    first: bool,
}

impl<R: Read> Iterator for AcledRows<R> {
    type Item = Result<ImportRow, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let (row, rec) = loop {
            let (row, rec) = match self.input.next_record()? {
                Ok(r) => r,
                Err(p) => return Some(Err(p)),
            };
            if std::mem::take(&mut self.first) && crate::hxl::is_hashtags_only(&rec) {
                continue;
            }
            break (row, rec);
        };
        let f = Fields {
            row,
            vals: csvin::cells(&rec, &self.idx),
        };
        let has_ct = self.idx[Col::CivilianTargeting.index()].is_some();
        Some(map_row(
            &f,
            &self.taxonomy,
            has_ct,
            self.date_order,
            self.now,
        ))
    }
}

/// Reads an ACLED export CSV lazily, row by row. The header is checked first: a missing
/// required column (`event_id_cnty`, `event_date`, `event_type`, `latitude`, `longitude`)
/// is an [`IngestError::MissingColumns`] and nothing is read. Each row then yields an
/// event or a [`Problem`]; rows are numbered as in a spreadsheet (header = row 1). A file
/// that is not UTF-8 is read as Windows-1252 (Latin-1). A row right after the header
/// whose non-empty cells are all HXL hashtags (`#event+code`, `#date+occurred`, …, as in
/// the ACLED files on HDX) is skipped. UCDP GED data, and a file of counts of events per
/// area and month (a column `Events` and no `event_id_cnty`: ACLED's aggregated datasets on
/// HDX, HDX HAPI's conflict events), are an [`IngestError::Format`] saying what the file is
/// and what to import instead.
///
/// All-numeric dates are read in one order of day and month for the whole file, decided
/// before the first row from the dates that can only be read one way (`14/05/2023` is day
/// first, `5/14/2023` month first, as a spreadsheet set up in the United States writes
/// them); a date written the other way than most is rejected, naming `event_date`. When no
/// date tells (`05/01/2023`), dates are day first, as ACLED writes them in its older
/// layout. The order is decided from the first 32 MiB of the file, which are kept in
/// memory meanwhile; while every date read there could be either (`05/01/2023`), the file
/// is read on, up to 256 MiB, for one that tells. When none does, the rows' notes
/// ([`Rows::notes`]) say the dates were read day first. An order the person importing
/// tells ([`ReadOptions::date_order`]) is the file's, whatever its dates.
pub fn read_acled_csv<R: Read>(
    reader: R,
    taxonomy: &Taxonomy,
    options: ReadOptions,
) -> Result<Rows<impl Iterator<Item = Result<ImportRow, Problem>>>, IngestError> {
    let (ahead, [votes]) = text::look_ahead(
        reader,
        text::LOOK_AHEAD,
        text::LOOK_AHEAD_UNDECIDED,
        |ahead| {
            options.date_votes(|| {
                let mut first = ahead.records()?;
                let headers = match first.next_record() {
                    Some(Ok((_, h))) => h,
                    _ => Vec::new(),
                };
                let idx: [Option<usize>; N] =
                    csvin::index_columns(&headers, |i| Col::ALL[i].aliases());
                Ok(ahead.votes(&mut first, [idx[Col::EventDate.index()]]))
            })
        },
    )?;
    let date_order = ColumnOrder::of(options.date_order, &votes);
    let notes = text::undecided_note("column event_date", &votes, date_order, &ahead.extent());
    let mut input = CsvIn::open(ahead.into_reader())?;
    let headers = match input.next_record() {
        Some(Ok((_, h))) => h,
        Some(Err(p)) => return Err(IngestError::Csv(p.reason)),
        None => Vec::new(),
    };
    let idx = index_columns(&headers)?;
    let rows = AcledRows {
        input,
        idx,
        taxonomy: taxonomy.clone(),
        date_order,
        now: options.now,
        first: true,
    };
    Ok(Rows::new(rows, notes.into_iter().collect()))
}

/// The index of each column in `headers`; a required column missing is an error naming
/// it, or what the file is when its names are another layout's.
fn index_columns(headers: &[String]) -> Result<[Option<usize>; N], IngestError> {
    let idx: [Option<usize>; N] = csvin::index_columns(headers, |i| Col::ALL[i].aliases());
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|c| idx[c.index()].is_none())
        .map(|c| c.name().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(idx);
    }
    let found = csvin::Layout::of(headers);
    Err(csvin::Layout::missing_columns(
        found,
        Some(csvin::Layout::Acled),
        missing,
    ))
}

/// The member an answer of ACLED's API holds its events in (any ASCII case).
pub const JSON_LIST: &str = "data";

/// Reads ACLED events from the JSON of ACLED's API (`{"status": 200, "success": true,
/// "count": …, "data": [{"event_id_cnty": …, "event_date": …, …}]}`) or a JSON array of
/// such records: the export's columns, as text or numbers. Record `n` is row `n + 1` in
/// problems. An answer that reports an error (`"success": false`) holds no events and is
/// an [`IngestError::Format`] quoting it; a required column absent from every record is an
/// [`IngestError::MissingColumns`]. All-numeric dates are read in one order for the whole
/// file, as in the CSV (with a note when no date tells the order, and the order told in
/// `options` first). The file is read twice, never held whole: first skimmed for the columns
/// its records have and the votes of their dates, then for the rows.
pub fn read_acled_json(
    source: JsonSource,
    taxonomy: &Taxonomy,
    options: ReadOptions,
) -> Result<Rows<JsonRows>, IngestError> {
    let refused = |doc: &serde_json::Map<String, serde_json::Value>| {
        let failed = json::get_ci(doc, "success") == Some(&serde_json::Value::Bool(false));
        failed.then(|| {
            let said = ["error", "messages", "message"]
                .iter()
                .find_map(|k| json::get_ci(doc, k).filter(|v| !v.is_null()))
                .map(|v| format!(": {v}"))
                .unwrap_or_default();
            IngestError::Format(format!(
                "this is an error answer of ACLED's API, not events{said}"
            ))
        })
    };
    // First the columns the records have and the votes of their dates (their other values
    // skipped), then each record mapped as it is read: one at a time is held as JSON values.
    let mut votes = text::OrderVotes::default();
    let skimmed = json::skim_records(
        source.open()?,
        Some(JSON_LIST),
        &|k| options.votes_on_dates() && k.eq_ignore_ascii_case("event_date"),
        &mut |_, v| {
            if let Some(d) = json::text(v) {
                votes.add(&d);
            }
        },
    );
    let skimmed = match skimmed {
        Ok(skimmed) => skimmed,
        Err(e) => {
            // An error answer has no `data` list.
            let doc = source.open().ok().and_then(|mut r| {
                let mut text = String::new();
                r.read_to_string(&mut text).ok()?;
                serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()
            });
            return Err(doc.as_ref().and_then(refused).unwrap_or(e));
        }
    };
    if let Some(e) = refused(&skimmed.doc) {
        return Err(e);
    }
    if skimmed.items == 0 {
        return Ok(Rows::new(JsonRows::empty(), Vec::new()));
    }
    // Every key any record has, once whatever its case.
    let mut headers = Vec::<String>::new();
    for k in skimmed.names {
        if !headers.iter().any(|h| h.eq_ignore_ascii_case(&k)) {
            headers.push(k);
        }
    }
    let idx = index_columns(&headers)?;
    let date_order = ColumnOrder::of(options.date_order, &votes);
    let notes = text::undecided_note("column event_date", &votes, date_order, "the file");
    let now = options.now;
    let has_ct = idx[Col::CivilianTargeting.index()].is_some();
    let taxonomy = taxonomy.clone();
    let rows = JsonRows::mapped(&source, Some(JSON_LIST), "record", move |r, row| {
        let rec: Vec<String> = headers
            .iter()
            .map(|h| {
                json::get_ci(&r.properties, h)
                    .and_then(json::text)
                    .map(|t| t.into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let f = Fields {
            row,
            vals: csvin::cells(&rec, &idx),
        };
        map_row(&f, &taxonomy, has_ct, date_order, now)
    })?;
    Ok(Rows::new(rows, notes.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
    use crate::text::DateOrder;

    fn taxonomy() -> Taxonomy {
        parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    const HEADER: &str = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp";

    const GOOD: &str = "XYZ123,2023-05-14,2023,1,Political violence,Violence against civilians,Attack,Unidentified Armed Group (Xland),,Political militia,Civilians (Xland),,Civilians,Political militia-Civilians,Civilian targeting,999,Middle Africa,Xland,North,Upper,,Village A,6.5,20.25,2,Local Radio,Subnational,\"Armed men attacked the village, 3 killed.\",3,,1700000000";

    fn rows(text: &str) -> Vec<Result<ImportRow, Problem>> {
        read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect()
    }

    /// Dates that either order reads as a different day, and none that tells the order:
    /// read day first, and the import's notes say so; one that tells, and no note.
    #[test]
    fn dates_no_row_decides_are_read_day_first_with_a_note() {
        let with_date = |d: &str| GOOD.replace("2023-05-14", d);
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            with_date("05/01/2023"),
            with_date("06/01/2023")
        );
        let rows = read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now())).unwrap();
        let notes = rows.notes().to_vec();
        let first = rows.into_iter().next().unwrap().unwrap();
        assert_eq!(first.event.data.occurred_start.to_string(), "2023-01-05");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("2 dates of column event_date"),
            "{notes:?}"
        );
        assert!(notes[0].contains("no date in the file tells"), "{notes:?}");
        let decided = format!(
            "{HEADER}\n{}\n{}\n",
            with_date("05/01/2023"),
            with_date("01/13/2023")
        );
        let rows = read_acled_csv(decided.as_bytes(), &taxonomy(), ReadOptions::at(now())).unwrap();
        assert!(rows.notes().is_empty());
        let json = api_answer(&["05/01/2023", "06/01/2023"]);
        let rows =
            read_acled_json(json.as_str().into(), &taxonomy(), ReadOptions::at(now())).unwrap();
        assert_eq!(rows.notes().len(), 1);
    }

    /// An answer of ACLED's API holding one battle on each of `dates`.
    fn api_answer(dates: &[&str]) -> String {
        let records: Vec<String> = dates
            .iter()
            .map(|d| format!("{{\"event_id_cnty\": \"X{d}\", \"event_date\": \"{d}\", \"event_type\": \"Battles\", \"sub_event_type\": \"Armed clash\", \"actor1\": \"A\", \"latitude\": \"6.5\", \"longitude\": \"20.2\", \"fatalities\": \"1\"}}"))
            .collect();
        format!("{{\"data\": [{}]}}", records.join(","))
    }

    #[test]
    fn an_order_told_reads_every_date_so_and_rejects_a_date_against_it() {
        let with_date = |d: &str| GOOD.replace("2023-05-14", d);
        // Most dates say day first; told month first, the reader follows what it is told.
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            with_date("05/01/2023"),
            with_date("25/01/2023"),
            with_date("26/01/2023")
        );
        let told = ReadOptions::at(now()).date_order(Some(DateOrder::MonthFirst));
        let rows = read_acled_csv(text.as_bytes(), &taxonomy(), told).unwrap();
        assert!(rows.notes().is_empty(), "{:?}", rows.notes());
        let got: Vec<_> = rows.collect();
        assert_eq!(
            got[0]
                .as_ref()
                .unwrap()
                .event
                .data
                .occurred_start
                .to_string(),
            "2023-05-01"
        );
        let refused = got[1].as_ref().unwrap_err();
        assert_eq!((refused.row, refused.field.as_str()), (3, "event_date"));
        assert!(
            refused
                .reason
                .contains("the import was told to read dates month first"),
            "{refused:?}"
        );
        // Not told, the same file is read day first, as its dates say.
        let found: Vec<_> = read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        assert!(found.iter().all(Result::is_ok), "{found:?}");

        let json = api_answer(&["05/01/2023", "06/01/2023"]);
        let rows = read_acled_json(json.as_str().into(), &taxonomy(), told).unwrap();
        assert!(rows.notes().is_empty(), "{:?}", rows.notes());
        let starts: Vec<String> = rows
            .map(|r| r.unwrap().event.data.occurred_start.to_string())
            .collect();
        assert_eq!(starts, ["2023-05-01", "2023-06-01"]);
    }

    fn one(row: &str) -> Result<ImportRow, String> {
        let mut r = rows(&format!("{HEADER}\n{row}\n"));
        assert_eq!(r.len(), 1);
        r.remove(0).map_err(|p| {
            assert_eq!(p.row, 2);
            format!("{}: {}", p.field, p.reason)
        })
    }

    #[test]
    fn the_apis_json_reads_as_the_export_csv() {
        // ACLED's API answers with every value as text; numbers are taken as well.
        let csv_text = format!("{HEADER}\n{GOOD}\n");
        let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
        let names: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        let rec = rdr.records().next().unwrap().unwrap();
        let record: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .zip(rec.iter())
            .map(|(h, v)| match (h.as_str(), v.parse::<f64>()) {
                ("latitude" | "fatalities", Ok(n)) => (h.clone(), serde_json::json!(n)),
                _ => (h.clone(), v.into()),
            })
            .collect();
        let answer = serde_json::json!({"status": 200, "success": true, "last_update": 7,
            "count": 1, "messages": [], "data": [record, 5], "filename": "acled"});
        let rows: Vec<_> = read_acled_json(
            answer.to_string().into(),
            &taxonomy(),
            ReadOptions::at(now()),
        )
        .unwrap()
        .collect();
        let from_csv: Vec<_> =
            read_acled_csv(csv_text.as_bytes(), &taxonomy(), ReadOptions::at(now()))
                .unwrap()
                .collect();
        let (a, b) = (rows[0].as_ref().unwrap(), from_csv[0].as_ref().unwrap());
        assert_eq!(a.event.data.id, b.event.data.id);
        assert_eq!(a.event.data.point, b.event.data.point);
        assert_eq!(a.event.data.casualties, b.event.data.casualties);
        assert_eq!(a.event.data.source_codes, b.event.data.source_codes);
        assert_eq!(a.event, b.event);
        let p = rows[1].as_ref().unwrap_err();
        assert_eq!((p.row, p.field.as_str()), (2, "record"));
        // A bare array of records too.
        let array = serde_json::Value::from(vec![answer["data"][0].clone()]).to_string();
        assert_eq!(
            read_acled_json(array.into(), &taxonomy(), ReadOptions::at(now()))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn an_error_answer_of_the_api_is_not_taken_for_no_events() {
        for answer in [
            r#"{"status":403,"success":false,"error":[{"status":403,"message":"Access denied"}]}"#,
            r#"{"status":200,"success":false,"messages":["Invalid key"],"data":[]}"#,
        ] {
            let e = read_acled_json(answer.into(), &taxonomy(), ReadOptions::at(now()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("error answer of ACLED's API"), "{e}");
            assert!(
                e.contains("Access denied") || e.contains("Invalid key"),
                "{e}"
            );
        }
        let e = read_acled_json(
            r#"{"data":[{"event_id_cnty":"X1"}]}"#.into(),
            &taxonomy(),
            ReadOptions::at(now()),
        )
        .unwrap_err();
        assert!(
            matches!(e, IngestError::MissingColumns(m) if m.contains(&"event_date".to_string()))
        );
    }

    #[test]
    fn maps_a_current_row() {
        let r = one(GOOD).unwrap();
        let d = &r.event.data;
        assert_eq!(r.row, 2);
        assert_eq!(d.id, EventId::derived("acled:XYZ123"));
        assert_eq!(d.source, "acled");
        assert_eq!(d.external_id.as_deref(), Some("XYZ123"));
        assert_eq!(d.category, "violence_against_civilians");
        assert!(d.civilians_targeted);
        assert_eq!(d.occurred_start.to_string(), "2023-05-14");
        assert_eq!(d.date_precision, DatePrecision::Day);
        assert_eq!(d.location_precision.map(|p| p.code()), Some(2));
        assert_eq!(d.casualties.killed_best, Some(3));
        assert_eq!(d.place_name.as_deref(), Some("Village A"));
        assert_eq!(
            d.description.as_deref(),
            Some("Armed men attacked the village, 3 killed.")
        );
        assert_eq!(d.source_codes.get("sub_event_type"), Some("Attack"));
        assert_eq!(d.source_codes.get("inter1"), Some("Political militia"));
        assert_eq!(d.status, VerificationStatus::Verified);
        let kinds: Vec<_> = r.event.actors.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, vec![ActorKind::Militia, ActorKind::Civilians]);
        assert_eq!(
            r.event.actors[0].external.acled_name.as_deref(),
            Some("Unidentified Armed Group (Xland)")
        );
        assert_eq!(r.place.adm1_name.as_deref(), Some("North"));
        assert_eq!(r.place.adm2_name.as_deref(), Some("Upper"));
    }

    #[test]
    fn maps_the_old_upper_case_layout_in_latin1() {
        let mut bytes = b"GWNO,EVENT_ID_CNTY,EVENT_ID_NO_CNTY,EVENT_DATE,YEAR,TIME_PRECISION,EVENT_TYPE,ACTOR1,ALLY_ACTOR_1,INTER1,ACTOR2,ALLY_ACTOR_2,INTER2,INTERACTION,COUNTRY,ADMIN1,ADMIN2,ADMIN3,LOCATION,LATITUDE,LONGITUDE,GEO_PRECISION,SOURCE,NOTES,FATALITIES\r\n".to_vec();
        bytes.extend_from_slice(b"482,CEN1,1,15/03/2019,2019,2,Battle-No change of territory,Military Forces of Xland (2016-),,1,Rebel Front,,2,12,Xland,Ouest,,,Bouar,5.95,15.6,3,AFP,Clashes near Bouar; \xe9vacuation,12\r\n");
        bytes.extend_from_slice(b"482,CEN2,2,2 April 2018,2018,1,Violence against civilians,Rebel Front,,2,Civilians (Xland),,7,27,Xland,Ouest,,,Bouar,5.95,15.6,1,AFP,,0\r\n");
        let rows: Vec<_> = read_acled_csv(&bytes[..], &taxonomy(), ReadOptions::at(now()))
            .unwrap()
            .collect();
        let a = rows[0].as_ref().unwrap();
        let d = &a.event.data;
        assert_eq!(d.occurred_start.to_string(), "2019-03-15");
        assert_eq!(d.date_precision, DatePrecision::Week);
        assert_eq!(d.category, "armed_violence");
        assert!(!d.civilians_targeted);
        assert_eq!(d.location_precision.map(|p| p.code()), Some(4));
        assert_eq!(
            d.description.as_deref(),
            Some("Clashes near Bouar; évacuation")
        );
        assert_eq!(a.event.actors[0].kind, ActorKind::StateSecurityForce);
        let b = rows[1].as_ref().unwrap();
        assert_eq!(b.event.data.occurred_start.to_string(), "2018-04-02");
        assert!(b.event.data.civilians_targeted);
        assert_eq!(b.event.data.casualties.killed_best, Some(0));
        assert_eq!(b.event.data.source_codes.get("gwno"), Some("482"));
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            (
                GOOD.replace("2023-05-14", "14/13/2023"),
                "event_date: '14/13/2023' is not a date",
            ),
            (
                GOOD.replace(",1,Political violence", ",4,Political violence"),
                "time_precision: 4 is not a time_precision code",
            ),
            (
                GOOD.replace("Violence against civilians,Attack", "Parades,Marching"),
                "event_type: 'Parades' / 'Marching' is not mapped",
            ),
            (
                GOOD.replace("6.5,20.25,2", "96.5,20.25,2"),
                "latitude: 96.5 is not between",
            ),
            (
                GOOD.replace("6.5,20.25,2", "6.5,east,2"),
                "longitude: 'east' is not a number",
            ),
            (
                GOOD.replace("6.5,20.25,2", "6.5,20.25,5"),
                "geo_precision: 5 is not a geo_precision code 1-3",
            ),
            (
                GOOD.replace(",3,,1700000000", ",-3,,1700000000"),
                "fatalities: '-3' is not a count",
            ),
            (GOOD.replace("XYZ123,", ","), "event_id_cnty: is empty"),
            (
                GOOD.replace("2023-05-14", "2031-05-14"),
                "event_date: 2031-05-14 is in the future",
            ),
            (
                GOOD.replace(
                    ",Political militia,Civilians (Xland)",
                    ",Aliens,Civilians (Xland)",
                ),
                "inter1: 'Aliens' is not an ACLED actor type",
            ),
        ];
        for (row, want) in cases {
            let got = one(&row).unwrap_err();
            assert!(got.starts_with(want), "{got} does not start with {want}");
        }
    }

    fn dates(text: &str) -> Vec<String> {
        rows(text)
            .into_iter()
            .map(|r| match r {
                Ok(e) => e.event.data.occurred_start.to_string(),
                Err(p) => format!("row {} {}: {}", p.row, p.field, p.reason),
            })
            .collect()
    }

    #[test]
    fn month_first_dates_are_read_in_one_order_for_the_file() {
        let head = "event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude\n";
        let row = |id: &str, date: &str| format!("{id},{date},Battles,Armed clash,15.5,32.5\n");
        // Re-saved by a spreadsheet set up for the United States: 5/14 says month first,
        // so 5/1 is the first of May, not the fifth of January.
        let us = format!("{head}{}{}", row("A1", "5/14/2023"), row("A2", "5/1/2023"));
        assert_eq!(dates(&us), ["2023-05-14", "2023-05-01"]);
        // The same with a time of day after the dates.
        let timed = us.replace("/2023,", "/2023 10:00,");
        assert_eq!(dates(&timed), ["2023-05-14", "2023-05-01"]);
        // Day first when no date tells (ACLED's older layout).
        let dd = format!(
            "{head}{}{}",
            row("B1", "05/01/2023"),
            row("B2", "2023-05-02")
        );
        assert_eq!(dates(&dd), ["2023-01-05", "2023-05-02"]);
        // Both kinds: the rows against the majority are rejected, naming the field.
        let mixed = format!(
            "{head}{}{}{}{}",
            row("C1", "14/05/2023"),
            row("C2", "5/14/2023"),
            row("C3", "15/05/2023"),
            row("C4", "05/01/2023")
        );
        let got = dates(&mixed);
        assert_eq!(got[0], "2023-05-14");
        assert!(
            got[1].starts_with("row 3 event_date: '5/14/2023' is written month first")
                && got[1].contains("the other dates in this column are day first"),
            "{}",
            got[1]
        );
        assert_eq!(got[2..], ["2023-05-15", "2023-01-05"]);
    }

    #[test]
    fn hdx_row_of_hashtags_under_the_header_is_skipped() {
        let text = "event_id_cnty,event_date,year,event_type,sub_event_type,actor1,actor2,admin1,location,latitude,longitude,notes,fatalities,iso3\n#event+code,#date+occurred,#date+year,#event+type,#event+type+sub,#group+name+first,#group+name+second,#adm1+name,#loc+name,#geo+lat,#geo+lon,#description,#affected+killed,#country+code\nYEM87002,2023-05-02,2023,Explosions/Remote violence,Shelling/artillery/missile attack,Military Forces of Yemen (2017-) Supreme Political Council,Civilians (Yemen),Al Hudaydah,Hays,13.9283,43.4817,Shelling on Hays,1,YEM\n";
        let r = rows(text);
        assert_eq!(r.len(), 1);
        let e = r[0].as_ref().unwrap();
        assert_eq!(
            (e.row, e.event.data.external_id.as_deref()),
            (3, Some("YEM87002"))
        );
        // Only right after the header, and only when every cell is a hashtag.
        let later = format!("{HEADER}\n{GOOD}\n#event+code,#date\n");
        assert!(rows(&later)[1].is_err());
        let half = format!("{HEADER}\n#event+code,2023-05-14\n");
        assert!(rows(&half)[0].is_err());
    }

    #[test]
    fn missing_columns_are_fatal() {
        let err = read_acled_csv(
            "event_id_cnty,event_date\n".as_bytes(),
            &taxonomy(),
            ReadOptions::at(now()),
        )
        .err()
        .unwrap();
        assert_eq!(
            err,
            IngestError::MissingColumns(vec![
                "event_type".into(),
                "latitude".into(),
                "longitude".into()
            ])
        );
        assert!(matches!(
            read_acled_csv("".as_bytes(), &taxonomy(), ReadOptions::at(now())).err(),
            Some(IngestError::MissingColumns(m)) if m.len() == 5
        ));
    }

    #[test]
    fn counts_of_events_per_area_and_month_are_refused_saying_so() {
        for text in [
            // ACLED's aggregated dataset on HDX, with its row of hashtags.
            "Country,Admin1,Admin2,ISO3,Admin2 Pcode,Admin1 Pcode,Month,Year,Events,Fatalities\n#country+name,#adm1+name,#adm2+name,#country+code,#adm2+code,#adm1+code,#date+month,#date+year,#event+num,#affected+killed\nMali,Gao,Ansongo,MLI,ML0702,ML07,January,2023,12,31\n",
            // HDX HAPI's conflict events.
            "location_code,admin1_code,admin1_name,event_type,events,fatalities,reference_period_start,reference_period_end\nSDN,SD01,Khartoum,political_violence,45,120,2024-05-01,2024-05-31\n",
        ] {
            let Some(IngestError::Format(msg)) =
                read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now())).err()
            else {
                panic!("not a format error");
            };
            assert!(
                msg.contains("counts of events per area and month")
                    && msg.contains("not one row per event")
                    && msg.contains("`usalama import acled`"),
                "{msg}"
            );
        }
    }

    #[test]
    fn ged_data_is_sent_to_the_ucdp_importer() {
        let text = "id,year,type_of_violence,side_a,side_b,latitude,longitude,country,iso3,date_start,date_end,best\n#event+code,#date+year,,#group+name+first,#group+name+second,#geo+lat,#geo+lon,#country+name,#country+code,#date+start,#date+end,#affected+killed\n71663,2013,2,A,B,22.48,90.06,Bangladesh,BGD,2013-12-13,2013-12-14,1\n";
        let Some(IngestError::Format(msg)) =
            read_acled_csv(text.as_bytes(), &taxonomy(), ReadOptions::at(now())).err()
        else {
            panic!("not a format error");
        };
        assert!(msg.contains("`usalama import ucdp`"), "{msg}");
    }

    #[test]
    fn actor_kinds_from_inter_codes() {
        assert_eq!(
            acled_actor_kind("1", "x"),
            Some(ActorKind::StateSecurityForce)
        );
        assert_eq!(
            acled_actor_kind("Rebel group", "x"),
            Some(ActorKind::NonStateArmedGroup)
        );
        assert_eq!(acled_actor_kind("4", "x"), Some(ActorKind::Militia));
        assert_eq!(acled_actor_kind("6", "x"), Some(ActorKind::Civilians));
        assert_eq!(
            acled_actor_kind("8", "Private Security Forces (Xland)"),
            Some(ActorKind::PrivateSecurityCompany)
        );
        assert_eq!(
            acled_actor_kind("8", "Military Forces of Yland (2010-)"),
            Some(ActorKind::StateSecurityForce)
        );
        assert_eq!(
            acled_actor_kind("External/Other forces", "United Nations"),
            Some(ActorKind::InternationalOrganisation)
        );
        assert_eq!(acled_actor_kind("9", "x"), None);
        assert_eq!(acled_actor_kind("1.5", "x"), None);
        assert_eq!(acled_actor_kind("0", "x"), None);
    }

    #[test]
    fn actor_kinds_from_names_acled_then_ucdp() {
        for (name, kind) in [
            ("Civilians (Yemen)", ActorKind::Civilians),
            ("Protesters (Yemen)", ActorKind::Civilians),
            ("Rioters (Kenya)", ActorKind::Civilians),
            (
                "Military Forces of Yemen (2012-) Presidential Leadership Council",
                ActorKind::StateSecurityForce,
            ),
            (
                "Police Forces of Yemen (2017-) Supreme Political Council",
                ActorKind::StateSecurityForce,
            ),
            (
                "Private Security Forces (Nigeria)",
                ActorKind::PrivateSecurityCompany,
            ),
            // UCDP-style names keep their kinds.
            ("Government of Mali", ActorKind::StateSecurityForce),
            ("Civilians", ActorKind::Civilians),
            ("Anti-balaka", ActorKind::Militia),
            ("Fulani Ethnic Militia (Nigeria)", ActorKind::Militia),
            ("IS", ActorKind::NonStateArmedGroup),
            (
                "Mutiny of Military Forces of Sudan (2019-)",
                ActorKind::NonStateArmedGroup,
            ),
            (
                "Unidentified Armed Group (Yemen)",
                ActorKind::NonStateArmedGroup,
            ),
        ] {
            assert_eq!(actor_kind_by_name(name), kind, "{name}");
        }
    }

    #[test]
    fn inter_codes_written_as_decimals() {
        assert_eq!(
            acled_actor_kind("1.0", "x"),
            Some(ActorKind::StateSecurityForce)
        );
        assert_eq!(acled_actor_kind(" 7.00 ", "x"), Some(ActorKind::Civilians));
        let text = "event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,inter1,actor2,inter2,latitude,longitude,geo_precision,fatalities\nNIG30002,2023-05-02,1.0,Battles,Armed clash,Military Forces of Nigeria (2015-2023),1.0,Boko Haram - JAS,2.0,11.0866,13.6907,2.0,5.0\n";
        let r = rows(text).remove(0).unwrap();
        let kinds: Vec<_> = r.event.actors.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [ActorKind::StateSecurityForce, ActorKind::NonStateArmedGroup]
        );
        assert_eq!(r.event.data.casualties.killed_best, Some(5));
        assert_eq!(r.event.data.source_codes.get("inter1"), Some("1.0"));
    }
}
