//! The SQLite side of the index recompute's narrow scan: one statement over `events`, its
//! columns read in place (no per-row allocation), reading the table in its own order.
//!
//! Without statistics SQLite's planner answers `WHERE source = ?` (and a `GROUP BY
//! source`) through the `(source, external_id)` index, fetching every row by its rowid in
//! the index's order: at 1,000,000 events that is a million random page reads where one
//! sequential pass of the table does. The scan reads the table `NOT INDEXED`, and the
//! count of each source's events comes from the indexes alone.

use super::{SqliteStore, Sx};
use crate::error::StoreError;
use crate::facts::{
    self, CategoryCodes, FactBatch, IndexFact, PanelFact, PanelFactBatch, PlacementFact,
};
use chrono::NaiveDate;
use rusqlite::types::ValueRef;
use usalama_domain::{AdminLevel, EventId, LocalityId, LocalityPath};
use uuid::Uuid;

/// Why one row could not be read, naming the event and the column.
fn bad(row: &rusqlite::Row<'_>, reason: String) -> StoreError {
    let id = match row.get_ref(0) {
        Ok(ValueRef::Blob(b)) => Uuid::from_slice(b).map_or_else(|_| "?".into(), |u| u.to_string()),
        _ => "?".into(),
    };
    StoreError::InvalidRecord { id, reason }
}

fn text<'a>(row: &'a rusqlite::Row<'_>, i: usize, column: &str) -> Result<&'a str, StoreError> {
    match row.get_ref(i).sx()? {
        ValueRef::Text(t) => {
            std::str::from_utf8(t).map_err(|_| bad(row, format!("events.{column} is not UTF-8")))
        }
        _ => Err(bad(row, format!("events.{column} is not text"))),
    }
}

fn int(row: &rusqlite::Row<'_>, i: usize, column: &str) -> Result<Option<i64>, StoreError> {
    match row.get_ref(i).sx()? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(x) => Ok(Some(x)),
        _ => Err(bad(row, format!("events.{column} is not an integer"))),
    }
}

/// The locality id in column `i` (named `column`), if any.
fn locality(
    row: &rusqlite::Row<'_>,
    i: usize,
    column: &str,
) -> Result<Option<LocalityId>, StoreError> {
    match row.get_ref(i).sx()? {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => Ok(Some(LocalityId::from_uuid(
            Uuid::from_slice(b).map_err(|_| bad(row, format!("events.{column} is not a UUID")))?,
        ))),
        _ => Err(bad(row, format!("events.{column} is not a UUID"))),
    }
}

fn real(row: &rusqlite::Row<'_>, i: usize, column: &str) -> Result<Option<f64>, StoreError> {
    match row.get_ref(i).sx()? {
        ValueRef::Null => Ok(None),
        ValueRef::Real(x) => Ok(Some(x)),
        ValueRef::Integer(x) => Ok(Some(x as f64)),
        _ => Err(bad(row, format!("events.{column} is not a number"))),
    }
}

