//! Intake from monitors: the web form, the JSON API, the SMS gateway and OpenRosa
//! (ODK Collect, KoboCollect) all end here as [`ReportInput`]s, checked the same way and
//! stored as unverified events with a receipt and a short reference.
//!
//! Every channel names its fields alike (`category`, `occurred_start`, `latitude`,
//! `killed`, `people[0].age`, …), so a bad value is reported by field (and by item in a
//! batch) whatever the channel. A report is placed by its point (point-in-polygon), or by
//! a locality code, or by a place name through the gazetteer; a point that lies outside
//! every boundary but would fall inside one with latitude and longitude swapped is refused,
//! never corrected. Nothing is half-stored: the reports of one call are written in one
//! transaction, and in all-or-nothing mode not at all when any is refused.

mod client;
mod openrosa;
mod places;
mod reference;
#[cfg(test)]
mod sealing_cost;
mod sms;

pub use client::{ClientAddressPolicy, ClientInfo, KeepClient};
pub use openrosa::OpenRosaOutcome;
pub use places::{ReportStatus, MAX_PLACES};
pub use reference::{normalize_reference, reference_for};
pub use sms::{SmsInput, SmsOutcome, SmsResult, SMS_KEY_SETTING};

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use chrono::{DateTime, Duration, NaiveDate};
use std::fmt::Display;
use std::sync::{Arc, OnceLock, RwLock};
use usalama_domain::{
    Casualties, Channel, DatePrecision, EventData, EventId, GeoPoint, LocationPrecision, Person,
    RecordMeta, Sex, VerificationStatus,
};
use usalama_ingest::gazetteer::{PlaceMatch, Resolution};
use usalama_ingest::SmsSyntax;
use usalama_store::{Attachment, NewReport, PlacedEvent, ReportReceipt};
use uuid::Uuid;

/// Most reports in one batch.
pub const MAX_BATCH: usize = 10_000;
/// Largest count of people accepted in `killed`, `injured`, `displaced`.
const MAX_COUNT: i64 = 10_000_000;
/// Earliest date accepted.
const EARLIEST_YEAR: i32 = 1900;
/// How far a date may be ahead of the server's UTC date (time zones).
const DATE_TOLERANCE_DAYS: i64 = 1;

/// One field that was refused, named as the channel names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (`category`, `latitude`, `people[1].age`, …).
    pub field: String,
    /// Why, in plain words.
    pub reason: String,
}

impl FieldError {
    /// A refused field.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A person involved, as typed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonInput {
    /// Name.
    pub name: Option<String>,
    /// Age in years, as text.
    pub age: Option<String>,
    /// `female`, `male` or `other` (also `f`, `m`, `femme`, `homme`, `autre`).
    pub sex: Option<String>,
    /// Role (victim, witness, …).
    pub role: Option<String>,
}

/// A report as a channel received it, every value as text, not yet checked.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReportInput {
    /// Taxonomy category code.
    pub category: Option<String>,
    /// First day it may have happened (`YYYY-MM-DD`, or an RFC 3339 time).
    pub occurred_start: Option<String>,
    /// Last day it may have happened; the first day when absent.
    pub occurred_end: Option<String>,
    /// Latitude in decimal degrees (WGS 84).
    pub latitude: Option<String>,
    /// Longitude in decimal degrees (WGS 84).
    pub longitude: Option<String>,
    /// A place name, looked up in the gazetteer when there is no point.
    pub place: Option<String>,
    /// The code of a locality chosen by the reporter (from a "did you mean" list).
    pub place_code: Option<String>,
    /// People killed.
    pub killed: Option<String>,
    /// People injured.
    pub injured: Option<String>,
    /// People displaced.
    pub displaced: Option<String>,
    /// People abducted.
    pub abducted: Option<String>,
    /// What happened.
    pub description: Option<String>,
    /// People involved (personal data).
    pub people: Vec<PersonInput>,
    /// How to reach the reporter (personal data).
    pub reporter_contact: Option<String>,
    /// The description is sensitive: it is stored sealed and left out of the event.
    pub description_sensitive: bool,
    /// The exact point is sensitive: it is stored sealed and the event keeps the centroid
    /// of the locality it falls in.
    pub location_sensitive: bool,
    /// The client's own id for the report: sending it again returns the stored report.
    pub external_id: Option<String>,
    /// The client's address and user agent, kept (sealed) only when the channel is
    /// configured to keep them ([`ClientAddressPolicy`]).
    pub client: Option<ClientInfo>,
    /// Problems the channel found while reading its wire format (a JSON string where a
    /// number belongs, …), reported with the others.
    pub wire_errors: Vec<FieldError>,
}

