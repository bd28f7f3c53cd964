//! The export use-case: events matching a filter written as HXL, GeoJSON or CSV, streamed
//! from the store in batches so that memory does not grow with the number of events.
//! Callers must be allowed to read event records; whatever their role, exports carry no
//! personal data (the writer has no column for it).

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::collections::HashMap;
use std::io::Write;
use usalama_domain::{ActorId, AdminLevel};
use usalama_ingest::{EventWriter, ExportFormat, ExportPlace, ExportRecord};
use usalama_store::{EventQuery, StoreError};

/// Events read from the store per batch.
const SCAN_BATCH: usize = 1_000;

impl App {
    /// Writes every event matching `q` (its page is ignored) to `out` in `format`, oldest
    /// first, and returns how many were written. Requires a role that may read events.
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
        let mut actor_names: HashMap<ActorId, Option<String>> = HashMap::new();
        let mut write_error: Option<std::io::Error> = None;
        let store = &self.store;
        let scanned = store.scan_events(q, SCAN_BATCH, &mut |batch| {
            for p in batch {
                let e = &p.event;
                for a in e.actors.iter().take(2) {
                    if let std::collections::hash_map::Entry::Vacant(v) = actor_names.entry(a.actor)
                    {
                        v.insert(store.get_actor(a.actor)?.map(|x| x.name));
                    }
                }
                let place = |level: AdminLevel| {
                    p.path
                        .at(level)
                        .and_then(|id| locs.by_id.get(&id))
                        .map(|&i| ExportPlace {
                            code: locs.all[i].code.as_str(),
                            name: locs.all[i].name.as_str(),
                        })
                };
                let actor = |i: usize| {
                    e.actors
                        .get(i)
                        .and_then(|a| actor_names.get(&a.actor))
                        .and_then(|n| n.as_deref())
                };
                let record = ExportRecord {
                    event: e,
                    adm: [
                        place(AdminLevel::Adm1),
                        place(AdminLevel::Adm2),
                        place(AdminLevel::Adm3),
                    ],
                    actors: [actor(0), actor(1)],
                };
                if let Err(err) = writer.write(&record) {
                    write_error = Some(err);
                    return Err(StoreError::Backend(
                        "the export could not be written".into(),
                    ));
                }
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
