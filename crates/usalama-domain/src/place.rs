//! Points on the earth and how precisely an event is located.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// A WGS 84 point, latitude and longitude in decimal degrees, both finite and in range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

/// What a coordinate far outside degrees most likely is.
const PROJECTED: &str = " (coordinates in metres of a projected system? give WGS 84 degrees, \
     EPSG:4326)";

impl GeoPoint {
    /// Validates latitude in [-90, 90] and longitude in [-180, 180]. The error says what
    /// the values most likely are when they are not degrees of WGS 84: the two swapped,
    /// longitudes counted from 0 to 360, or projected coordinates in metres.
    pub fn new(lat: f64, lon: f64) -> Result<Self, DomainError> {
        let metres = |x: f64| x.is_finite() && x.abs() > 360.0;
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            let hint = if metres(lat) {
                PROJECTED
            } else if lat.is_finite() && (-90.0..=90.0).contains(&lon) {
                " (are latitude and longitude swapped?)"
            } else {
                ""
            };
            return Err(DomainError::new(
                "latitude",
                format!("{lat} is not between -90 and 90{hint}"),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            let hint = if metres(lon) {
                PROJECTED
            } else if lon > 180.0 {
                " (longitudes counted from 0 to 360: subtract 360 from those over 180)"
            } else {
                ""
            };
            return Err(DomainError::new(
                "longitude",
                format!("{lon} is not between -180 and 180{hint}"),
            ));
        }
        Ok(Self { lat, lon })
    }
    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }
    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }
}

/// How precisely an event's point is known, with the semantics of UCDP GED's `where_prec`:
///
/// 1. exact location; 2. within about 25 km of a known place; 3. only the second-order
///    administrative division (district) is known; 4. only the first-order division
///    (province) is known; 5. a part of the country larger than a province, or a linear
///    feature (road, river, border); 6. only the country is known; 7. international waters
///    or airspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct LocationPrecision(u8);

impl LocationPrecision {
    /// The exact location is known.
    pub const EXACT: Self = Self(1);

    /// Validates a code in 1..=7.
    pub fn new(code: u8) -> Result<Self, DomainError> {
        if (1..=7).contains(&code) {
            Ok(Self(code))
        } else {
            Err(DomainError::new(
                "location_precision",
                format!("{code} is not a where_prec code 1-7"),
            ))
        }
    }
    /// The UCDP `where_prec` code.
    pub fn code(&self) -> u8 {
        self.0
    }
    /// The deepest administrative level an event with this precision may be placed in:
    /// 3 for exact or near points, 2 for district-only, 1 for province-only and 0 beyond.
    pub fn deepest_admin_level(&self) -> u8 {
        match self.0 {
            1 | 2 => 3,
            3 => 2,
            4 => 1,
            _ => 0,
        }
    }
}

impl TryFrom<u8> for LocationPrecision {
    type Error = DomainError;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<LocationPrecision> for u8 {
    fn from(p: LocationPrecision) -> u8 {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_and_nan() {
        assert_eq!(GeoPoint::new(91.0, 0.0).unwrap_err().field, "latitude");
        assert_eq!(GeoPoint::new(0.0, 181.0).unwrap_err().field, "longitude");
        assert!(GeoPoint::new(f64::NAN, 0.0).is_err());
        assert!(GeoPoint::new(-90.0, 180.0).is_ok());
    }

    #[test]
    fn errors_say_what_the_values_most_likely_are() {
        let reason = |lat, lon| GeoPoint::new(lat, lon).unwrap_err().reason;
        assert!(reason(95.2, 4.1).ends_with("(are latitude and longitude swapped?)"));
        assert!(reason(95.2, 120.0).ends_with("between -90 and 90"));
        assert!(reason(4.1, 355.5).contains("subtract 360"));
        assert!(reason(4.1, -181.0).ends_with("between -180 and 180"));
        assert!(reason(4.1, 2_345_678.9).contains("EPSG:4326"));
        assert!(reason(512_345.0, 2_345_678.9).contains("metres"));
        assert!(reason(f64::NAN, 0.0).ends_with("between -90 and 90"));
    }

    #[test]
    fn precision_limits_admin_level() {
        assert!(LocationPrecision::new(0).is_err());
        assert!(LocationPrecision::new(8).is_err());
        let levels: Vec<u8> = (1..=7)
            .map(|c| LocationPrecision::new(c).unwrap().deepest_admin_level())
            .collect();
        assert_eq!(levels, vec![3, 3, 2, 1, 0, 0, 0]);
    }
}
