//! Events: incidents from conflict datasets and reports from monitors, in one shape.
//!
//! An [`EventData`] is a plain record anyone can fill in; [`EventData::validate`] checks it
//! against the taxonomy and returns an [`Event`], which can only be read. Changing an event
//! means taking its data out, editing it and validating again.

use crate::error::DomainError;
use crate::ids::{ActorId, EventId, LocalityId};
use crate::place::{GeoPoint, LocationPrecision};
use crate::source_codes::SourceCodes;
use crate::taxonomy::{Dimension, Taxonomy};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

/// How an event reached Usalama.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A file import (UCDP, ACLED, HXL, GeoJSON).
    Import,
    /// The web report form.
    WebForm,
    /// The JSON API.
    Api,
    /// An SMS gateway.
    Sms,
    /// ODK Collect / KoboCollect over OpenRosa.
    OpenRosa,
}

/// A simple enum ↔ snake_case string mapping with `as_str`, `Display` and `FromStr`.
macro_rules! string_enum {
    ($ty:ident, $field:literal, { $($variant:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            /// The name used in the API and the database.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $s),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(Self::$variant),)+
                    _ => Err(DomainError::new($field, format!(
                        "'{s}' is not one of {}", [$($s),+].join(", ")))),
                }
            }
        }
    };
}

string_enum!(Channel, "channel", {
    Import => "import", WebForm => "web_form", Api => "api", Sms => "sms", OpenRosa => "openrosa",
});

/// How precisely the date of an event is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    /// The exact day.
    Day,
    /// Within a week.
    Week,
    /// Within a month.
    Month,
    /// Within a year or longer.
    Year,
}

string_enum!(DatePrecision, "date_precision", {
    Day => "day", Week => "week", Month => "month", Year => "year",
});

impl DatePrecision {
    /// Maps UCDP GED's `date_prec` (1 exact day; 2 two to six days; 3 a week; 4 a month;
    /// 5 longer) to a precision.
    pub fn from_ucdp(date_prec: u8) -> Result<Self, DomainError> {
        match date_prec {
            1 => Ok(Self::Day),
            2 | 3 => Ok(Self::Week),
            4 => Ok(Self::Month),
            5 => Ok(Self::Year),
            _ => Err(DomainError::new(
                "date_precision",
                format!("{date_prec} is not a date_prec code 1-5"),
            )),
        }
    }
}

/// The role an actor plays in an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    /// UCDP side A / ACLED actor 1.
    SideA,
    /// UCDP side B / ACLED actor 2.
    SideB,
    /// The one who did harm.
    Perpetrator,
    /// The one harmed.
    Target,
}

string_enum!(ActorRole, "actor_role", {
    SideA => "side_a", SideB => "side_b", Perpetrator => "perpetrator", Target => "target",
});

/// An actor's part in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventActor {
    /// The actor.
    pub actor: ActorId,
    /// Its role.
    pub role: ActorRole,
}

/// People harmed, as counts. `None` means unknown, which is not zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Casualties {
    /// Best estimate of people killed.
    pub killed_best: Option<u32>,
    /// Low estimate of people killed.
    pub killed_low: Option<u32>,
    /// High estimate of people killed.
    pub killed_high: Option<u32>,
    /// People injured.
    pub injured: Option<u32>,
    /// People abducted.
    pub abducted: Option<u32>,
    /// People displaced.
    pub displaced: Option<u32>,
}

impl Casualties {
    /// Killed estimates with the range widened to contain the best estimate: sources
    /// sometimes publish a low above the best or a high below it, and dropping the row
    /// would lose real deaths.
    pub fn killed(best: Option<u32>, low: Option<u32>, high: Option<u32>) -> Self {
        Self {
            killed_best: best,
            killed_low: low.map(|l| best.map_or(l, |b| l.min(b))),
            killed_high: high.map(|h| best.map_or(h, |b| h.max(b))),
            ..Self::default()
        }
    }
}

/// Sex of a person involved, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other or not stated.
    Other,
}

string_enum!(Sex, "sex", { Female => "female", Male => "male", Other => "other" });