impl std::fmt::Debug for ReportInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // People and contact are personal data: never in debug output or logs.
        f.debug_struct("ReportInput")
            .field("category", &self.category)
            .field("occurred_start", &self.occurred_start)
            .field("wire_errors", &self.wire_errors)
            .finish_non_exhaustive()
    }
}

/// What to do with a batch in which some reports are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitMode {
    /// Store nothing unless every report is valid.
    AllOrNothing,
    /// Store the valid reports, report the others.
    Partial,
}

/// What to do with a place name that names several localities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacePolicy {
    /// Refuse the report (field `place`) so that the client can send `place_code`.
    Strict,
    /// Store the report unplaced, its place name kept for an analyst.
    Lenient,
}

/// How a stored report was placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// By its point.
    Point,
    /// In a locality, by code or name.
    Locality(PlaceMatch),
    /// Not placed: its place name matched no single locality (candidates, best first).
    Unresolved(Vec<PlaceMatch>),
    /// Not placed: no point and no place name, or a point outside every boundary.
    Unplaced,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The event's id.
    pub id: EventId,
    /// The reference given to the reporter.
    pub reference: String,
    /// Whether it had been stored before (same `external_id`).
    pub existed: bool,
    /// How it was placed.
    pub placement: Placement,
}

/// The outcome of one report of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Stored (or found stored).
    Stored(Receipt),
    /// Refused, with every field at fault.
    Refused(Vec<FieldError>),
    /// Valid, but not stored because another report of an all-or-nothing batch was refused.
    NotStored,
}

/// What a channel carries besides the report's fields.
#[derive(Clone, Default)]
pub(crate) struct Extras {
    pub sender_hash: Option<Vec<u8>>,
    pub raw_text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub source_codes: Vec<(String, String)>,
}

/// The channels' state kept in the application: the SMS syntax, the key that hashes SMS
/// senders, and the place index built from the localities.
#[derive(Default)]
pub(crate) struct Intake {
    pub sms: RwLock<Option<Arc<SmsSyntax>>>,
    pub sms_problem: RwLock<Option<String>>,
    pub sms_key: OnceLock<Vec<u8>>,
    pub places: places::PlaceCache,
}

impl Intake {
    pub(crate) fn new(taxonomy: &usalama_domain::Taxonomy) -> Self {
        let intake = Self::default();
        match usalama_ingest::parse_sms_syntax(usalama_ingest::DEFAULT_SMS_SYNTAX, taxonomy) {
            Ok(s) => {
                if let Ok(mut g) = intake.sms.write() {
                    *g = Some(Arc::new(s));
                }
            }
            Err(e) => {
                if let Ok(mut g) = intake.sms_problem.write() {
                    *g = Some(format!(
                        "the built-in SMS keywords do not fit the taxonomy ({e}); pass --sms-keywords"
                    ));
                }
            }
        }
        intake
    }
}

/// The source name of a channel's events.
fn source_of(channel: Channel) -> &'static str {
    match channel {
        Channel::WebForm => "web",
        Channel::Api => "api",
        Channel::Sms => "sms",
        Channel::OpenRosa => "openrosa",
        Channel::Import => "import",
    }
}

/// A trimmed, non-empty value.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks the length and the characters of a text value.
fn check_text(errs: &mut Vec<FieldError>, field: impl Display, v: Option<&str>, max: usize) {
    let Some(v) = v else { return };
    if v.chars().count() > max {
        errs.push(FieldError::new(
            field.to_string(),
            format!("is longer than {max} characters"),
        ));
    } else if v
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        errs.push(FieldError::new(
            field.to_string(),
            "contains a control character",
        ));
    }
}

