//! Measured indicators (food prices, water access, schools open…) per locality and period.

use crate::error::DomainError;
use crate::ids::LocalityId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One measured value of an indicator for a locality over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorObservation {
    /// Where.
    pub locality: LocalityId,
    /// First day of the period the value describes.
    pub period_start: NaiveDate,
    /// Last day of the period (inclusive).
    pub period_end: NaiveDate,
    /// Indicator code, e.g. `food_price_index` or `schools_open_share`.
    pub indicator: String,
    /// The measured value.
    pub value: f64,
    /// Unit, e.g. `XAF/kg`, `%`, `people`.
    pub unit: String,
    /// Who measured it.
    pub source: String,
}

impl IndicatorObservation {
    /// Validates a finite value, an ordered period and a code of `[a-z0-9_]`.
    pub fn new(
        locality: LocalityId,
        period_start: NaiveDate,
        period_end: NaiveDate,
        indicator: &str,
        value: f64,
        unit: &str,
        source: &str,
    ) -> Result<Self, DomainError> {
        if indicator.is_empty()
            || !indicator
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(DomainError::new(
                "indicator",
                "use lowercase letters, digits and _",
            ));
        }
        if !value.is_finite() {
            return Err(DomainError::new("value", "must be a finite number"));
        }
        if period_end < period_start {
            return Err(DomainError::new("period_end", "is before period_start"));
        }
        if source.trim().is_empty() {
            return Err(DomainError::new("source", "is required"));
        }
        Ok(Self {
            locality,
            period_start,
            period_end,
            indicator: indicator.to_string(),
            value,
            unit: unit.trim().to_string(),
            source: source.trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_fields() {
        let l = LocalityId::derived("CF62");
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(IndicatorObservation::new(
            l,
            d("2022-01-01"),
            d("2022-01-31"),
            "food_price",
            1.5,
            "XAF/kg",
            "WFP"
        )
        .is_ok());
        assert_eq!(
            IndicatorObservation::new(l, d("2022-02-01"), d("2022-01-31"), "x", 1.0, "", "WFP")
                .unwrap_err()
                .field,
            "period_end"
        );
        assert_eq!(
            IndicatorObservation::new(
                l,
                d("2022-01-01"),
                d("2022-01-31"),
                "Food Price",
                1.0,
                "",
                "WFP"
            )
            .unwrap_err()
            .field,
            "indicator"
        );
        assert_eq!(
            IndicatorObservation::new(
                l,
                d("2022-01-01"),
                d("2022-01-31"),
                "x",
                f64::NAN,
                "",
                "WFP"
            )
            .unwrap_err()
            .field,
            "value"
        );
    }
}
