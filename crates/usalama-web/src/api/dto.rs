//! The JSON shapes of the API. Domain values are converted here, explicitly; personal
//! fields (people involved, reporter contact) are never part of these shapes.

use chrono::NaiveDate;
use serde::{Serialize, Serializer};
use std::fmt::Display;
use usalama_app::EventView;
use usalama_domain::{
    Actor, ActorId, ActorKind, ActorRole, AdminLevel, Channel, DatePrecision, Dimension, EventId,
    LocalityId, SourceCodes, SourceReliability, VerificationStatus,
};
use usalama_store::{LocalitySummary, Page};

/// Writes a value as JSON text through its `Display`, with no `String` in between (a page
/// of events has a few hundred ids, dates and codes).
fn shown<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// [`shown`] for an optional value: null when absent.
fn shown_opt<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// A list response.
#[derive(Serialize)]
pub struct ListDto<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// How many match in all.
    pub total: u64,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ListDto<T> {
    /// Converts a store page.
    pub fn from_page<U>(page: Page<U>, f: impl Fn(U) -> T) -> Self {
        Self {
            next_cursor: page.next_cursor.map(|c| c.encode()),
            total: page.total,
            items: page.items.into_iter().map(f).collect(),
        }
    }

    /// Converts a page shared with other callers (its items are not taken).
    pub fn from_shared<'a, U>(page: &'a Page<U>, f: impl Fn(&'a U) -> T) -> Self {
        Self {
            next_cursor: page.next_cursor.as_ref().map(|c| c.encode()),
            total: page.total,
            items: page.items.iter().map(f).collect(),
        }
    }
}

/// A locality reference.
#[derive(Serialize)]
pub struct LocalityRefDto<'a> {
    /// Id.
    #[serde(serialize_with = "shown")]
    pub id: LocalityId,
    /// P-code or other code.
    pub code: &'a str,
    /// Name.
    pub name: &'a str,
    /// `adm0`..`adm3`.
    #[serde(serialize_with = "shown")]
    pub level: AdminLevel,
}

impl<'a> From<&'a LocalitySummary> for LocalityRefDto<'a> {
    fn from(l: &'a LocalitySummary) -> Self {
        Self {
            id: l.id,
            code: l.code.as_str(),
            name: &l.name,
            level: l.level,
        }
    }
}

/// A locality with where it sits.
#[derive(Serialize)]
pub struct LocalityDto<'a> {
    /// Id, code, name and level.
    #[serde(flatten)]
    pub locality: LocalityRefDto<'a>,
    /// Parent's id.
    #[serde(serialize_with = "shown_opt")]
    pub parent_id: Option<LocalityId>,
    /// Ancestors, country first.
    pub ancestors: Vec<LocalityRefDto<'a>>,
    /// Representative point `[longitude, latitude]`.
    pub centroid: Option<[f64; 2]>,
}

impl<'a> LocalityDto<'a> {
    /// From a lineage, country first and the locality last.
    pub fn from_lineage(lineage: &'a [LocalitySummary]) -> Option<Self> {
        let (l, ancestors) = lineage.split_last()?;
        Some(Self::new(l, ancestors))
    }
    /// From a locality and its ancestors.
    pub fn new(l: &'a LocalitySummary, ancestors: &'a [LocalitySummary]) -> Self {
        Self {
            locality: LocalityRefDto::from(l),
            parent_id: l.parent,
            ancestors: ancestors.iter().map(LocalityRefDto::from).collect(),
            centroid: l.centroid.map(|(x, y)| [x, y]),
        }
    }
}

/// An actor.
#[derive(Serialize)]
pub struct ActorDto {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Kind.
    pub kind: String,
    /// UCDP actor id.
    pub ucdp_id: Option<i64>,
    /// ACLED actor name.
    pub acled_name: Option<String>,
}

impl From<&Actor> for ActorDto {
    fn from(a: &Actor) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            aliases: a.aliases.clone(),
            kind: a.kind.to_string(),
            ucdp_id: a.external.ucdp_id,
            acled_name: a.external.acled_name.clone(),
        }
    }
}

