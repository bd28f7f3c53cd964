//! The PostgreSQL side of the index recompute's narrow scan: one statement bound to a
//! portal in a repeatable-read, read-only transaction, fetched a batch at a time.

use super::{PgStore, Px};
use crate::error::StoreError;
use crate::facts::{self, CategoryCodes, FactBatch, IndexFact};
use chrono::NaiveDate;
use usalama_domain::{AdminLevel, LocalityId};
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

    pub(super) fn facts_scan(
        &self,
        source: &str,
        level: AdminLevel,
        batch: usize,
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let batch = batch.clamp(1, crate::MAX_SCAN_BATCH);
        let column = facts::level_column(level);
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        let portal = tx
            .bind(
                &format!(
                    "SELECT id, {column}, occurred_end, dimension, category, killed_best, displaced, \
                     civilians_targeted FROM events \
                     WHERE source = $1 AND status NOT IN ('rejected', 'duplicate')"
                ),
                &[&source],
            )
            .px()?;
        let mut codes = CategoryCodes::default();
        let mut buf: Vec<IndexFact> = Vec::with_capacity(batch);
        let mut n = 0u64;
        loop {
            let rows = tx.query_portal(&portal, batch as i32).px()?;
            if rows.is_empty() {
                break;
            }
            buf.clear();
            for row in &rows {
                let bad = |reason: String| StoreError::InvalidRecord {
                    id: row
                        .try_get::<_, Uuid>(0)
                        .map_or_else(|_| "?".into(), |u| u.to_string()),
                    reason,
                };
                let locality: Option<Uuid> = row.try_get(1).px()?;
                let occurred_end: NaiveDate = row.try_get(2).px()?;
                let dim: &str = row.try_get(3).px()?;
                let dimension = facts::parse_dimension(dim)
                    .ok_or_else(|| bad(format!("events.dimension '{dim}' is unknown")))?;
                let category = codes.number(row.try_get(4).px()?).map_err(bad)?;
                let killed: Option<i32> = row.try_get(5).px()?;
                let displaced: Option<i32> = row.try_get(6).px()?;
                buf.push(IndexFact {
                    locality: locality.map(LocalityId::from_uuid),
                    occurred_end,
                    dimension,
                    category,
                    killed_best: facts::count(killed.map(i64::from), "killed_best").map_err(bad)?,
                    displaced: facts::count(displaced.map(i64::from), "displaced").map_err(bad)?,
                    civilians_targeted: row.try_get(7).px()?,
                });
            }
            n += buf.len() as u64;
            f(FactBatch {
                categories: &codes.codes,
                facts: &buf,
            })?;
            if rows.len() < batch {
                break;
            }
        }
        drop(portal);
        tx.commit().px()?;
        Ok(n)
    }
}
