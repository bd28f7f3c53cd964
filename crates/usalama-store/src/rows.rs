//! The backend-neutral row shapes of events and localities, and their one conversion to and
//! from domain values. Both backends read columns into these rows and write them from these
//! rows, so the mapping is written once.

use crate::error::StoreError;
use crate::records::{LocalitySummary, PlacedEvent};
use chrono::{DateTime, NaiveDate, Utc};
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use usalama_domain::{
    ActorId, ActorRole, AdminLevel, Casualties, Channel, DatePrecision, EventActor, EventData,
    EventId, GeoPoint, InformationCredibility, LocalityCode, LocalityId, LocalityPath,
    LocationPrecision, RecordMeta, SourceReliability, VerificationStatus,
};
use uuid::Uuid;

/// The columns of `events` (plus its actors) as plain values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventRow {
    pub id: Uuid,
    pub source: String,
    pub external_id: Option<String>,
    pub channel: String,
    pub occurred_start: NaiveDate,
    pub occurred_end: NaiveDate,
    pub date_precision: String,
    pub reported_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub location_precision: Option<i64>,
    pub place_name: Option<String>,
    pub locality_id: Option<Uuid>,
    pub adm: [Option<Uuid>; 4],
    pub dimension: String,
    pub category: String,
    pub source_codes: String,
    pub killed_best: Option<i64>,
    pub killed_low: Option<i64>,
    pub killed_high: Option<i64>,
    pub injured: Option<i64>,
    pub abducted: Option<i64>,
    pub displaced: Option<i64>,
    pub civilians_targeted: bool,
    pub description: Option<String>,
    pub people: String,
    pub reporter_contact: Option<String>,
    pub status: String,
    pub duplicate_of: Option<Uuid>,
    pub reliability: Option<String>,
    pub credibility: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    /// Older history snapshots have no owner.
    #[serde(default)]
    pub owner_org: Option<Uuid>,
    pub actors: Vec<(Uuid, String)>,
    /// The compact form of `source_codes` that SQLite stores ([`crate::codes`]), made with
    /// the row from a domain value; `None` on a row read back.
    #[serde(skip)]
    pub codes_stored: Option<String>,
}