/// An actor's part in an event.
#[derive(Serialize)]
pub struct EventActorDto<'a> {
    /// Actor id.
    #[serde(serialize_with = "shown")]
    pub id: ActorId,
    /// Name.
    pub name: &'a str,
    /// Kind.
    #[serde(serialize_with = "shown")]
    pub kind: ActorKind,
    /// Role in the event.
    #[serde(serialize_with = "shown")]
    pub role: ActorRole,
}

/// The event's locality: the deepest one, with its ancestors.
#[derive(Serialize)]
pub struct EventLocalityDto<'a> {
    /// Id, code, name and level.
    #[serde(flatten)]
    pub locality: LocalityRefDto<'a>,
    /// Codes of the ancestors, country first.
    pub ancestor_codes: Vec<&'a str>,
    /// The ancestors, country first.
    pub ancestors: Vec<LocalityRefDto<'a>>,
}

/// An event.
#[derive(Serialize)]
pub struct EventDto<'a> {
    /// Id (UUID).
    #[serde(serialize_with = "shown")]
    pub id: EventId,
    /// Source (`ucdp-ged`, `acled`, `web`, …).
    pub source: &'a str,
    /// Id in the source.
    pub external_id: Option<&'a str>,
    /// How it came in.
    #[serde(serialize_with = "shown")]
    pub channel: Channel,
    /// `lives`, `livelihood` or `dignity`.
    #[serde(serialize_with = "shown")]
    pub dimension: Dimension,
    /// Taxonomy category code.
    pub category: &'a str,
    /// First possible day.
    #[serde(serialize_with = "shown")]
    pub occurred_start: NaiveDate,
    /// Last possible day.
    #[serde(serialize_with = "shown")]
    pub occurred_end: NaiveDate,
    /// `day`, `week`, `month` or `year`.
    #[serde(serialize_with = "shown")]
    pub date_precision: DatePrecision,
    /// When reported.
    pub reported_at: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// UCDP `where_prec` 1-7.
    pub location_precision: Option<u8>,
    /// Place as described by the source.
    pub place_name: Option<&'a str>,
    /// Where it was placed.
    pub locality: Option<EventLocalityDto<'a>>,
    /// Killed, best estimate.
    pub fatalities_best: Option<u32>,
    /// Killed, low estimate.
    pub fatalities_low: Option<u32>,
    /// Killed, high estimate.
    pub fatalities_high: Option<u32>,
    /// Injured.
    pub injured: Option<u32>,
    /// Abducted.
    pub abducted: Option<u32>,
    /// Displaced.
    pub displaced: Option<u32>,
    /// Civilians deliberately targeted.
    pub civilians_targeted: bool,
    /// Description.
    pub description: Option<&'a str>,
    /// Actors.
    pub actors: Vec<EventActorDto<'a>>,
    /// `unverified`, `verified`, `rejected` or `duplicate`.
    pub status: &'static str,
    /// The original, for duplicates.
    #[serde(serialize_with = "shown_opt")]
    pub duplicate_of: Option<EventId>,
    /// Source reliability A-F.
    #[serde(serialize_with = "shown_opt")]
    pub reliability: Option<SourceReliability>,
    /// Information credibility 1-6.
    pub credibility: Option<u8>,
    /// The source taxonomy's codes, verbatim.
    pub source_codes: &'a SourceCodes,
    /// When stored.
    pub created_at: String,
    /// When last changed.
    pub updated_at: String,
}

