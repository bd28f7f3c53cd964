//! The PostgreSQL side of the index recompute's narrow scan: one statement bound to a
//! portal in a repeatable-read, read-only transaction, fetched a batch at a time.

use super::{PgStore, Px};
use crate::error::StoreError;
use crate::facts::{
    self, CategoryCodes, FactBatch, IndexFact, PanelFact, PanelFactBatch, PlacementFact,
};
use chrono::NaiveDate;
use usalama_domain::{AdminLevel, EventId, LocalityId, LocalityPath};
use uuid::Uuid;

impl PgStore {
    /// Countable events per source, in one statement.
    pub(super) fn facts_sources(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut c = self.conn()?;
        let rows = c
            .query(
                "SELECT source, count(*) FROM events \
                 WHERE status NOT IN ('rejected', 'duplicate') GROUP BY source",
                &[],
            )
            .px()?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, String>(0).px()?,
                    r.try_get::<_, i64>(1).px()? as u64,
                ))
            })
            .collect()
    }

    /// The first and last end dates of the source's countable events, each the first
    /// row of the `(source, occurred_end, id)` index, in one direction, whose event counts.
    pub(super) fn facts_span(
        &self,
        source: &str,
    ) -> Result<Option<(NaiveDate, NaiveDate)>, StoreError> {
        let mut c = self.conn()?;
        let row = c
            .query_one(
                "SELECT (SELECT occurred_end FROM events \
                          WHERE source = $1 AND status NOT IN ('rejected', 'duplicate') \
                          ORDER BY occurred_end LIMIT 1), \
                        (SELECT occurred_end FROM events \
                          WHERE source = $1 AND status NOT IN ('rejected', 'duplicate') \
                          ORDER BY occurred_end DESC LIMIT 1)",
                &[&source],
            )
            .px()?;
        let first: Option<NaiveDate> = row.try_get(0).px()?;
        let last: Option<NaiveDate> = row.try_get(1).px()?;
        Ok(first.zip(last))
    }

    /// Binds `sql` (its parameters: `params`) to a portal in a repeatable-read,
    /// read-only transaction, decodes each row with `decode` and hands the rows to `f` a
    /// batch of at most `batch` at a time, with the category codes met so far. Returns the
    /// number of rows.
    fn scan_rows<T>(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        batch: usize,
        decode: impl Fn(&postgres::Row, &mut CategoryCodes) -> Result<T, StoreError>,
        f: &mut facts::RowSink<'_, T>,
    ) -> Result<u64, StoreError> {
        let batch = batch.clamp(1, crate::MAX_SCAN_BATCH);
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        let portal = tx.bind(sql, params).px()?;
        let mut codes = CategoryCodes::default();
        let mut buf: Vec<T> = Vec::with_capacity(batch);
        let mut n = 0u64;
        loop {
            let rows = tx.query_portal(&portal, batch as i32).px()?;
            if rows.is_empty() {
                break;
            }
            buf.clear();
            for row in &rows {
                buf.push(decode(row, &mut codes)?);
            }
            n += buf.len() as u64;
            f(&codes.codes, &buf)?;
            if rows.len() < batch {
                break;
            }
        }
        drop(portal);
        tx.commit().px()?;
        Ok(n)
    }

    pub(super) fn facts_scan(
        &self,
        source: &str,
        level: AdminLevel,
        batch: usize,
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let column = facts::level_column(level);
        let sql = format!(
            "SELECT id, {column}, occurred_end, dimension, category, killed_best, displaced, \
             civilians_targeted FROM events \
             WHERE source = $1 AND status NOT IN ('rejected', 'duplicate')"
        );
        let decode = |row: &postgres::Row, codes: &mut CategoryCodes| {
            let bad = |reason| bad(row, reason);
            let locality: Option<Uuid> = row.try_get(1).px()?;
            let dim: &str = row.try_get(3).px()?;
            let killed: Option<i32> = row.try_get(5).px()?;
            let displaced: Option<i32> = row.try_get(6).px()?;
            Ok(IndexFact {
                locality: locality.map(LocalityId::from_uuid),
                occurred_end: row.try_get(2).px()?,
                dimension: facts::parse_dimension(dim)
                    .ok_or_else(|| bad(format!("events.dimension '{dim}' is unknown")))?,
                category: codes.number(row.try_get(4).px()?).map_err(bad)?,
                killed_best: facts::count(killed.map(i64::from), "killed_best").map_err(bad)?,
                displaced: facts::count(displaced.map(i64::from), "displaced").map_err(bad)?,
                civilians_targeted: row.try_get(7).px()?,
            })
        };
        self.scan_rows(&sql, &[&source], batch, decode, &mut |categories, facts| {
            f(FactBatch { categories, facts })
        })
    }

    pub(super) fn panel_facts_scan(
        &self,
        source: &str,
        batch: usize,
        f: &mut dyn FnMut(PanelFactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = "SELECT id, adm0_id, adm1_id, adm2_id, adm3_id, occurred_end, dimension, category, \
                   killed_best, displaced, civilians_targeted, location_precision, latitude, longitude \
                   FROM events WHERE source = $1 AND status NOT IN ('rejected', 'duplicate')";
        let decode = |row: &postgres::Row, codes: &mut CategoryCodes| {
            let bad = |reason| bad(row, reason);
            let at = |i: usize| -> Result<Option<LocalityId>, StoreError> {
                Ok(row
                    .try_get::<_, Option<Uuid>>(i)
                    .px()?
                    .map(LocalityId::from_uuid))
            };
            let occurred_end: NaiveDate = row.try_get(5).px()?;
            let dim: &str = row.try_get(6).px()?;
            let killed: Option<i32> = row.try_get(8).px()?;
            let displaced: Option<i32> = row.try_get(9).px()?;
            let precision: Option<i32> = row.try_get(11).px()?;
            let lat: Option<f64> = row.try_get(12).px()?;
            let lon: Option<f64> = row.try_get(13).px()?;
            Ok(PanelFact {
                path: LocalityPath([at(1)?, at(2)?, at(3)?, at(4)?]),
                occurred_end,
                dimension: facts::parse_dimension(dim)
                    .ok_or_else(|| bad(format!("events.dimension '{dim}' is unknown")))?,
                category: codes.number(row.try_get(7).px()?).map_err(bad)?,
                killed_best: facts::count(killed.map(i64::from), "killed_best").map_err(bad)?,
                displaced: facts::count(displaced.map(i64::from), "displaced").map_err(bad)?,
                civilians_targeted: row.try_get(10).px()?,
                where_prec: facts::precision(precision.map(i64::from)).map_err(bad)?,
                point: lat.zip(lon),
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
                   adm1_id, adm2_id, adm3_id FROM events \
                   WHERE latitude IS NOT NULL AND longitude IS NOT NULL";
        let decode = |row: &postgres::Row, _: &mut CategoryCodes| {
            let at = |i: usize| -> Result<Option<LocalityId>, StoreError> {
                Ok(row
                    .try_get::<_, Option<Uuid>>(i)
                    .px()?
                    .map(LocalityId::from_uuid))
            };
            let precision: Option<i32> = row.try_get(3).px()?;
            Ok(PlacementFact {
                id: EventId::from_uuid(row.try_get(0).px()?),
                point: (row.try_get(1).px()?, row.try_get(2).px()?),
                where_prec: facts::precision(precision.map(i64::from)).map_err(|e| bad(row, e))?,
                locality: at(4)?,
                path: LocalityPath([at(5)?, at(6)?, at(7)?, at(8)?]),
            })
        };
        self.scan_rows(sql, &[], batch, decode, &mut |_, facts| f(facts))
    }
}

/// Why one row could not be read, naming the event.
fn bad(row: &postgres::Row, reason: String) -> StoreError {
    StoreError::InvalidRecord {
        id: row
            .try_get::<_, Uuid>(0)
            .map_or_else(|_| "?".into(), |u| u.to_string()),
        reason,
    }
}