fn json<T: Serialize>(v: &T) -> String {
    // Serialising plain data structures to a String cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

fn bad(id: Uuid, reason: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidRecord {
        id: id.to_string(),
        reason: reason.to_string(),
    }
}

fn count(v: Option<i64>, id: Uuid, field: &str) -> Result<Option<u32>, StoreError> {
    v.map(|n| u32::try_from(n).map_err(|_| bad(id, format!("{field} {n} out of range"))))
        .transpose()
}

/// Maps a domain validation error on a stored row to a store error.
fn e<T>(id: Uuid) -> impl Fn(Result<T, usalama_domain::DomainError>) -> Result<T, StoreError> {
    move |r| r.map_err(|x| bad(id, x))
}

impl EventRow {
    /// Flattens a placed event.
    pub fn from_placed(p: &PlacedEvent) -> Self {
        let e = &p.event;
        let c = &e.casualties;
        let (status, duplicate_of) = match e.status {
            VerificationStatus::DuplicateOf(of) => ("duplicate", Some(of.as_uuid())),
            s => (s.as_str(), None),
        };
        Self {
            id: e.id.as_uuid(),
            source: e.source.clone(),
            external_id: e.external_id.clone(),
            channel: e.channel.as_str().into(),
            occurred_start: e.occurred_start,
            occurred_end: e.occurred_end,
            date_precision: e.date_precision.as_str().into(),
            reported_at: e.reported_at,
            latitude: e.point.map(|p| p.lat()),
            longitude: e.point.map(|p| p.lon()),
            location_precision: e.location_precision.map(|p| p.code() as i64),
            place_name: e.place_name.clone(),
            locality_id: p.path.deepest().or(e.locality).map(|l| l.as_uuid()),
            adm: p.path.0.map(|l| l.map(|l| l.as_uuid())),
            dimension: e.dimension.as_str().into(),
            category: e.category.clone(),
            source_codes: crate::codes::canonical_json(e.source_codes.iter()),
            codes_stored: Some(crate::codes::encode(e.source_codes.iter())),
            killed_best: c.killed_best.map(i64::from),
            killed_low: c.killed_low.map(i64::from),
            killed_high: c.killed_high.map(i64::from),
            injured: c.injured.map(i64::from),
            abducted: c.abducted.map(i64::from),
            displaced: c.displaced.map(i64::from),
            civilians_targeted: e.civilians_targeted,
            description: e.description.clone(),
            people: json(&e.people),
            reporter_contact: e.reporter_contact.clone(),
            status: status.into(),
            duplicate_of,
            reliability: e.reliability.map(|r| r.as_str().into()),
            credibility: e.credibility.map(|c| c.grade() as i64),
            created_at: e.meta.created_at,
            updated_at: e.meta.updated_at,
            created_by: e.meta.created_by.clone(),
            owner_org: e.meta.owner_org.map(|o| o.as_uuid()),
            // Each link once, as the store keeps them: a row naming one twice would be
            // written twice where the event-actor key is dropped for a bulk load.
            actors: e
                .actors
                .iter()
                .enumerate()
                .filter(|(i, a)| !e.actors[..*i].contains(a))
                .map(|(_, a)| (a.actor.as_uuid(), a.role.as_str().into()))
                .collect(),
        }
    }

    /// A digest of what the source said about the event: everything except the metadata and
    /// the fields analysts own (verification status, grading, duplicate link), so
    /// re-importing an unchanged row is recognised as unchanged. Fields are fed to SHA-256
    /// directly (no serialisation), each with a presence byte and its length.
    pub fn content_hash(&self) -> Vec<u8> {
        fn text(v: &Option<String>) -> Option<&[u8]> {
            v.as_deref().map(str::as_bytes)
        }
        /// Feeds one field: a presence byte and a length prefix keep fields apart.
        fn put(h: &mut Sha256, v: Option<&[u8]>) {
            match v {
                None => h.update([0u8]),
                Some(b) => {
                    h.update([1u8]);
                    h.update((b.len() as u64).to_le_bytes());
                    h.update(b);
                }
            }
        }
        let mut h = Sha256::new();
        // Numbers and ids go through stack buffers: no allocation per field.
        let int = |h: &mut Sha256, v: Option<i64>| {
            put(h, v.map(i64::to_le_bytes).as_ref().map(|b| &b[..]))
        };
        let float = |h: &mut Sha256, v: Option<f64>| int(h, v.map(|n| n.to_bits() as i64));
        let uuid = |h: &mut Sha256, v: Option<Uuid>| put(h, v.as_ref().map(|u| &u.as_bytes()[..]));
        let mut date = String::with_capacity(10);
        let mut day = |h: &mut Sha256, d: NaiveDate| {
            use std::fmt::Write;
            date.clear();
            let _ = write!(date, "{d}");
            put(h, Some(date.as_bytes()));
        };
        put(&mut h, Some(self.id.as_bytes()));
        put(&mut h, Some(self.source.as_bytes()));
        put(&mut h, text(&self.external_id));
        put(&mut h, Some(self.channel.as_bytes()));
        day(&mut h, self.occurred_start);
        day(&mut h, self.occurred_end);
        put(&mut h, Some(self.date_precision.as_bytes()));
        int(&mut h, self.reported_at.map(|t| t.timestamp_micros()));
        float(&mut h, self.latitude);
        float(&mut h, self.longitude);
        int(&mut h, self.location_precision);
        put(&mut h, text(&self.place_name));
        uuid(&mut h, self.locality_id);
        for a in self.adm {
            uuid(&mut h, a);
        }
        put(&mut h, Some(self.dimension.as_bytes()));
        put(&mut h, Some(self.category.as_bytes()));
        put(&mut h, Some(self.source_codes.as_bytes()));
        for n in [
            self.killed_best,
            self.killed_low,
            self.killed_high,
            self.injured,
            self.abducted,
            self.displaced,
        ] {
            int(&mut h, n);
        }
        put(&mut h, Some(&[u8::from(self.civilians_targeted)]));
        put(&mut h, text(&self.description));
        put(&mut h, Some(self.people.as_bytes()));
        put(&mut h, text(&self.reporter_contact));
        let mut actors: Vec<&(Uuid, String)> = self.actors.iter().collect();
        actors.sort();
        for (a, role) in actors {
            put(&mut h, Some(a.as_bytes()));
            put(&mut h, Some(role.as_bytes()));
        }
        h.finalize().to_vec()
    }

    /// The whole row as JSON, for the history table.
    pub fn to_json(&self) -> String {
        json(self)
    }

    /// Rebuilds the domain value, checking every field again.
    pub fn into_placed(self) -> Result<PlacedEvent, StoreError> {
        let id = self.id;
        let point = match (self.latitude, self.longitude) {
            (Some(lat), Some(lon)) => Some(e(id)(GeoPoint::new(lat, lon))?),
            _ => None,
        };
        let location_precision = self
            .location_precision
            .map(|p| e(id)(LocationPrecision::new(u8::try_from(p).unwrap_or(0))))
            .transpose()?;
        let status = e(id)(VerificationStatus::from_parts(
            &self.status,
            self.duplicate_of.map(EventId::from_uuid),
        ))?;
        let actors = self
            .actors
            .iter()
            .map(|(a, role)| {
                Ok(EventActor {
                    actor: ActorId::from_uuid(*a),
                    role: e(id)(role.parse::<ActorRole>())?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let data = EventData {
            id: EventId::from_uuid(id),
            source: self.source,
            external_id: self.external_id,
            channel: e(id)(self.channel.parse::<Channel>())?,
            occurred_start: self.occurred_start,
            occurred_end: self.occurred_end,
            date_precision: e(id)(self.date_precision.parse::<DatePrecision>())?,
            reported_at: self.reported_at,
            point,
            location_precision,
            place_name: self.place_name,
            locality: self.locality_id.map(LocalityId::from_uuid),
            dimension: e(id)(self.dimension.parse::<usalama_domain::Dimension>())?,
            category: self.category,
            source_codes: serde_json::from_str(&self.source_codes).map_err(|x| bad(id, x))?,
            actors,
            casualties: Casualties {
                killed_best: count(self.killed_best, id, "killed_best")?,
                killed_low: count(self.killed_low, id, "killed_low")?,
                killed_high: count(self.killed_high, id, "killed_high")?,
                injured: count(self.injured, id, "injured")?,
                abducted: count(self.abducted, id, "abducted")?,
                displaced: count(self.displaced, id, "displaced")?,
            },
            civilians_targeted: self.civilians_targeted,
            description: self.description,
            people: serde_json::from_str(&self.people).map_err(|x| bad(id, x))?,
            reporter_contact: self.reporter_contact,
            status,
            reliability: self
                .reliability
                .map(|r| e(id)(r.parse::<SourceReliability>()))
                .transpose()?,
            credibility: self
                .credibility
                .map(|c| e(id)(InformationCredibility::new(u8::try_from(c).unwrap_or(0))))
                .transpose()?,
            meta: RecordMeta {
                created_at: self.created_at,
                updated_at: self.updated_at,
                created_by: self.created_by,
                owner_org: self.owner_org.map(usalama_domain::OrgId::from_uuid),
            },
        };
        let event = data.restore().map_err(|errs| {
            let msg: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            bad(id, msg.join("; "))
        })?;
        Ok(PlacedEvent {
            event,
            path: LocalityPath(self.adm.map(|a| a.map(LocalityId::from_uuid))),
        })
    }
}

/// Coordinates of a multipolygon as GeoJSON `coordinates` text.
pub(crate) fn geometry_to_json(g: &MultiPolygon<f64>) -> String {
    let rings = |p: &Polygon<f64>| -> Vec<Vec<[f64; 2]>> {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| r.coords().map(|c| [c.x, c.y]).collect())
            .collect()
    };
    json(&g.0.iter().map(rings).collect::<Vec<_>>())
}

/// Parses text written by [`geometry_to_json`].
pub(crate) fn geometry_from_json(s: &str) -> Result<MultiPolygon<f64>, serde_json::Error> {
    let polys: Vec<Vec<Vec<[f64; 2]>>> = serde_json::from_str(s)?;
    Ok(MultiPolygon(
        polys
            .into_iter()
            .map(|rings| {
                let mut rings = rings
                    .into_iter()
                    .map(|r| LineString(r.into_iter().map(|[x, y]| Coord { x, y }).collect()));
                let exterior = rings.next().unwrap_or_else(|| LineString(vec![]));
                Polygon::new(exterior, rings.collect())
            })
            .collect(),
    ))
}

/// The columns of `localities` as plain values.
pub(crate) struct LocalityRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub alt_names: String,
    pub level: i64,
    pub parent_id: Option<Uuid>,
    pub geometry: Option<String>,
    pub centroid_lon: Option<f64>,
    pub centroid_lat: Option<f64>,
}

impl LocalityRow {
    /// Flattens a locality.
    pub fn from_locality(l: &usalama_domain::Locality) -> Self {
        Self {
            id: l.id.as_uuid(),
            code: l.code.as_str().into(),
            name: l.name.clone(),
            alt_names: json(&l.alt_names),
            level: l.level.depth() as i64,
            parent_id: l.parent.map(|p| p.as_uuid()),
            geometry: l.geometry.as_ref().map(geometry_to_json),
            centroid_lon: l.centroid.map(|c| c.x()),
            centroid_lat: l.centroid.map(|c| c.y()),
        }
    }

    fn level(&self) -> Result<AdminLevel, StoreError> {
        u8::try_from(self.level)
            .ok()
            .and_then(AdminLevel::from_depth)
            .ok_or_else(|| bad(self.id, format!("level {}", self.level)))
    }

    /// Rebuilds the domain value.
    pub fn into_locality(self) -> Result<usalama_domain::Locality, StoreError> {
        let id = self.id;
        let level = self.level()?;
        let geometry = self
            .geometry
            .as_deref()
            .map(geometry_from_json)
            .transpose()
            .map_err(|e| bad(id, e))?;
        let centroid = match (self.centroid_lon, self.centroid_lat) {
            (Some(x), Some(y)) => Some(Point::new(x, y)),
            _ => None,
        };
        let code = LocalityCode::new(&self.code).map_err(|e| bad(id, e))?;
        let alt: Vec<String> = serde_json::from_str(&self.alt_names).map_err(|e| bad(id, e))?;
        let l = usalama_domain::Locality::new(
            code,
            &self.name,
            level,
            self.parent_id.map(LocalityId::from_uuid),
            geometry,
            centroid,
        )
        .map_err(|e| bad(id, e))?
        .with_alt_names(alt);
        if l.id.as_uuid() != id {
            return Err(bad(id, "id does not match its code"));
        }
        Ok(l)
    }

    /// The summary without geometry.
    pub fn into_summary(self) -> Result<LocalitySummary, StoreError> {
        Ok(LocalitySummary {
            id: LocalityId::from_uuid(self.id),
            level: self.level()?,
            code: LocalityCode::new(&self.code).map_err(|e| bad(self.id, e))?,
            name: self.name,
            parent: self.parent_id.map(LocalityId::from_uuid),
            centroid: self.centroid_lon.zip(self.centroid_lat),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest stored with every event: a change here makes every re-import look
    /// like an update, so its bytes are pinned.
    #[test]
    fn content_hash_is_stable() {
        let t = DateTime::parse_from_rfc3339("2024-05-06T07:08:09Z")
            .unwrap()
            .with_timezone(&Utc);
        let row = EventRow {
            id: Uuid::from_u128(7),
            source: "ucdp-ged".into(),
            external_id: Some("123".into()),
            channel: "import".into(),
            occurred_start: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
            occurred_end: NaiveDate::from_ymd_opt(2024, 1, 3).unwrap(),
            date_precision: "day".into(),
            reported_at: Some(t),
            latitude: Some(4.25),
            longitude: Some(-18.5),
            location_precision: Some(1),
            place_name: Some("Bangui".into()),
            locality_id: Some(Uuid::from_u128(9)),
            adm: [
                Some(Uuid::from_u128(1)),
                None,
                Some(Uuid::from_u128(9)),
                None,
            ],
            dimension: "lives".into(),
            category: "armed_violence".into(),
            source_codes: "{\"a\":\"1\"}".into(),
            killed_best: Some(3),
            killed_low: None,
            killed_high: Some(5),
            injured: None,
            abducted: Some(0),
            displaced: None,
            civilians_targeted: true,
            description: None,
            people: "[]".into(),
            reporter_contact: Some("x".into()),
            status: "verified".into(),
            duplicate_of: None,
            reliability: None,
            credibility: None,
            created_at: t,
            updated_at: t,
            created_by: None,
            owner_org: None,
            actors: vec![
                (Uuid::from_u128(3), "side_b".into()),
                (Uuid::from_u128(2), "side_a".into()),
            ],
            codes_stored: None,
        };
        let hex: String = row
            .content_hash()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "89d654e720bf08dc740ce9910d18f7ad0dcc22c0d7e1ca01c1188ec8ce5577ea"
        );
    }
}
