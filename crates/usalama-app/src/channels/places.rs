//! Places for the channels: the gazetteer and the point-in-polygon index built once from
//! the cached localities (and again when boundaries change), the public place search, and
//! the status of a report by its reference.

use super::reference::normalize_reference;
use crate::error::AppError;
use crate::queries::Localities;
use crate::App;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use usalama_domain::{AdminLevel, GeoPoint, LocationPrecision};
use usalama_ingest::gazetteer::{Gazetteer, MatchKind, PlaceMatch, Resolution};
use usalama_ingest::Placer;

/// Longest place text searched.
const MAX_QUERY: usize = 100;
/// Most candidates a search returns.
pub const MAX_PLACES: usize = 20;

/// The gazetteer and the placer of one set of localities.
pub(crate) struct PlaceIndex {
    localities: Arc<Localities>,
    pub placer: Placer,
    pub gazetteer: Gazetteer,
    by_code: HashMap<String, usize>,
}

impl PlaceIndex {
    fn new(localities: Arc<Localities>) -> Self {
        let placer = Placer::new(&localities.all);
        let gazetteer = Gazetteer::new(&localities.all);
        let by_code = localities
            .all
            .iter()
            .enumerate()
            .map(|(i, l)| (l.code.as_str().to_ascii_uppercase(), i))
            .collect();
        Self {
            localities,
            placer,
            gazetteer,
            by_code,
        }
    }

    /// The locality with this code (any case), as a match.
    pub fn by_code(&self, code: &str) -> Option<PlaceMatch> {
        let l = &self.localities.all[*self.by_code.get(&code.trim().to_ascii_uppercase())?];
        let mut within = Vec::new();
        let mut cur = l.parent;
        while let Some(p) = cur.and_then(|p| self.localities.by_id.get(&p)) {
            let parent = &self.localities.all[*p];
            if parent.level != AdminLevel::Adm0 {
                within.push(parent.name.clone());
            }
            cur = parent.parent;
            if within.len() > 4 {
                break;
            }
        }
        Some(PlaceMatch {
            id: l.id,
            code: l.code.clone(),
            name: l.name.clone(),
            matched_name: l.name.clone(),
            level: l.level,
            within,
            kind: MatchKind::Exact,
            distance: 0,
        })
    }

    /// The centroid of a locality and the location precision a point there has (the
    /// coarsened point of a report whose exact point is sensitive).
    pub fn centroid_of(
        &self,
        id: usalama_domain::LocalityId,
    ) -> Option<(GeoPoint, LocationPrecision)> {
        let l = &self.localities.all[*self.localities.by_id.get(&id)?];
        let c = l.centroid?;
        let code = match l.level {
            AdminLevel::Adm3 => 2,
            AdminLevel::Adm2 => 3,
            AdminLevel::Adm1 => 4,
            _ => 6,
        };
        Some((
            GeoPoint::new(c.y(), c.x()).ok()?,
            LocationPrecision::new(code).ok()?,
        ))
    }

    /// For a point outside every boundary: the name of the locality the point would be in
    /// with latitude and longitude swapped, if any.
    pub fn swapped_hit(&self, p: GeoPoint) -> Option<String> {
        let swapped = GeoPoint::new(p.lon(), p.lat()).ok()?;
        let id = self
            .placer
            .place(swapped, Some(LocationPrecision::EXACT))
            .deepest()?;
        self.localities
            .by_id
            .get(&id)
            .map(|&i| self.localities.all[i].name.clone())
    }
}

/// The place index, rebuilt when the cached localities change.
#[derive(Default)]
pub(crate) struct PlaceCache {
    inner: RwLock<Option<Arc<PlaceIndex>>>,
}

/// Where a report stands, as its reporter may see it: nothing but the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// Received, not yet reviewed.
    Received,
    /// Confirmed by an analyst.
    Verified,
    /// Not retained.
    Rejected,
    /// Merged with another report of the same incident.
    Merged,
}

impl ReportStatus {
    /// `received`, `verified`, `rejected` or `merged`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::Merged => "merged",
        }
    }
}

impl App {
    /// The place index for the current localities.
    pub(crate) fn place_index(&self) -> Result<Arc<PlaceIndex>, AppError> {
        let locs = self.localities()?;
        if let Some(ix) = self.intake.places.inner.read().ok().and_then(|g| g.clone()) {
            if Arc::ptr_eq(&ix.localities, &locs) {
                return Ok(ix);
            }
        }
        let ix = Arc::new(PlaceIndex::new(locs));
        if let Ok(mut g) = self.intake.places.inner.write() {
            *g = Some(ix.clone());
        }
        Ok(ix)
    }

    /// Localities whose name or alternative name matches `text` (case, accents, hyphens
    /// and administrative words ignored): exact matches, then prefixes, then near
    /// spellings; at most `limit` (1 to 20). Anyone may search: locality names are public.
    pub fn search_places(&self, text: &str, limit: usize) -> Result<Vec<PlaceMatch>, AppError> {
        if text.chars().count() > MAX_QUERY {
            return Err(AppError::invalid(
                "q",
                format!("is longer than {MAX_QUERY} characters"),
            ));
        }
        if !(1..=MAX_PLACES).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PLACES}"),
            ));
        }
        Ok(self.place_index()?.gazetteer.search(text, limit))
    }

    /// What a typed place name refers to: one locality, several, or none.
    pub fn resolve_place(&self, text: &str) -> Result<Resolution, AppError> {
        if text.chars().count() > MAX_QUERY {
            return Ok(Resolution::NotFound);
        }
        Ok(self.place_index()?.gazetteer.resolve(text))
    }

    /// The status of the report with this reference, for its reporter; anyone holding the
    /// reference may ask, and learns nothing else. `None` for an unknown or malformed
    /// reference.
    pub fn report_status(&self, reference: &str) -> Result<Option<ReportStatus>, AppError> {
        let Some(r) = normalize_reference(reference) else {
            return Ok(None);
        };
        Ok(self.store.report_status(&r)?.map(|s| match s.as_str() {
            "verified" => ReportStatus::Verified,
            "rejected" => ReportStatus::Rejected,
            "duplicate" => ReportStatus::Merged,
            _ => ReportStatus::Received,
        }))
    }
}