/// A person involved in an event (victim, witness…). Sensitive: never shown publicly.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Person {
    /// Name as reported.
    pub name: Option<String>,
    /// Age in years.
    pub age: Option<u8>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Role in the event (victim, witness, …).
    pub role: Option<String>,
}

/// Where a record stands in verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "of")]
pub enum VerificationStatus {
    /// Not yet reviewed.
    Unverified,
    /// Confirmed by an analyst (or from a curated dataset).
    Verified,
    /// Found false or out of scope.
    Rejected,
    /// The same incident as another event.
    DuplicateOf(EventId),
}

impl VerificationStatus {
    /// The status name without the duplicate's id.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::DuplicateOf(_) => "duplicate",
        }
    }
    /// Rebuilds a status from its name and, for duplicates, the original's id.
    pub fn from_parts(name: &str, of: Option<EventId>) -> Result<Self, DomainError> {
        match (name, of) {
            ("unverified", _) => Ok(Self::Unverified),
            ("verified", _) => Ok(Self::Verified),
            ("rejected", _) => Ok(Self::Rejected),
            ("duplicate", Some(id)) => Ok(Self::DuplicateOf(id)),
            ("duplicate", None) => Err(DomainError::new(
                "status",
                "duplicate needs the original's id",
            )),
            _ => Err(DomainError::new(
                "status",
                format!("'{name}' is not one of unverified, verified, rejected, duplicate"),
            )),
        }
    }
}

/// Source reliability on the Admiralty scale: A completely reliable … E unreliable,
/// F cannot be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SourceReliability {
    /// Completely reliable.
    A,
    /// Usually reliable.
    B,
    /// Fairly reliable.
    C,
    /// Not usually reliable.
    D,
    /// Unreliable.
    E,
    /// Reliability cannot be judged.
    F,
}

string_enum!(SourceReliability, "reliability", { A => "A", B => "B", C => "C", D => "D", E => "E", F => "F" });

/// Information credibility on the Admiralty scale: 1 confirmed … 5 improbable,
/// 6 cannot be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct InformationCredibility(u8);

