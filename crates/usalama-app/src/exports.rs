//! The export use-case: events matching a filter written as HXL, GeoJSON or CSV, streamed
//! from the store one narrow row at a time so that memory does not grow with the number of events.
//! Callers must be allowed to read event records; whatever their role, exports carry no
//! personal data (the writer has no column for it).

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::io::Write;
use usalama_ingest::{EventWriter, ExportFormat, ExportPlace, ExportRecord};
use usalama_store::{EventQuery, StoreError};

impl App {
    /// Writes every event matching `q` (its page is ignored) to `out` in `format`, oldest
    /// first (by end date, then id), and returns how many were written. Requires a role
    /// that may read events. The store hands over only the written columns of one row at
    /// a time ([`usalama_store::Store::scan_export_rows`]), borrowed, so nothing is built
    /// per event and memory stays the same whatever their number.
    pub fn export_events(
        &self,
        who: &Principal,
        q: &EventQuery,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<u64, AppError> {
        self.require(who, usalama_domain::Permission::ExportEvents)?;
        let q = &EventQuery {
            visibility: self.visibility(who)?,
            ..q.clone()
        };
        let locs = self.localities()?;
        let mut writer =
            EventWriter::new(out, format).map_err(|e| AppError::Export(e.to_string()))?;
        let mut write_error: Option<std::io::Error> = None;
        let scanned = self.store.scan_export_rows(q, &mut |row| {
            let place = |i: usize| {
                row.adm[i]
                    .and_then(|id| locs.by_id.get(&id))
                    .map(|&i| ExportPlace {
                        code: locs.all[i].code.as_str(),
                        name: locs.all[i].name.as_str(),
                    })
            };
            let record = ExportRecord {
                id: row.id,
                source: row.source,
                external_id: row.external_id,
                occurred_start: row.occurred_start,
                occurred_end: row.occurred_end,
                date_precision: row.date_precision,
                category: row.category,
                dimension: row.dimension,
                adm: [place(0), place(1), place(2)],
                place_name: row.place_name,
                point: row.point,
                location_precision: row.location_precision,
                casualties: row.casualties,
                civilians_targeted: row.civilians_targeted,
                actors: row.actors,
                status: row.status,
                description: row.description,
            };
            if let Err(err) = writer.write(&record) {
                write_error = Some(err);
                return Err(StoreError::Backend(
                    "the export could not be written".into(),
                ));
            }
            Ok(())
        });
        if let Some(e) = write_error {
            return Err(AppError::Export(e.to_string()));
        }
        scanned?;
        let (_, n) = writer
            .finish()
            .map_err(|e| AppError::Export(e.to_string()))?;
        Ok(n)
    }
}
