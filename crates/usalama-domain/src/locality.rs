//! Administrative areas (ADM0-ADM3) with their codes, names, parents and shapes.

use crate::error::DomainError;
use crate::ids::LocalityId;
use geo_types::{MultiPolygon, Point};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An administrative level: the country (ADM0) down to the commune (ADM3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminLevel {
    /// Country.
    Adm0,
    /// First-order division (province, prefecture, region, state).
    Adm1,
    /// Second-order division (district, sub-prefecture).
    Adm2,
    /// Third-order division (commune, sub-district).
    Adm3,
}

impl AdminLevel {
    /// All levels from the country down.
    pub const ALL: [AdminLevel; 4] = [Self::Adm0, Self::Adm1, Self::Adm2, Self::Adm3];

    /// The level as a number 0-3.
    pub fn depth(&self) -> u8 {
        *self as u8
    }
    /// The level for a depth 0-3.
    pub fn from_depth(depth: u8) -> Option<Self> {
        Self::ALL.get(depth as usize).copied()
    }
    /// The lowercase name used in URLs and files (`adm1`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Adm0 => "adm0",
            Self::Adm1 => "adm1",
            Self::Adm2 => "adm2",
            Self::Adm3 => "adm3",
        }
    }
}

impl fmt::Display for AdminLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdminLevel {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "adm0" | "0" => Ok(Self::Adm0),
            "adm1" | "1" => Ok(Self::Adm1),
            "adm2" | "2" => Ok(Self::Adm2),
            "adm3" | "3" => Ok(Self::Adm3),
            other => Err(DomainError::new(
                "level",
                format!("'{other}' is not one of adm0, adm1, adm2, adm3"),
            )),
        }
    }
}

/// A locality code: a P-code (`CF62`) or any other stable code of up to 64 letters, digits,
/// `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalityCode(String);

impl LocalityCode {
    /// Validates the code's characters and length.
    pub fn new(code: &str) -> Result<Self, DomainError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 64 {
            return Err(DomainError::new("code", "must have 1 to 64 characters"));
        }
        if let Some(c) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(DomainError::new(
                "code",
                format!("character '{c}' is not allowed (letters, digits, - _ .)"),
            ));
        }
        Ok(Self(code.to_string()))
    }
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LocalityCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<LocalityCode> for String {
    fn from(c: LocalityCode) -> String {
        c.0
    }
}

impl fmt::Display for LocalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An administrative area.
#[derive(Debug, Clone, PartialEq)]
pub struct Locality {
    /// Stable id, derived from the code by [`Locality::id_for_code`].
    pub id: LocalityId,
    /// P-code or other code, unique in an installation.
    pub code: LocalityCode,
    /// The official name.
    pub name: String,
    /// Other names and spellings, for the gazetteer.
    pub alt_names: Vec<String>,
    /// Administrative level.
    pub level: AdminLevel,
    /// The enclosing locality, one level up, where known.
    pub parent: Option<LocalityId>,
    /// Boundary in WGS 84, where known.
    pub geometry: Option<MultiPolygon<f64>>,
    /// A representative point strictly inside the area (the centroid when it is inside,
    /// else another point inside, see `usalama_ingest::boundaries::representative_point`;
    /// or one supplied by the source). Parent links by containment and reports coarsened
    /// to the area use it.
    pub centroid: Option<Point<f64>>,
}

impl Locality {
    /// The id every installation gives to the locality with this code.
    pub fn id_for_code(code: &LocalityCode) -> LocalityId {
        LocalityId::derived(code.as_str())
    }

    /// Builds a locality, checking the name, the level/parent relation and that every
    /// coordinate is a valid WGS 84 position.
    pub fn new(
        code: LocalityCode,
        name: &str,
        level: AdminLevel,
        parent: Option<LocalityId>,
        geometry: Option<MultiPolygon<f64>>,
        centroid: Option<Point<f64>>,
    ) -> Result<Self, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(DomainError::new("name", "must have 1 to 200 characters"));
        }
        if level == AdminLevel::Adm0 && parent.is_some() {
            return Err(DomainError::new("parent", "a country (adm0) has no parent"));
        }
        if let Some(g) = &geometry {
            for poly in &g.0 {
                for c in poly
                    .exterior()
                    .coords()
                    .chain(poly.interiors().iter().flat_map(|r| r.coords()))
                {
                    if !(-90.0..=90.0).contains(&c.y) || !(-180.0..=180.0).contains(&c.x) {
                        return Err(DomainError::new(
                            "geometry",
                            format!("coordinate ({}, {}) is not WGS 84 lon/lat", c.x, c.y),
                        ));
                    }
                }
            }
        }
        if let Some(c) = &centroid {
            if !(-90.0..=90.0).contains(&c.y()) || !(-180.0..=180.0).contains(&c.x()) {
                return Err(DomainError::new("centroid", "is not a WGS 84 lon/lat"));
            }
        }
        let id = Self::id_for_code(&code);
        if parent == Some(id) {
            return Err(DomainError::new(
                "parent",
                "a locality cannot be its own parent",
            ));
        }
        Ok(Self {
            id,
            code,
            name: name.to_string(),
            alt_names: Vec::new(),
            level,
            parent,
            geometry,
            centroid,
        })
    }

    /// Adds alternative names, dropping blanks and duplicates of the name.
    pub fn with_alt_names(mut self, names: impl IntoIterator<Item = String>) -> Self {
        for n in names {
            let n = n.trim().to_string();
            if !n.is_empty() && n != self.name && !self.alt_names.contains(&n) {
                self.alt_names.push(n);
            }
        }
        self
    }
}

/// Where an event sits in the administrative hierarchy: its locality at each level, from the
/// country (index 0) down to ADM3 (index 3). Levels below the event's placement are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LocalityPath(pub [Option<LocalityId>; 4]);

impl LocalityPath {
    /// The deepest locality set, if any.
    pub fn deepest(&self) -> Option<LocalityId> {
        self.0.iter().rev().find_map(|l| *l)
    }
    /// The locality at `level`.
    pub fn at(&self, level: AdminLevel) -> Option<LocalityId> {
        self.0[level.depth() as usize]
    }
    /// Whether no locality is set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn codes_are_validated() {
        assert!(LocalityCode::new("CF62").is_ok());
        assert!(LocalityCode::new("").is_err());
        assert_eq!(LocalityCode::new("CF 62").unwrap_err().field, "code");
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!("ADM2".parse::<AdminLevel>().unwrap(), AdminLevel::Adm2);
        assert!("adm4".parse::<AdminLevel>().is_err());
        assert!(AdminLevel::Adm1 < AdminLevel::Adm3);
    }

    #[test]
    fn rejects_projected_coordinates_and_self_parent() {
        let code = LocalityCode::new("X1").unwrap();
        let bad = MultiPolygon(vec![
            polygon![(x: 500000.0, y: 10.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)],
        ]);
        let err = Locality::new(code.clone(), "X", AdminLevel::Adm1, None, Some(bad), None);
        assert_eq!(err.unwrap_err().field, "geometry");
        let own = Locality::id_for_code(&code);
        let err = Locality::new(code, "X", AdminLevel::Adm1, Some(own), None, None);
        assert_eq!(err.unwrap_err().field, "parent");
    }
}