impl SqliteStore {
    /// Countable events per source: every event per source from the covering
    /// `(source, external_id)` index, less the rejected and duplicate ones found through
    /// the partial status index.
    pub(super) fn facts_sources(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction().sx()?;
        let count = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
            let mut st = tx.prepare(sql).sx()?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .sx()?;
            rows.collect::<Result<Vec<_>, _>>().sx()
        };
        let mut all = count("SELECT source, count(*) FROM events GROUP BY source")?;
        let excluded = count(
            // `status <> 'verified'` is the partial index's condition: with it the planner
            // takes `events_status` (without the index, as during a bulk load, it scans).
            "SELECT source, count(*) FROM events \
             WHERE status <> 'verified' AND status IN ('rejected', 'duplicate') GROUP BY source",
        )?;
        for (source, n) in excluded {
            if let Some(a) = all.iter_mut().find(|a| a.0 == source) {
                a.1 -= n.min(a.1);
            }
        }
        all.retain(|a| a.1 > 0);
        tx.commit().sx()?;
        Ok(all)
    }

    /// The first and last end dates of the source's countable events: each the first row
    /// of the `(source, occurred_end, id)` index, in one direction, whose event counts.
    pub(super) fn facts_span(
        &self,
        source: &str,
    ) -> Result<Option<(NaiveDate, NaiveDate)>, StoreError> {
        let c = self.conn()?;
        let ends: (Option<String>, Option<String>) = c
            .query_row(
                "SELECT (SELECT occurred_end FROM events \
                          WHERE source = ?1 AND status NOT IN ('rejected', 'duplicate') \
                          ORDER BY occurred_end LIMIT 1), \
                        (SELECT occurred_end FROM events \
                          WHERE source = ?1 AND status NOT IN ('rejected', 'duplicate') \
                          ORDER BY occurred_end DESC LIMIT 1)",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .sx()?;
        let date = |s: String| {
            facts::parse_iso_date(&s).ok_or_else(|| StoreError::InvalidRecord {
                id: format!("events of {source}"),
                reason: format!("events.occurred_end '{s}' is not a date"),
            })
        };
        match ends {
            (Some(first), Some(last)) => Ok(Some((date(first)?, date(last)?))),
            _ => Ok(None),
        }
    }

    /// Runs `sql` (its parameters: `params`, the source first) in one read transaction,
    /// decodes each row with `decode` and hands the rows to `f` in batches of at most
    /// `batch`, with the category codes met so far. Returns the number of rows.
    fn scan_rows<T>(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        batch: usize,
        decode: impl Fn(&rusqlite::Row<'_>, &mut CategoryCodes) -> Result<T, StoreError>,
        f: &mut facts::RowSink<'_, T>,
    ) -> Result<u64, StoreError> {
        let batch = batch.clamp(1, crate::MAX_SCAN_BATCH);
        let mut c = self.conn()?;
        let tx = c.transaction().sx()?;
        let mut codes = CategoryCodes::default();
        let mut buf: Vec<T> = Vec::with_capacity(batch);
        let mut n = 0u64;
        {
            let mut st = tx.prepare(sql).sx()?;
            let mut rows = st.query(params).sx()?;
            while let Some(row) = rows.next().sx()? {
                buf.push(decode(row, &mut codes)?);
                if buf.len() == batch {
                    n += buf.len() as u64;
                    f(&codes.codes, &buf)?;
                    buf.clear();
                }
            }
        }
        if !buf.is_empty() {
            n += buf.len() as u64;
            f(&codes.codes, &buf)?;
        }
        tx.commit().sx()?;
        Ok(n)
    }

    pub(super) fn facts_scan(
        &self,
        source: &str,
        level: AdminLevel,
        batch: usize,
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.facts_scan_rows(source, level, batch, None, f)
    }

    /// Part `part` of `parts` of [`facts_scan`](Self::facts_scan): the events whose rowid
    /// falls in the `part`-th of `parts` equal slices of `1..=max(rowid)` (the table is
    /// read in its own order, from the slice's first page on, so the parts read disjoint
    /// runs of pages). A rowid outside `1..=max(rowid)` is in no slice but the last
    /// (reaching `i64::MAX`) or the first (from `i64::MIN`).
    pub(super) fn facts_scan_part(
        &self,
        source: &str,
        level: AdminLevel,
        batch: usize,
        (part, parts): (usize, usize),
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let parts = parts.max(1);
        if part >= parts {
            return Ok(0);
        }
        let max: i64 = {
            let c = self.conn()?;
            c.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
                r.get(0)
            })
            .sx()?
        };
        let bound = |k: usize| -> i64 {
            // The first rowid of slice k (k in 1..parts), in i128 against overflow.
            (i128::from(max.max(0)) * k as i128 / parts as i128) as i64 + 1
        };
        let first = if part == 0 { i64::MIN } else { bound(part) };
        let last = if part + 1 == parts {
            i64::MAX
        } else {
            bound(part + 1) - 1
        };
        self.facts_scan_rows(source, level, batch, Some((first, last)), f)
    }

    fn facts_scan_rows(
        &self,
        source: &str,
        level: AdminLevel,
        batch: usize,
        rowids: Option<(i64, i64)>,
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let column = facts::level_column(level);
        let range = if rowids.is_some() {
            " AND rowid BETWEEN ?2 AND ?3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, {column}, occurred_end, dimension, category, killed_best, displaced, \
             civilians_targeted FROM events NOT INDEXED \
             WHERE source = ?1 AND status NOT IN ('rejected', 'duplicate'){range}"
        );
        let (first, last) = rowids.unwrap_or((0, 0));
        let with_range: [&dyn rusqlite::ToSql; 3] = [&source, &first, &last];
        let params = if rowids.is_some() {
            &with_range[..]
        } else {
            &with_range[..1]
        };
        let decode = |row: &rusqlite::Row<'_>, codes: &mut CategoryCodes| {
            let end = text(row, 2, "occurred_end")?;
            let occurred_end = facts::parse_iso_date(end)
                .ok_or_else(|| bad(row, format!("events.occurred_end '{end}' is not a date")))?;
            let dim = text(row, 3, "dimension")?;
            Ok(IndexFact {
                locality: locality(row, 1, column)?,
                occurred_end,
                dimension: facts::parse_dimension(dim)
                    .ok_or_else(|| bad(row, format!("events.dimension '{dim}' is unknown")))?,
                category: codes
                    .number(text(row, 4, "category")?)
                    .map_err(|e| bad(row, e))?,
                killed_best: facts::count(int(row, 5, "killed_best")?, "killed_best")
                    .map_err(|e| bad(row, e))?,
                displaced: facts::count(int(row, 6, "displaced")?, "displaced")
                    .map_err(|e| bad(row, e))?,
                civilians_targeted: int(row, 7, "civilians_targeted")?.unwrap_or(0) != 0,
            })
        };
        self.scan_rows(&sql, params, batch, decode, &mut |categories, facts| {
            f(FactBatch { categories, facts })
        })
    }

    pub(super) fn panel_facts_scan(
        &self,
        source: &str,
        batch: usize,
        f: &mut dyn FnMut(PanelFactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = "SELECT id, adm0_id, adm1_id, adm2_id, adm3_id, occurred_end, dimension, \
                   category, killed_best, displaced, civilians_targeted, location_precision, \
                   latitude, longitude FROM events NOT INDEXED \
                   WHERE source = ?1 AND status NOT IN ('rejected', 'duplicate')";
        let decode = |row: &rusqlite::Row<'_>, codes: &mut CategoryCodes| {
            let end = text(row, 5, "occurred_end")?;
            let occurred_end = facts::parse_iso_date(end)
                .ok_or_else(|| bad(row, format!("events.occurred_end '{end}' is not a date")))?;
            let dim = text(row, 6, "dimension")?;
            let point = match (real(row, 12, "latitude")?, real(row, 13, "longitude")?) {
                (Some(lat), Some(lon)) => Some((lat, lon)),
                _ => None,
            };
            Ok(PanelFact {
                path: LocalityPath([
                    locality(row, 1, "adm0_id")?,
                    locality(row, 2, "adm1_id")?,
                    locality(row, 3, "adm2_id")?,
                    locality(row, 4, "adm3_id")?,
                ]),
                occurred_end,
                dimension: facts::parse_dimension(dim)
                    .ok_or_else(|| bad(row, format!("events.dimension '{dim}' is unknown")))?,
                category: codes
                    .number(text(row, 7, "category")?)
                    .map_err(|e| bad(row, e))?,
                killed_best: facts::count(int(row, 8, "killed_best")?, "killed_best")
                    .map_err(|e| bad(row, e))?,
                displaced: facts::count(int(row, 9, "displaced")?, "displaced")
                    .map_err(|e| bad(row, e))?,
                civilians_targeted: int(row, 10, "civilians_targeted")?.unwrap_or(0) != 0,
                where_prec: facts::precision(int(row, 11, "location_precision")?)
                    .map_err(|e| bad(row, e))?,
                point,
            })
        };
        self.scan_rows(sql, &[&source], batch, decode, &mut |categories, facts| {
            f(PanelFactBatch { categories, facts })
        })
    }

    pub(super) fn placements_scan(
        &self,
        batch: usize,
        f: &mut dyn FnMut(&[PlacementFact]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = "SELECT id, latitude, longitude, location_precision, locality_id, adm0_id, \
                   adm1_id, adm2_id, adm3_id FROM events NOT INDEXED \
                   WHERE latitude IS NOT NULL AND longitude IS NOT NULL";
        let decode = |row: &rusqlite::Row<'_>, _: &mut CategoryCodes| {
            let id = match row.get_ref(0).sx()? {
                ValueRef::Blob(b) => Uuid::from_slice(b).ok(),
                _ => None,
            }
            .ok_or_else(|| bad(row, "events.id is not a UUID".into()))?;
            let (Some(lat), Some(lon)) = (real(row, 1, "latitude")?, real(row, 2, "longitude")?)
            else {
                return Err(bad(row, "events.latitude or longitude is null".into()));
            };
            Ok(PlacementFact {
                id: EventId::from_uuid(id),
                point: (lat, lon),
                where_prec: facts::precision(int(row, 3, "location_precision")?)
                    .map_err(|e| bad(row, e))?,
                locality: locality(row, 4, "locality_id")?,
                path: LocalityPath([
                    locality(row, 5, "adm0_id")?,
                    locality(row, 6, "adm1_id")?,
                    locality(row, 7, "adm2_id")?,
                    locality(row, 8, "adm3_id")?,
                ]),
            })
        };
        self.scan_rows(sql, &[], batch, decode, &mut |_, facts| f(facts))
    }
}
