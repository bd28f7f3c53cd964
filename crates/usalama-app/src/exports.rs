//! The export use-case: events matching a filter written as HXL, GeoJSON or CSV, streamed
//! from the store one narrow row at a time so that memory does not grow with the number of events.
//! Callers must be allowed to read event records; whatever their role, exports carry no
//! personal data (the writer has no column for it).

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use usalama_domain::{AdminLevel, LocalityId};
use usalama_ingest::country::{self, iso3};
use usalama_ingest::{EventWriter, ExportFormat, ExportPlace, ExportRecord};
use usalama_store::{EventQuery, StoreError};

/// The ISO codes of the countries sources name, by the text they give, looked up once
/// each (an export of a million events of a few countries looks up a few names).
#[derive(Default)]
struct SourceCountries(HashMap<String, Option<&'static str>>);

impl SourceCountries {
    /// At most this many texts are kept; others are looked up each time.
    const KEPT: usize = 4_096;

    fn iso3(&mut self, text: &str) -> Option<&'static str> {
        if let Some(&code) = self.0.get(text) {
            return code;
        }
        let code = iso3(text);
        if self.0.len() < Self::KEPT {
            self.0.insert(text.to_string(), code);
        }
        code
    }

    /// The country of an event placed in none, from its source's code and name (see
    /// `ExportRow::source_country`): the ISO alpha-3 code of the first that names one,
    /// and the source's name, else the ISO name. `None` when the source names none.
    fn place<'a>(&mut self, given: &'a [Option<Cow<'a, str>>; 2]) -> Option<ExportPlace<'a>> {
        let [code, name] = given.each_ref().map(|c| c.as_deref());
        let iso = code
            .and_then(|c| self.iso3(c))
            .or_else(|| name.and_then(|n| self.iso3(n)));
        let name = name.or_else(|| iso.and_then(country::name))?;
        Some(ExportPlace {
            code: iso.unwrap_or(""),
            name,
        })
    }
}

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
        // Each country locality's ISO code (else its own code), looked up once.
        let country_codes: HashMap<LocalityId, &str> = locs
            .all
            .iter()
            .filter(|l| l.level == AdminLevel::Adm0)
            .map(|l| {
                let code = iso3(l.code.as_str())
                    .or_else(|| {
                        std::iter::once(&l.name)
                            .chain(&l.alt_names)
                            .find_map(|n| iso3(n))
                    })
                    .unwrap_or(l.code.as_str());
                (l.id, code)
            })
            .collect();
        let mut source_countries = SourceCountries::default();
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
            let country = match row.adm0.and_then(|id| locs.by_id.get(&id)) {
                Some(&i) => Some(ExportPlace {
                    code: country_codes.get(&locs.all[i].id).copied().unwrap_or(""),
                    name: locs.all[i].name.as_str(),
                }),
                None => source_countries.place(&row.source_country),
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
                country,
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