fn parse_count(errs: &mut Vec<FieldError>, field: impl Display, v: Option<&str>) -> Option<u32> {
    let v = v?;
    match v.parse::<i64>() {
        Ok(n) if n < 0 => errs.push(FieldError::new(
            field.to_string(),
            format!("{n} is negative; give a number of people, 0 or more"),
        )),
        Ok(n) if n > MAX_COUNT => errs.push(FieldError::new(
            field.to_string(),
            format!("{n} is more than {MAX_COUNT}"),
        )),
        Ok(n) => return u32::try_from(n).ok(),
        Err(_) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x.fract() == 0.0 && x >= 0.0 && x <= MAX_COUNT as f64 => {
                return Some(x as u32)
            }
            Ok(_) => errs.push(FieldError::new(
                field.to_string(),
                format!("'{}' is not a whole number of people", short(v)),
            )),
            Err(_) => errs.push(FieldError::new(
                field.to_string(),
                format!("'{}' is not a number", short(v)),
            )),
        },
    }
    None
}

/// A person's field as messages name it (`people[1].age`), written only when needed.
#[derive(Clone, Copy)]
struct PersonField(usize, &'static str);

impl Display for PersonField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "people[{}].{}", self.0, self.1)
    }
}

/// At most 40 characters of a value, for messages.
fn short(v: &str) -> String {
    let s: String = v.chars().take(40).collect();
    if s.len() < v.len() {
        format!("{s}…")
    } else {
        s
    }
}

fn parse_date(
    errs: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let v = v?;
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(v).ok().map(|t| t.date_naive()));
    let Some(d) = d else {
        errs.push(FieldError::new(
            field,
            format!("'{}' is not a real date in the form YYYY-MM-DD", short(v)),
        ));
        return None;
    };
    if d > today + Duration::days(DATE_TOLERANCE_DAYS) {
        errs.push(FieldError::new(
            field,
            format!("{d} is in the future (today is {today})"),
        ));
        return None;
    }
    if d < NaiveDate::from_ymd_opt(EARLIEST_YEAR, 1, 1).unwrap_or(NaiveDate::MIN) {
        errs.push(FieldError::new(
            field,
            format!("{d} is before {EARLIEST_YEAR}"),
        ));
        return None;
    }
    Some(d)
}

fn parse_coordinate(errs: &mut Vec<FieldError>, field: &str, v: &str) -> Option<f64> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            errs.push(FieldError::new(
                field,
                format!("'{}' is not a number of decimal degrees", short(v)),
            ));
            None
        }
    }
}

fn parse_sex(v: &str) -> Option<Sex> {
    match v.trim().to_lowercase().as_str() {
        "female" | "f" | "femme" | "woman" | "girl" | "fille" => Some(Sex::Female),
        "male" | "m" | "homme" | "h" | "man" | "boy" | "garçon" | "garcon" => Some(Sex::Male),
        "other" | "o" | "autre" | "x" => Some(Sex::Other),
        _ => None,
    }
}

/// A report ready to store.
struct Checked {
    event: PlacedEvent,
    placement: Placement,
    /// What is sealed besides people and contact: a sensitive description and point.
    secrets: crate::personal::Secrets,
}

/// A checked report's event and what its channel carried, as the store takes them; its
/// personal data still on the event until [`App::seal_report`] seals it.
fn new_report(
    event: PlacedEvent,
    extras: Extras,
    channel: Channel,
    now: DateTime<chrono::Utc>,
) -> NewReport {
    NewReport {
        receipt: ReportReceipt {
            reference: reference_for(event.event.id),
            channel: channel.as_str().into(),
            received_at: now,
            sender_hash: extras.sender_hash,
            raw_text: extras.raw_text,
        },
        attachments: extras.attachments,
        event,
        sealed: None,
    }
}

