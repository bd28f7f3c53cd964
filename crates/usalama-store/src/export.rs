//! The export's narrow read: per event only the columns the export formats write (no
//! personal data, no metadata, of the source codes only the country they name), with the
//! names of its first two actors joined in the query, handed over one row at a time and
//! borrowed from the row being read, so that exporting a million events builds no value
//! per event.

use chrono::NaiveDate;
use std::borrow::Cow;
use usalama_domain::{
    Casualties, DatePrecision, Dimension, EventId, GeoPoint, LocalityId, LocationPrecision,
    VerificationStatus,
};

/// One event as an export reads it. Text is borrowed from the row being read: it lives
/// only for the call it is handed to.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow<'a> {
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
    /// Its country (ADM0) locality, when placed in one.
    pub adm0: Option<LocalityId>,
    /// Its localities at ADM1, ADM2 and ADM3.
    pub adm: [Option<LocalityId>; 3],
    /// The place name as reported.
    pub place_name: Option<&'a str>,
    /// Its point, when both coordinates are stored.
    pub point: Option<GeoPoint>,
    /// How precise the point is.
    pub location_precision: Option<LocationPrecision>,
    /// People killed, injured, abducted, displaced.
    pub casualties: Casualties,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
    /// The names of its first two actors, in the order every event read gives its actors
    /// (by role, then actor id).
    pub actors: [Option<&'a str>; 2],
    /// Its verification status.
    pub status: VerificationStatus,
    /// Its description.
    pub description: Option<&'a str>,
    /// For an event placed in no country, the country its source's codes name:
    /// [`SOURCE_COUNTRY_KEYS`] in that order, an ISO 3166-1 code or number first, then a
    /// name (`None` each when absent, and both for an event with a country locality).
    pub source_country: [Option<Cow<'a, str>>; 2],
}

/// The source-code keys that name an event's country, by kind: codes (ACLED's `iso3` and
/// numeric `iso`, HXL's `#country+code`), then names (GED, ACLED, HXL). The first
/// present of each kind is read.
pub const SOURCE_COUNTRY_KEYS: [&[&str]; 2] = [&["iso3", "country_code", "iso"], &["country"]];

/// The columns both backends select for an [`ExportRow`], in this order (positions are
/// used by the readers). The two actor names come from correlated subqueries over the
/// event's actors in the order `load_actors` reads them.
pub(crate) const EXPORT_COLUMNS: &str = "e.id, e.source, e.external_id, e.occurred_start, \
    e.occurred_end, e.date_precision, e.category, e.dimension, e.adm1_id, e.adm2_id, \
    e.adm3_id, e.place_name, e.latitude, e.longitude, e.location_precision, e.killed_best, \
    e.killed_low, e.killed_high, e.injured, e.abducted, e.displaced, e.civilians_targeted, \
    (SELECT a.name FROM event_actors ea LEFT JOIN actors a ON a.id = ea.actor_id \
     WHERE ea.event_id = e.id ORDER BY ea.role, ea.actor_id LIMIT 1), \
    (SELECT a.name FROM event_actors ea LEFT JOIN actors a ON a.id = ea.actor_id \
     WHERE ea.event_id = e.id ORDER BY ea.role, ea.actor_id LIMIT 1 OFFSET 1), \
    e.status, e.duplicate_of, e.description, e.adm0_id";

/// Checks and converts the stored values that have a domain type, naming the column of
/// the first that is not valid.
pub(crate) struct Typed {
    pub date_precision: DatePrecision,
    pub dimension: Dimension,
    pub point: Option<GeoPoint>,
    pub location_precision: Option<LocationPrecision>,
    pub status: VerificationStatus,
}

impl Typed {
    /// Converts the stored text and numbers; errors name the column.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn parse(
        date_precision: &str,
        dimension: &str,
        latitude: Option<f64>,
        longitude: Option<f64>,
        location_precision: Option<i64>,
        status: &str,
        duplicate_of: Option<uuid::Uuid>,
    ) -> Result<Self, String> {
        let point = match (latitude, longitude) {
            (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).map_err(|e| e.to_string())?),
            _ => None,
        };
        let location_precision = location_precision
            .map(|p| {
                LocationPrecision::new(u8::try_from(p).unwrap_or(0)).map_err(|e| e.to_string())
            })
            .transpose()?;
        Ok(Self {
            date_precision: date_precision
                .parse()
                .map_err(|e: usalama_domain::DomainError| e.to_string())?,
            dimension: dimension
                .parse()
                .map_err(|e: usalama_domain::DomainError| e.to_string())?,
            point,
            location_precision,
            status: VerificationStatus::from_parts(status, duplicate_of.map(EventId::from_uuid))
                .map_err(|e| e.to_string())?,
        })
    }
}

/// A stored count as a `u32`, naming the column when it is out of range.
pub(crate) fn count(v: Option<i64>, column: &str) -> Result<Option<u32>, String> {
    v.map(|n| u32::try_from(n).map_err(|_| format!("events.{column} {n} is out of range")))
        .transpose()
}
