//! The PostgreSQL side of the export's narrow read: one statement, oldest first, bound to
//! a portal in a repeatable-read, read-only transaction and fetched a batch at a time;
//! each row is handed over borrowed.

use super::{params, PgStore, Px};
use crate::error::StoreError;
use crate::export::{self, ExportRow, Typed, EXPORT_COLUMNS, SOURCE_COUNTRY_KEYS};
use crate::query::EventQuery;
use crate::sql::{self, Dialect};
use postgres::Row;
use std::borrow::Cow;
use usalama_domain::{Casualties, EventId, LocalityId};
use uuid::Uuid;

/// Rows fetched from the portal at a time.
const FETCH: i32 = 1_000;

/// The row as an [`ExportRow`], borrowing its text; errors name the event and column.
fn export_row(row: &Row) -> Result<ExportRow<'_>, StoreError> {
    let bad = |reason: String| StoreError::InvalidRecord {
        id: row
            .try_get::<_, Uuid>(0)
            .map_or_else(|_| "?".into(), |u| u.to_string()),
        reason,
    };
    let id: Uuid = row.try_get(0).px()?;
    let int = |i: usize| -> Result<Option<i64>, StoreError> {
        Ok(row.try_get::<_, Option<i32>>(i).px()?.map(i64::from))
    };
    let count = |i: usize, column: &str| -> Result<Option<u32>, StoreError> {
        export::count(int(i)?, column).map_err(bad)
    };
    let typed = Typed::parse(
        row.try_get(5).px()?,
        row.try_get(7).px()?,
        row.try_get(12).px()?,
        row.try_get(13).px()?,
        int(14)?,
        row.try_get(24).px()?,
        row.try_get(25).px()?,
    )
    .map_err(bad)?;
    let locality = |i: usize| -> Result<Option<LocalityId>, StoreError> {
        Ok(row
            .try_get::<_, Option<Uuid>>(i)
            .px()?
            .map(LocalityId::from_uuid))
    };
    Ok(ExportRow {
        id: EventId::from_uuid(id),
        source: row.try_get(1).px()?,
        external_id: row.try_get(2).px()?,
        occurred_start: row.try_get(3).px()?,
        occurred_end: row.try_get(4).px()?,
        date_precision: typed.date_precision,
        category: row.try_get(6).px()?,
        dimension: typed.dimension,
        adm: [locality(8)?, locality(9)?, locality(10)?],
        place_name: row.try_get(11).px()?,
        point: typed.point,
        location_precision: typed.location_precision,
        casualties: Casualties {
            killed_best: count(15, "killed_best")?,
            killed_low: count(16, "killed_low")?,
            killed_high: count(17, "killed_high")?,
            injured: count(18, "injured")?,
            abducted: count(19, "abducted")?,
            displaced: count(20, "displaced")?,
        },
        civilians_targeted: row.try_get(21).px()?,
        actors: [row.try_get(22).px()?, row.try_get(23).px()?],
        status: typed.status,
        description: row.try_get(26).px()?,
        adm0: locality(27)?,
        source_country: [
            row.try_get::<_, Option<&str>>(28).px()?.map(Cow::Borrowed),
            row.try_get::<_, Option<&str>>(29).px()?.map(Cow::Borrowed),
        ],
    })
}

/// The two columns of [`ExportRow::source_country`]: for an event in no country, the
/// first of each kind of [`SOURCE_COUNTRY_KEYS`] in its `jsonb` source codes.
fn source_country_columns() -> String {
    SOURCE_COUNTRY_KEYS
        .map(|keys| {
            let values: Vec<String> = keys
                .iter()
                .map(|k| format!("e.source_codes->>'{k}'"))
                .collect();
            format!(
                "CASE WHEN e.adm0_id IS NULL THEN COALESCE({}) END",
                values.join(", ")
            )
        })
        .join(", ")
}

impl PgStore {
    pub(super) fn export_scan(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(&ExportRow<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .px()?;
        let flt = sql::event_filter(q, Dialect::Postgres);
        let portal = tx
            .bind(
                &format!(
                    "SELECT {EXPORT_COLUMNS}, {} FROM events e{} ORDER BY e.occurred_end, e.id",
                    source_country_columns(),
                    flt.where_sql()
                ),
                &params(&flt.values),
            )
            .px()?;
        let mut n = 0u64;
        loop {
            let rows = tx.query_portal(&portal, FETCH).px()?;
            for row in &rows {
                f(&export_row(row)?)?;
                n += 1;
            }
            if rows.len() < FETCH as usize {
                break;
            }
        }
        drop(portal);
        tx.commit().px()?;
        Ok(n)
    }
}