impl InformationCredibility {
    /// Validates a grade 1-6.
    pub fn new(grade: u8) -> Result<Self, DomainError> {
        if (1..=6).contains(&grade) {
            Ok(Self(grade))
        } else {
            Err(DomainError::new(
                "credibility",
                format!("{grade} is not a grade 1-6"),
            ))
        }
    }
    /// The grade 1-6.
    pub fn grade(&self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for InformationCredibility {
    type Error = DomainError;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<InformationCredibility> for u8 {
    fn from(c: InformationCredibility) -> u8 {
        c.0
    }
}

/// When and by whom a record was created and last changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who created it (account or token label), if known.
    pub created_by: Option<String>,
    /// The organisation that owns the record; `None` for public open data (UCDP, ACLED,
    /// imports by the operator), which every authorised reader sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_org: Option<crate::OrgId>,
}

/// The fields of an event before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct EventData {
    /// Event id.
    pub id: EventId,
    /// Where the record comes from: `ucdp-ged`, `acled`, `web`, … (`[a-z0-9_-]`).
    pub source: String,
    /// The record's id in its source, which makes re-import idempotent.
    pub external_id: Option<String>,
    /// How it reached Usalama.
    pub channel: Channel,
    /// First day it may have happened.
    pub occurred_start: NaiveDate,
    /// Last day it may have happened; analysis counts the event in this day's period.
    pub occurred_end: NaiveDate,
    /// How precise the dates are.
    pub date_precision: DatePrecision,
    /// When it was reported, if known.
    pub reported_at: Option<DateTime<Utc>>,
    /// Where, if known.
    pub point: Option<GeoPoint>,
    /// How precise the point is.
    pub location_precision: Option<LocationPrecision>,
    /// Place as described by the source.
    pub place_name: Option<String>,
    /// The deepest locality the event is placed in.
    pub locality: Option<LocalityId>,
    /// Human-security dimension (must match the category's).
    pub dimension: Dimension,
    /// Category code from the taxonomy.
    pub category: String,
    /// Source taxonomy codes, verbatim.
    pub source_codes: SourceCodes,
    /// Actors and their roles.
    pub actors: Vec<EventActor>,
    /// People harmed.
    pub casualties: Casualties,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
    /// Free-text description.
    pub description: Option<String>,
    /// People involved (sensitive).
    pub people: Vec<Person>,
    /// How to reach the reporter (sensitive).
    pub reporter_contact: Option<String>,
    /// Verification status.
    pub status: VerificationStatus,
    /// Source reliability A-F.
    pub reliability: Option<SourceReliability>,
    /// Information credibility 1-6.
    pub credibility: Option<InformationCredibility>,
    /// Creation and change metadata.
    pub meta: RecordMeta,
}

/// A validated event. Read its fields through `Deref` to [`EventData`].
#[derive(Debug, Clone, PartialEq)]
pub struct Event(EventData);

impl Deref for Event {
    type Target = EventData;
    fn deref(&self) -> &EventData {
        &self.0
    }
}

impl Event {
    /// Gives the data back for editing; validate again to get an `Event`.
    pub fn into_data(self) -> EventData {
        self.0
    }
    /// Takes the people and the reporter's contact out (to be sealed elsewhere). The
    /// event stays valid: every check on them is an upper bound.
    pub fn take_personal(&mut self) -> (Vec<Person>, Option<String>) {
        (
            std::mem::take(&mut self.0.people),
            self.0.reporter_contact.take(),
        )
    }
    /// The fatalities best estimate, 0 when unknown.
    pub fn fatalities(&self) -> u32 {
        self.casualties.killed_best.unwrap_or(0)
    }
}

const MAX_TEXT: usize = 20_000;

fn check_len(field: &'static str, s: &Option<String>, max: usize) -> Result<(), DomainError> {
    match s {
        Some(v) if v.chars().count() > max => Err(DomainError::new(
            field,
            format!("is longer than {max} characters"),
        )),
        _ => Ok(()),
    }
}

impl EventData {
    /// Checks every field and the category against `taxonomy`, returning all problems found.
    /// Use this for everything that comes in from outside.
    pub fn validate(self, taxonomy: &Taxonomy) -> Result<Event, Vec<DomainError>> {
        let category = match taxonomy.category(&self.category) {
            None => Err(DomainError::new(
                "category",
                format!("'{}' is not in the taxonomy", self.category),
            )),
            Some(c) if c.dimension != self.dimension => Err(DomainError::new(
                "dimension",
                format!("category '{}' belongs to {}", c.code, c.dimension),
            )),
            Some(_) => Ok(()),
        };
        self.check(category.err())
    }

    /// Checks every field except taxonomy membership: for records that were validated when
    /// they came in and are read back from storage (the taxonomy may have changed since).
    pub fn restore(self) -> Result<Event, Vec<DomainError>> {
        self.check(None)
    }

