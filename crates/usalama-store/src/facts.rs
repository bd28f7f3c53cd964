//! The narrow read of the index recompute: per countable event only what the panel of one
//! administrative level needs (its locality at that level, end date, dimension, category,
//! best fatality estimate, people displaced, civilians targeted), streamed in batches
//! without ordering, so that a million events are read in one pass of the table.

use chrono::NaiveDate;
use usalama_domain::{Dimension, LocalityId, LocalityPath};

/// One countable event as the index recompute reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexFact {
    /// The event's locality at the level asked for; `None` when it is not placed that deep.
    pub locality: Option<LocalityId>,
    /// The last day the event may have happened.
    pub occurred_end: NaiveDate,
    /// Its human-security dimension.
    pub dimension: Dimension,
    /// Its category, as a position in [`FactBatch::categories`].
    pub category: u16,
    /// Best estimate of people killed; `None` when unknown.
    pub killed_best: Option<u32>,
    /// People displaced; `None` when unknown.
    pub displaced: Option<u32>,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
}

/// One batch of [`IndexFact`]s with the category codes they point to. The list of codes
/// only grows during a scan: a position keeps its code from batch to batch.
#[derive(Debug, Clone, Copy)]
pub struct FactBatch<'a> {
    /// Category codes seen so far in the scan.
    pub categories: &'a [String],
    /// The facts.
    pub facts: &'a [IndexFact],
}

/// One countable event as the application's index and forecast panels read it: like
/// [`IndexFact`], with its locality at every level, its location precision and its point
/// instead of one locality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelFact {
    /// The event's locality at each administrative level, the country first.
    pub path: LocalityPath,
    /// The last day the event may have happened.
    pub occurred_end: NaiveDate,
    /// Its human-security dimension.
    pub dimension: Dimension,
    /// Its category, as a position in [`PanelFactBatch::categories`].
    pub category: u16,
    /// Best estimate of people killed; `None` when unknown.
    pub killed_best: Option<u32>,
    /// People displaced; `None` when unknown.
    pub displaced: Option<u32>,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
    /// UCDP-style location precision code 1–7, if known.
    pub where_prec: Option<u8>,
    /// The stored point (latitude, longitude), if any.
    pub point: Option<(f64, f64)>,
}

/// An event's stored point and placement: what placing it again against changed
/// boundaries reads ([`crate::Store::scan_placements`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementFact {
    /// The event.
    pub id: usalama_domain::EventId,
    /// Its stored point (latitude, longitude).
    pub point: (f64, f64),
    /// UCDP-style location precision code 1–7, if known.
    pub where_prec: Option<u8>,
    /// The locality it is placed in (`events.locality_id`).
    pub locality: Option<usalama_domain::LocalityId>,
    /// Its locality at each administrative level, the country first.
    pub path: LocalityPath,
}

/// One batch of [`PanelFact`]s with the category codes they point to (see [`FactBatch`]).
#[derive(Debug, Clone, Copy)]
pub struct PanelFactBatch<'a> {
    /// Category codes seen so far in the scan.
    pub categories: &'a [String],
    /// The facts.
    pub facts: &'a [PanelFact],
}

/// The location precision code stored in `events.location_precision`, refused when it is
/// not 0–255.
pub(crate) fn precision(v: Option<i64>) -> Result<Option<u8>, String> {
    v.map(|x| {
        u8::try_from(x)
            .map_err(|_| format!("events.location_precision is {x}, not a precision code"))
    })
    .transpose()
}

/// Where a backend's scan hands its decoded rows, with the category codes met so far.
pub(crate) type RowSink<'a, T> =
    dyn FnMut(&[String], &[T]) -> Result<(), crate::error::StoreError> + 'a;

/// Category codes met during a scan, each given a small number once.
#[derive(Debug, Default)]
pub(crate) struct CategoryCodes {
    pub(crate) codes: Vec<String>,
}

impl CategoryCodes {
    /// The number of `code`, adding it when new (a taxonomy has a few dozen codes, so a
    /// linear search beats hashing).
    pub(crate) fn number(&mut self, code: &str) -> Result<u16, String> {
        if let Some(i) = self.codes.iter().position(|c| c == code) {
            return Ok(i as u16);
        }
        if self.codes.len() >= usize::from(u16::MAX) {
            return Err("more than 65,535 distinct categories".into());
        }
        self.codes.push(code.to_string());
        Ok((self.codes.len() - 1) as u16)
    }
}

/// The dimension stored as text.
pub(crate) fn parse_dimension(s: &str) -> Option<Dimension> {
    match s {
        "lives" => Some(Dimension::Lives),
        "livelihood" => Some(Dimension::Livelihood),
        "dignity" => Some(Dimension::Dignity),
        _ => None,
    }
}

/// A `YYYY-MM-DD` date read without allocating.
pub(crate) fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return s.parse().ok();
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// The column holding the locality at `level`.
pub(crate) fn level_column(level: usalama_domain::AdminLevel) -> &'static str {
    use usalama_domain::AdminLevel::*;
    match level {
        Adm0 => "adm0_id",
        Adm1 => "adm1_id",
        Adm2 => "adm2_id",
        Adm3 => "adm3_id",
    }
}

/// The count stored in `column`, refused when negative or too large.
pub(crate) fn count(v: Option<i64>, column: &str) -> Result<Option<u32>, String> {
    v.map(|x| u32::try_from(x).map_err(|_| format!("events.{column} is {x}, not a count")))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_codes() {
        assert_eq!(
            parse_iso_date("2022-06-30"),
            NaiveDate::from_ymd_opt(2022, 6, 30)
        );
        assert_eq!(parse_iso_date("2022-02-30"), None);
        assert_eq!(parse_iso_date("2022-0a-01"), None);
        let mut c = CategoryCodes::default();
        assert_eq!(c.number("a"), Ok(0));
        assert_eq!(c.number("b"), Ok(1));
        assert_eq!(c.number("a"), Ok(0));
        assert_eq!(
            count(Some(-1), "killed_best").unwrap_err(),
            "events.killed_best is -1, not a count"
        );
    }
}