impl<'a> From<&'a EventView> for EventDto<'a> {
    fn from(v: &'a EventView) -> Self {
        let e = &v.event;
        let c = &e.casualties;
        let locality = v.lineage.split_last().map(|(l, anc)| EventLocalityDto {
            locality: LocalityRefDto::from(l),
            ancestor_codes: anc.iter().map(|a| a.code.as_str()).collect(),
            ancestors: anc.iter().map(LocalityRefDto::from).collect(),
        });
        let actors = e
            .actors
            .iter()
            .filter_map(|ea| {
                let a = v.actors.iter().find(|a| a.id == ea.actor)?;
                Some(EventActorDto {
                    id: a.id,
                    name: &a.name,
                    kind: a.kind,
                    role: ea.role,
                })
            })
            .collect();
        Self {
            id: e.id,
            source: &e.source,
            external_id: e.external_id.as_deref(),
            channel: e.channel,
            dimension: e.dimension,
            category: &e.category,
            occurred_start: e.occurred_start,
            occurred_end: e.occurred_end,
            date_precision: e.date_precision,
            reported_at: e.reported_at.map(|t| t.to_rfc3339()),
            latitude: e.point.map(|p| p.lat()),
            longitude: e.point.map(|p| p.lon()),
            location_precision: e.location_precision.map(|p| p.code()),
            place_name: e.place_name.as_deref(),
            locality,
            fatalities_best: c.killed_best,
            fatalities_low: c.killed_low,
            fatalities_high: c.killed_high,
            injured: c.injured,
            abducted: c.abducted,
            displaced: c.displaced,
            civilians_targeted: e.civilians_targeted,
            description: e.description.as_deref(),
            actors,
            status: e.status.as_str(),
            duplicate_of: match e.status {
                VerificationStatus::DuplicateOf(of) => Some(of),
                _ => None,
            },
            reliability: e.reliability,
            credibility: e.credibility.map(|c| c.grade()),
            source_codes: &e.source_codes,
            created_at: e.meta.created_at.to_rfc3339(),
            updated_at: e.meta.updated_at.to_rfc3339(),
        }
    }
}

/// An event the response owns, written as [`EventDto`] when it is serialised: for the
/// responses that hold their events rather than borrow them.
pub struct EventJson(pub EventView);

impl Serialize for EventJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EventDto::from(&self.0).serialize(s)
    }
}

/// An event as `GET /api/v1/events/{id}` shows it: with its personal data only for the
/// roles that may read it (`Role::may_read_personal`); absent fields otherwise. List
/// routes and exports never carry these fields.
#[derive(Serialize)]
pub struct EventDetailDto {
    /// The event.
    #[serde(flatten)]
    pub event: EventJson,
    /// People involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<PersonDto>>,
    /// How to reach the reporter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_contact: Option<String>,
    /// The description, when the reporter marked it sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive_description: Option<String>,
    /// The exact point `[latitude, longitude]`, when the reporter marked it sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_point: Option<[f64; 2]>,
    /// The client's IP address, when its channel keeps it sealed
    /// (`[privacy.client_address]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    /// The client's user agent, when its channel keeps it sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_user_agent: Option<String>,
    /// The record's personal data was erased.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub personal_data_erased: bool,
}

/// A person involved.
#[derive(Serialize)]
pub struct PersonDto {
    /// Name.
    pub name: Option<String>,
    /// Age.
    pub age: Option<u8>,
    /// `female`, `male` or `other`.
    pub sex: Option<String>,
    /// Role in the event.
    pub role: Option<String>,
}

impl EventDetailDto {
    /// The event with the personal data a caller may read.
    pub fn new(event: EventView, personal: Option<usalama_app::PersonalData>) -> Self {
        let mut d = Self {
            event: EventJson(event),
            people: None,
            reporter_contact: None,
            sensitive_description: None,
            exact_point: None,
            client_address: None,
            client_user_agent: None,
            personal_data_erased: false,
        };
        if let Some(p) = personal {
            d.personal_data_erased = p.erased;
            if !p.erased {
                d.people = Some(
                    p.people
                        .into_iter()
                        .map(|x| PersonDto {
                            name: x.name,
                            age: x.age,
                            sex: x.sex.map(|s| {
                                serde_json::to_value(s)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_default()
                            }),
                            role: x.role,
                        })
                        .collect(),
                );
                d.reporter_contact = p.reporter_contact;
                d.sensitive_description = p.sensitive_description;
                d.exact_point = p.exact_point.map(|q| [q.lat(), q.lon()]);
                if let Some(c) = p.client {
                    d.client_address = c.address;
                    d.client_user_agent = c.user_agent;
                }
            }
        }
        d
    }
}
