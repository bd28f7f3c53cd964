//! The SQLite side of the export's narrow read: one statement in one read transaction,
//! oldest first, each row's columns read in place and handed over borrowed.
//!
//! An event placed in no country brings its stored source codes too (compact text), from
//! which the country they name is read in place ([`crate::codes::first_of`]).
//!
//! The order (`occurred_end`, then id) is the export's documented order; without a filter
//! SQLite walks the `events_occurred` index backwards and fetches each row from the table,
//! so the table is read in date order rather than its own (see BENCHMARKS.md for what
//! that costs at 1,000,000 events). One statement instead of keyset batches: a filter
//! that no index serves is sorted once, not once per batch.

use super::{SqliteStore, Sx};
use crate::error::StoreError;
use crate::export::{self, ExportRow, Typed, EXPORT_COLUMNS, SOURCE_COUNTRY_KEYS};
use crate::query::EventQuery;
use crate::sql::{self, Dialect};
use rusqlite::types::ValueRef;
use usalama_domain::{Casualties, EventId, LocalityId};
use uuid::Uuid;

/// One row's reader: errors name the event (its id, column 0) and the column.
struct Cols<'r, 's> {
    row: &'r rusqlite::Row<'s>,
}

impl<'r> Cols<'r, '_> {
    fn bad(&self, reason: String) -> StoreError {
        let id = match self.row.get_ref(0) {
            Ok(ValueRef::Blob(b)) => {
                Uuid::from_slice(b).map_or_else(|_| "?".into(), |u| u.to_string())
            }
            _ => "?".into(),
        };
        StoreError::InvalidRecord { id, reason }
    }

    fn opt_text(&self, i: usize, column: &str) -> Result<Option<&'r str>, StoreError> {
        match self.row.get_ref(i).sx()? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| self.bad(format!("events.{column} is not UTF-8"))),
            _ => Err(self.bad(format!("events.{column} is not text"))),
        }
    }

    fn text(&self, i: usize, column: &str) -> Result<&'r str, StoreError> {
        self.opt_text(i, column)?
            .ok_or_else(|| self.bad(format!("events.{column} is empty")))
    }

    fn int(&self, i: usize, column: &str) -> Result<Option<i64>, StoreError> {
        match self.row.get_ref(i).sx()? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(x) => Ok(Some(x)),
            _ => Err(self.bad(format!("events.{column} is not an integer"))),
        }
    }

    fn real(&self, i: usize, column: &str) -> Result<Option<f64>, StoreError> {
        match self.row.get_ref(i).sx()? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(x) => Ok(Some(x)),
            ValueRef::Integer(x) => Ok(Some(x as f64)),
            _ => Err(self.bad(format!("events.{column} is not a number"))),
        }
    }

    fn uuid(&self, i: usize, column: &str) -> Result<Option<Uuid>, StoreError> {
        match self.row.get_ref(i).sx()? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Uuid::from_slice(b)
                .map(Some)
                .map_err(|_| self.bad(format!("events.{column} is not a UUID"))),
            _ => Err(self.bad(format!("events.{column} is not a UUID"))),
        }
    }

    fn date(&self, i: usize, column: &str) -> Result<chrono::NaiveDate, StoreError> {
        let t = self.text(i, column)?;
        crate::facts::parse_iso_date(t)
            .ok_or_else(|| self.bad(format!("events.{column} '{t}' is not a date")))
    }

    fn count(&self, i: usize, column: &str) -> Result<Option<u32>, StoreError> {
        export::count(self.int(i, column)?, column).map_err(|e| self.bad(e))
    }

    /// The row as an [`ExportRow`], borrowing its text.
    fn export_row(&self) -> Result<ExportRow<'r>, StoreError> {
        let id = self
            .uuid(0, "id")?
            .ok_or_else(|| self.bad("events.id is empty".into()))?;
        let typed = Typed::parse(
            self.text(5, "date_precision")?,
            self.text(7, "dimension")?,
            self.real(12, "latitude")?,
            self.real(13, "longitude")?,
            self.int(14, "location_precision")?,
            self.text(24, "status")?,
            self.uuid(25, "duplicate_of")?,
        )
        .map_err(|e| self.bad(e))?;
        let locality = |i: usize, column: &str| -> Result<Option<LocalityId>, StoreError> {
            Ok(self.uuid(i, column)?.map(LocalityId::from_uuid))
        };
        Ok(ExportRow {
            id: EventId::from_uuid(id),
            source: self.text(1, "source")?,
            external_id: self.opt_text(2, "external_id")?,
            occurred_start: self.date(3, "occurred_start")?,
            occurred_end: self.date(4, "occurred_end")?,
            date_precision: typed.date_precision,
            category: self.text(6, "category")?,
            dimension: typed.dimension,
            adm: [
                locality(8, "adm1_id")?,
                locality(9, "adm2_id")?,
                locality(10, "adm3_id")?,
            ],
            place_name: self.opt_text(11, "place_name")?,
            point: typed.point,
            location_precision: typed.location_precision,
            casualties: Casualties {
                killed_best: self.count(15, "killed_best")?,
                killed_low: self.count(16, "killed_low")?,
                killed_high: self.count(17, "killed_high")?,
                injured: self.count(18, "injured")?,
                abducted: self.count(19, "abducted")?,
                displaced: self.count(20, "displaced")?,
            },
            civilians_targeted: self.int(21, "civilians_targeted")?.unwrap_or(0) != 0,
            actors: [
                self.opt_text(22, "actors.name")?,
                self.opt_text(23, "actors.name")?,
            ],
            status: typed.status,
            description: self.opt_text(26, "description")?,
            adm0: locality(27, "adm0_id")?,
            source_country: match self.opt_text(28, "source_codes")? {
                None => [None, None],
                Some(stored) => {
                    SOURCE_COUNTRY_KEYS.map(|keys| crate::codes::first_of(stored, keys))
                }
            },
        })
    }
}

impl SqliteStore {
    pub(super) fn export_scan(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(&ExportRow<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction().sx()?;
        let flt = sql::event_filter(q, Dialect::Sqlite);
        let mut n = 0u64;
        {
            let mut st = tx
                .prepare(&format!(
                    "SELECT {EXPORT_COLUMNS}, CASE WHEN e.adm0_id IS NULL THEN e.source_codes END \
                     FROM events e{} ORDER BY e.occurred_end, e.id",
                    flt.where_sql()
                ))
                .sx()?;
            let mut rows = st
                .query(rusqlite::params_from_iter(flt.values.iter()))
                .sx()?;
            while let Some(row) = rows.next().sx()? {
                f(&Cols { row }.export_row()?)?;
                n += 1;
            }
        }
        tx.commit().sx()?;
        Ok(n)
    }
}