    fn check(self, category_error: Option<DomainError>) -> Result<Event, Vec<DomainError>> {
        let mut errs = Vec::new();
        let mut check = |r: Result<(), DomainError>| {
            if let Err(e) = r {
                errs.push(e);
            }
        };
        check(
            if self.source.is_empty()
                || self.source.len() > 40
                || !self
                    .source
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                Err(DomainError::new(
                    "source",
                    "use 1-40 lowercase letters, digits, - or _",
                ))
            } else {
                Ok(())
            },
        );
        check(match &self.external_id {
            Some(x) if x.trim().is_empty() || x.len() > 200 => Err(DomainError::new(
                "external_id",
                "must have 1 to 200 characters",
            )),
            _ => Ok(()),
        });
        check(if self.occurred_end < self.occurred_start {
            Err(DomainError::new("occurred_end", "is before occurred_start"))
        } else {
            Ok(())
        });
        if let Some(e) = category_error {
            check(Err(e));
        }
        let c = &self.casualties;
        check(match (c.killed_low, c.killed_best, c.killed_high) {
            (Some(l), Some(b), _) if l > b => {
                Err(DomainError::new("killed_low", "is above killed_best"))
            }
            (_, Some(b), Some(h)) if b > h => {
                Err(DomainError::new("killed_high", "is below killed_best"))
            }
            (Some(l), None, Some(h)) if l > h => {
                Err(DomainError::new("killed_high", "is below killed_low"))
            }
            _ => Ok(()),
        });
        check(
            if self.location_precision.is_some() && self.point.is_none() {
                Err(DomainError::new(
                    "location_precision",
                    "given without a point",
                ))
            } else {
                Ok(())
            },
        );
        check(check_len("description", &self.description, MAX_TEXT));
        check(check_len("place_name", &self.place_name, 500));
        check(check_len("reporter_contact", &self.reporter_contact, 200));
        for p in &self.people {
            check(check_len("people.name", &p.name, 200));
            check(check_len("people.role", &p.role, 100));
            check(match p.age {
                Some(a) if a > 130 => Err(DomainError::new("people.age", "is above 130")),
                _ => Ok(()),
            });
        }
        check(if self.people.len() > 100 {
            Err(DomainError::new("people", "lists more than 100 people"))
        } else {
            Ok(())
        });
        check(match self.status {
            VerificationStatus::DuplicateOf(of) if of == self.id => Err(DomainError::new(
                "status",
                "an event cannot duplicate itself",
            )),
            _ => Ok(()),
        });
        if errs.is_empty() {
            Ok(Event(self))
        } else {
            Err(errs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Category;

    fn taxonomy() -> Taxonomy {
        let c = Category {
            code: "armed_violence".into(),
            dimension: Dimension::Lives,
            labels: [("en".to_string(), "Armed violence".to_string())].into(),
            sensitive: false,
        };
        Taxonomy::new(vec![c], Default::default(), Default::default()).unwrap()
    }

    fn data() -> EventData {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        EventData {
            id: EventId::derived("t:1"),
            source: "ucdp-ged".into(),
            external_id: Some("1".into()),
            channel: Channel::Import,
            occurred_start: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap(),
            occurred_end: NaiveDate::from_ymd_opt(2022, 1, 2).unwrap(),
            date_precision: DatePrecision::Day,
            reported_at: None,
            point: Some(GeoPoint::new(5.0, 20.0).unwrap()),
            location_precision: Some(LocationPrecision::EXACT),
            place_name: None,
            locality: None,
            dimension: Dimension::Lives,
            category: "armed_violence".into(),
            source_codes: Default::default(),
            actors: vec![],
            casualties: Casualties {
                killed_best: Some(3),
                killed_low: Some(2),
                killed_high: Some(5),
                ..Default::default()
            },
            civilians_targeted: false,
            description: None,
            people: vec![],
            reporter_contact: None,
            status: VerificationStatus::Verified,
            reliability: None,
            credibility: None,
            meta: RecordMeta {
                created_at: t,
                updated_at: t,
                created_by: None,
                owner_org: None,
            },
        }
    }

    fn fields(d: EventData) -> Vec<&'static str> {
        d.validate(&taxonomy())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn valid_event_passes() {
        let e = data().validate(&taxonomy()).unwrap();
        assert_eq!(e.fatalities(), 3);
    }

    #[test]
    fn names_every_bad_field() {
        let mut d = data();
        d.occurred_end = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
        d.category = "nope".into();
        d.casualties.killed_low = Some(9);
        d.source = "UCDP GED".into();
        assert_eq!(
            fields(d),
            vec!["source", "occurred_end", "category", "killed_low"]
        );
    }

    #[test]
    fn dimension_must_match_category_and_no_self_duplicate() {
        let mut d = data();
        d.dimension = Dimension::Dignity;
        d.status = VerificationStatus::DuplicateOf(d.id);
        assert_eq!(fields(d), vec!["dimension", "status"]);
    }

    #[test]
    fn enums_round_trip() {
        for c in ["import", "web_form", "api", "sms", "openrosa"] {
            assert_eq!(c.parse::<Channel>().unwrap().as_str(), c);
        }
        assert_eq!(DatePrecision::from_ucdp(3).unwrap(), DatePrecision::Week);
        assert!(DatePrecision::from_ucdp(0).is_err());
        assert!(InformationCredibility::new(7).is_err());
        assert_eq!(
            "B".parse::<SourceReliability>().unwrap(),
            SourceReliability::B
        );
        let dup = VerificationStatus::from_parts("duplicate", Some(EventId::derived("x"))).unwrap();
        assert_eq!(dup.as_str(), "duplicate");
        assert!(VerificationStatus::from_parts("duplicate", None).is_err());
    }
}