impl App {
    /// Checks one report and builds its event. `index` names the item in messages only
    /// through the caller; fields are named as in [`ReportInput`].
    fn check_report(
        &self,
        who: &Principal,
        channel: Channel,
        input: &ReportInput,
        extras: &Extras,
        policy: PlacePolicy,
        places: &places::PlaceIndex,
    ) -> Result<Checked, Vec<FieldError>> {
        let now = self.now();
        let today = now.date_naive();
        let mut errs = input.wire_errors.clone();

        let category = match present(&input.category) {
            None => {
                errs.push(FieldError::new("category", "is required"));
                None
            }
            Some(c) => match self.taxonomy.category(c) {
                Some(cat) => Some(cat),
                None => {
                    errs.push(FieldError::new(
                        "category",
                        format!("'{}' is not a category of the taxonomy", short(c)),
                    ));
                    None
                }
            },
        };

        let start = match present(&input.occurred_start) {
            None => {
                errs.push(FieldError::new(
                    "occurred_start",
                    "is required (YYYY-MM-DD)",
                ));
                None
            }
            some => parse_date(&mut errs, "occurred_start", some, today),
        };
        let end = parse_date(
            &mut errs,
            "occurred_end",
            present(&input.occurred_end),
            today,
        );
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                errs.push(FieldError::new(
                    "occurred_end",
                    format!("{e} is before occurred_start {s}"),
                ));
            }
        }

        for (field, v, max) in [
            ("place", &input.place, 500),
            ("place_code", &input.place_code, 64),
            ("description", &input.description, 20_000),
            ("reporter_contact", &input.reporter_contact, 200),
            ("external_id", &input.external_id, 200),
        ] {
            check_text(&mut errs, field, present(v), max);
        }
        let killed = parse_count(&mut errs, "killed", present(&input.killed));
        let injured = parse_count(&mut errs, "injured", present(&input.injured));
        let displaced = parse_count(&mut errs, "displaced", present(&input.displaced));
        let abducted = parse_count(&mut errs, "abducted", present(&input.abducted));

        if input.people.len() > 100 {
            errs.push(FieldError::new("people", "lists more than 100 people"));
        }
        let mut people = Vec::with_capacity(input.people.len().min(100));
        for (i, p) in input.people.iter().enumerate().take(100) {
            // The field's name is written only for a problem.
            let f = |name: &'static str| PersonField(i, name);
            check_text(&mut errs, f("name"), present(&p.name), 200);
            check_text(&mut errs, f("role"), present(&p.role), 100);
            let age = parse_count(&mut errs, f("age"), present(&p.age)).and_then(|a| {
                if a > 130 {
                    errs.push(FieldError::new(
                        f("age").to_string(),
                        format!("{a} is above 130"),
                    ));
                    None
                } else {
                    u8::try_from(a).ok()
                }
            });
            let sex = present(&p.sex).and_then(|s| {
                let parsed = parse_sex(s);
                if parsed.is_none() {
                    errs.push(FieldError::new(
                        f("sex").to_string(),
                        format!("'{}' is not one of female, male, other", short(s)),
                    ));
                }
                parsed
            });
            let person = Person {
                name: present(&p.name).map(str::to_string),
                age,
                sex,
                role: present(&p.role).map(str::to_string),
            };
            if person != Person::default() {
                people.push(person);
            }
        }

        // Where: a point, else a chosen locality code, else a place name.
        let lat = present(&input.latitude);
        let lon = present(&input.longitude);
        let mut point = None;
        match (lat, lon) {
            (Some(a), Some(o)) => {
                let (a, o) = (
                    parse_coordinate(&mut errs, "latitude", a),
                    parse_coordinate(&mut errs, "longitude", o),
                );
                if let (Some(a), Some(o)) = (a, o) {
                    match GeoPoint::new(a, o) {
                        Ok(p) => point = Some(p),
                        Err(e) => errs.push(FieldError::new(e.field, e.reason)),
                    }
                }
            }
            (Some(_), None) => errs.push(FieldError::new("longitude", "is required with latitude")),
            (None, Some(_)) => errs.push(FieldError::new("latitude", "is required with longitude")),
            (None, None) => {}
        }
        let mut path = Default::default();
        let mut placement = Placement::Unplaced;
        if let Some(p) = point {
            path = places.placer.place(p, Some(LocationPrecision::EXACT));
            if path.deepest().is_some() {
                placement = Placement::Point;
            } else if let Some(name) = places.swapped_hit(p) {
                errs.push(FieldError::new(
                    "latitude",
                    format!(
                        "({}, {}) is outside every boundary, but ({}, {}) would be in {name}: latitude and longitude look swapped; send them in the right order",
                        p.lat(),
                        p.lon(),
                        p.lon(),
                        p.lat()
                    ),
                ));
            }
        } else if let Some(code) = present(&input.place_code) {
            match places.by_code(code) {
                Some(m) => {
                    path = places.placer.path_of(m.id);
                    placement = Placement::Locality(m);
                }
                None => errs.push(FieldError::new(
                    "place_code",
                    format!("no locality has code '{}'", short(code)),
                )),
            }
        } else if let Some(name) = present(&input.place) {
            match places.gazetteer.resolve(name) {
                Resolution::Found(m) => {
                    path = places.placer.path_of(m.id);
                    placement = Placement::Locality(m);
                }
                Resolution::Ambiguous(c) if policy == PlacePolicy::Strict => {
                    let list: Vec<String> = c
                        .iter()
                        .take(5)
                        .map(|m| format!("{} ({})", m.name, m.code))
                        .collect();
                    errs.push(FieldError::new(
                        "place",
                        format!(
                            "'{}' names several localities: {}; send place_code, or latitude and longitude",
                            short(name),
                            list.join(", ")
                        ),
                    ));
                }
                Resolution::Ambiguous(c) => placement = Placement::Unresolved(c),
                Resolution::NotFound => {
                    placement = Placement::Unresolved(places.gazetteer.search(name, 5))
                }
            }
        }

        let (Some(category), Some(start)) = (category, start) else {
            return Err(errs);
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        let source = source_of(channel);
        let external_id = present(&input.external_id).map(str::to_string);
        let id = match &external_id {
            Some(x) => EventId::derived(&format!("{source}:{x}")),
            None => EventId::from_uuid(Uuid::new_v4()),
        };
        // A sensitive description or exact point is sealed; the event keeps no text and
        // only the centroid of the locality the point falls in.
        let mut secrets = crate::personal::Secrets::default();
        let mut location_precision = point.map(|_| LocationPrecision::EXACT);
        let mut description = present(&input.description).map(str::to_string);
        if input.description_sensitive {
            secrets.description = description.take();
        }
        if self.client_policy.for_channel(channel) == KeepClient::Sealed {
            secrets.client = input.client.as_ref().and_then(ClientInfo::bounded);
        }
        if input.location_sensitive {
            if let Some(p) = point.take() {
                secrets.point = Some(p);
                let coarse = path.deepest().and_then(|l| places.centroid_of(l));
                point = coarse.map(|c| c.0);
                location_precision = coarse.map(|c| c.1);
            }
        }
        let data = EventData {
            id,
            source: source.into(),
            external_id,
            channel,
            occurred_start: start,
            occurred_end: end.unwrap_or(start),
            date_precision: DatePrecision::Day,
            reported_at: Some(now),
            point,
            location_precision,
            place_name: present(&input.place).map(str::to_string),
            locality: path.deepest(),
            dimension: category.dimension,
            category: category.code.clone(),
            source_codes: extras.source_codes.iter().map(|(k, v)| (k, v)).collect(),
            actors: Vec::new(),
            casualties: Casualties {
                killed_best: killed,
                injured,
                displaced,
                abducted,
                ..Default::default()
            },
            civilians_targeted: false,
            description,
            people,
            reporter_contact: present(&input.reporter_contact).map(str::to_string),
            status: VerificationStatus::Unverified,
            reliability: None,
            credibility: None,
            meta: RecordMeta {
                created_at: now,
                updated_at: now,
                created_by: who.name(),
                // The caller's organisation, else the one configured for anonymous reports.
                owner_org: Some(who.org().unwrap_or(self.report_org)),
            },
        };
        match data.validate(&self.taxonomy) {
            Ok(event) => Ok(Checked {
                event: PlacedEvent { event, path },
                placement,
                secrets,
            }),
            Err(es) => Err(es
                .into_iter()
                .map(|e| FieldError::new(e.field, e.reason))
                .collect()),
        }
    }

    /// Checks and stores reports received through `channel`. The web form may be used by
    /// anyone; every other channel needs an authenticated caller (any role may report).
    /// Returns one outcome per report, in order. In [`SubmitMode::AllOrNothing`] nothing is
    /// stored when any report is refused; the valid ones are then [`ItemOutcome::NotStored`].
    pub fn submit_reports(
        &self,
        who: &Principal,
        channel: Channel,
        items: Vec<ReportInput>,
        mode: SubmitMode,
        policy: PlacePolicy,
    ) -> Result<Vec<ItemOutcome>, AppError> {
        let items = items.into_iter().map(|i| (i, Extras::default())).collect();
        self.submit(who, channel, items, mode, policy)
    }

    pub(crate) fn submit(
        &self,
        who: &Principal,
        channel: Channel,
        items: Vec<(ReportInput, Extras)>,
        mode: SubmitMode,
        policy: PlacePolicy,
    ) -> Result<Vec<ItemOutcome>, AppError> {
        if channel == Channel::Import {
            return Err(AppError::invalid(
                "channel",
                "imports have their own use-cases",
            ));
        }
        if channel != Channel::WebForm {
            self.require(who, usalama_domain::Permission::SubmitReports)?;
        }
        if items.len() > MAX_BATCH {
            return Err(AppError::invalid(
                "reports",
                format!("a batch holds at most {MAX_BATCH} reports"),
            ));
        }
        let places = self.place_index()?;
        let now = self.now();
        let mut checked: Vec<Result<(Checked, Extras), Vec<FieldError>>> =
            Vec::with_capacity(items.len());
        for (input, extras) in items {
            checked.push(
                self.check_report(who, channel, &input, &extras, policy, &places)
                    .map(|c| (c, extras)),
            );
        }
        let any_refused = checked.iter().any(Result::is_err);
        if any_refused && mode == SubmitMode::AllOrNothing {
            return Ok(checked
                .into_iter()
                .map(|c| match c {
                    Ok(_) => ItemOutcome::NotStored,
                    Err(e) => ItemOutcome::Refused(e),
                })
                .collect());
        }
        // The refusals in order (None: to store), and the reports to store, moved.
        let ring = self.keyring()?;
        let mut refusals = Vec::with_capacity(checked.len());
        let mut to_store = Vec::with_capacity(checked.len());
        let mut placements = Vec::with_capacity(checked.len());
        for c in checked {
            match c {
                Err(e) => refusals.push(Some(e)),
                Ok((c, extras)) => {
                    refusals.push(None);
                    let mut report = new_report(c.event, extras, channel, now);
                    self.seal_report(&ring, &mut report, &c.secrets)?;
                    to_store.push(report);
                    placements.push(c.placement);
                }
            }
        }
        let stored = if to_store.is_empty() {
            Vec::new()
        } else {
            let stored = self.store.insert_reports(&to_store)?;
            // Counts, totals and the index include the new reports at once.
            self.cache.events_changed();
            // The event rules judge the new events as written (nothing read back).
            let new: Vec<usalama_store::StoredEvent> = to_store
                .into_iter()
                .zip(&stored)
                .filter(|(_, s)| !s.existed)
                .map(|(r, _)| r.event)
                .collect();
            self.alerts_events_inserted(&new);
            stored
        };
        let mut stored = stored.into_iter().zip(placements);
        Ok(refusals
            .into_iter()
            .map(|r| match r {
                Some(e) => ItemOutcome::Refused(e),
                None => match stored.next() {
                    Some((s, placement)) => ItemOutcome::Stored(Receipt {
                        id: s.event_id,
                        reference: s.reference,
                        existed: s.existed,
                        placement,
                    }),
                    None => ItemOutcome::NotStored,
                },
            })
            .collect())
    }
}
