//! Import use-cases: administrative boundaries (linked to their parents and fed to the
//! placement index) and events from UCDP GED, ACLED, HXL and GeoJSON files (placed by
//! point-in-polygon, else by the P-codes or names a row gives, and stored idempotently in
//! batches). Each returns what it did in the words an analyst expects.

use crate::auth::Principal;
use crate::error::AppError;
use crate::queries::Localities;
use crate::App;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use usalama_domain::{
    Actor, ActorId, AdminLevel, EventId, GeoPoint, Locality, LocalityPath, LocationPrecision,
};
use usalama_ingest::{
    BoundaryFields, DateOrder, ImportRow, JsonSource, Placer, Problem, ReadOptions,
};
use usalama_store::{EventBatch, EventQuery, PageRequest, PlacedEvent, UpsertCounts};

/// Events written per transaction, by default.
pub(crate) const BATCH: usize = 10_000;

/// A batch ready to write: validated, placed events (flattened and hashed on the reading
/// thread) and the actors they name.
struct Prepared {
    events: EventBatch,
    actors: Vec<Actor>,
    /// Rows read so far, for the progress bar.
    seen: u64,
}

/// What an event import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// New events.
    pub imported: u64,
    /// Events that existed and changed.
    pub updated: u64,
    /// Events that existed unchanged.
    pub unchanged: u64,
    /// Rows rejected, each named in `problems`.
    pub problems: Vec<Problem>,
    /// Events that could not be placed in any locality.
    pub unplaced: u64,
    /// What the reader noticed about the file as a whole, for the person importing it.
    pub notes: Vec<String>,
}

impl ImportReport {
    /// Rows rejected.
    pub fn rejected(&self) -> u64 {
        self.problems.len() as u64
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {}, updated {}, unchanged {}, rejected {}",
            self.imported,
            self.updated,
            self.unchanged,
            self.rejected()
        )
    }
}

/// Whether a point outside every boundary, which falls on the path `swapped` once its
/// latitude and longitude are swapped, may be one of those boundaries' points: unless the
/// row names a country and that path's country is known to be another one (both brought
/// to ISO 3166-1 codes, [`usalama_ingest::country::iso3`]: the boundaries' code `CF` and a
/// GED row's "Central African Republic" are one country). A row of another country holds
/// a point of that country (an event in Niger beside the boundaries of the Central
/// African Republic), to be imported unplaced, not rejected.
fn may_be_swapped(country: Option<&str>, swapped: &LocalityPath, locs: &Localities) -> bool {
    use usalama_ingest::country::iso3;
    let Some(named) = country.map(str::trim).filter(|c| !c.is_empty()) else {
        return true;
    };
    let Some(adm0) = swapped.0[0].and_then(|id| locs.by_id.get(&id)) else {
        return true;
    };
    let adm0 = &locs.all[*adm0];
    let theirs = iso3(named);
    let ours = iso3(adm0.code.as_str()).or_else(|| {
        std::iter::once(&adm0.name)
            .chain(&adm0.alt_names)
            .find_map(|n| iso3(n))
    });
    !matches!((theirs, ours), (Some(a), Some(b)) if a != b)
}

/// What a boundary import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundaryReport {
    /// Localities written at the imported level.
    pub localities: UpsertCounts,
    /// Countries (ADM0) derived from the file's properties.
    pub countries: UpsertCounts,
    /// Features rejected.
    pub problems: Vec<Problem>,
    /// Codes of localities whose parent could not be found by code or containment.
    pub orphans: Vec<String>,
    /// Localities of the level above stored when the file was imported (none: the
    /// orphans wait for that level's file).
    pub parents_stored: u64,
    /// Localities of the level below, imported earlier without a parent, now linked to
    /// one of the imported level.
    pub adopted: u64,
    /// Events whose placement changed.
    pub replaced_events: u64,
}

impl fmt::Display for BoundaryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.localities;
        write!(
            f,
            "imported {}, updated {}, unchanged {}, rejected {}",
            l.inserted,
            l.updated,
            l.unchanged,
            self.problems.len()
        )?;
        if !self.orphans.is_empty() {
            let why = if self.parents_stored == 0 {
                "until the level above is imported, which links them"
            } else {
                "(no area of the level above has their parent's code or holds their point)"
            };
            write!(f, "; {} without a parent {why}", self.orphans.len())?;
        }
        if self.adopted > 0 {
            write!(f, "; {} of the level below linked to it", self.adopted)?;
        }
        if self.replaced_events > 0 {
            write!(f, "; {} events re-placed", self.replaced_events)?;
        }
        Ok(())
    }
}

impl App {
    fn require_importer(&self, who: &Principal) -> Result<(), AppError> {
        self.require(who, usalama_domain::Permission::Import)
    }

    /// Imports one level of administrative boundaries from GeoJSON read from `input`
    /// ([`usalama_ingest::read_boundaries`]), links each to its
    /// parent (by the parent code in the file, else by containment of its representative
    /// point, which lies inside it), links the localities of the level below that were
    /// imported earlier without a parent, and re-places stored events.
    pub fn import_boundaries(
        &self,
        who: &Principal,
        input: impl std::io::BufRead,
        level: AdminLevel,
        fields: &BoundaryFields,
    ) -> Result<BoundaryReport, AppError> {
        self.require_importer(who)?;
        if level == AdminLevel::Adm0 && fields.parent_code.is_some() {
            return Err(AppError::invalid(
                "parent-code-field",
                "a country has no parent",
            ));
        }
        let set = usalama_ingest::read_boundaries(input, level, fields)?;
        // The localities as stored now (not as another process may have left the cache),
        // each held once: with large boundary files their geometries are most of the
        // import's memory.
        self.cache.invalidate();
        let existing = self.localities()?;
        let mut report = BoundaryReport {
            problems: set.problems,
            ..Default::default()
        };
        let mut known_ids: HashSet<_> = existing.all.iter().map(|l| l.id).collect();
        if level != AdminLevel::Adm0 && !set.countries.is_empty() {
            let new_countries: Vec<Locality> = set
                .countries
                .into_iter()
                .filter(|c| !known_ids.contains(&c.id))
                .collect();
            report.countries = self.store.upsert_localities(&new_countries)?;
            known_ids.extend(new_countries.iter().map(|c| c.id));
        }
        // Containment fallback: the level above, as stored.
        let parents = existing
            .all
            .iter()
            .filter(|l| l.level.depth() + 1 == level.depth());
        let parent_placer = Placer::new(parents.clone());
        report.parents_stored = parents.count() as u64;
        let mut localities = Vec::with_capacity(set.features.len());
        for f in set.features {
            // A code names one locality: the same code at another level would replace that
            // locality (a province imported again as a district, its own parent).
            if let Some(other) = existing
                .by_id
                .get(&f.locality.id)
                .map(|&i| &existing.all[i])
                .filter(|o| o.level != level)
            {
                report.problems.push(Problem::new(
                    f.row,
                    "code",
                    format!(
                        "'{}' is already the code of '{}', a level-{n} locality, and one code \
                         cannot name two localities: if this file holds level-{n} areas, import \
                         it with --level adm{n}, else name its own code property with \
                         --code-field",
                        other.code,
                        other.name,
                        n = other.level.depth(),
                    ),
                ));
                continue;
            }
            let mut l = f.into_linked_locality();
            if level == AdminLevel::Adm0 {
                l.parent = None;
            } else if l.parent.is_none_or(|p| !known_ids.contains(&p)) {
                l.parent = l
                    .centroid
                    .and_then(|c| usalama_domain::GeoPoint::new(c.y(), c.x()).ok())
                    .and_then(|p| {
                        let depth = level.depth() - 1;
                        parent_placer
                            .place(p, None)
                            .0
                            .get(depth as usize)
                            .copied()
                            .flatten()
                    })
                    .filter(|p| *p != l.id);
                if l.parent.is_none() {
                    report.orphans.push(l.code.to_string());
                }
            }
            localities.push(l);
        }
        report.localities = self.store.upsert_localities(&localities)?;
        report.adopted = self.adopt_orphans(level, &existing.all, &localities)?;
        // Placing the events again reads every locality afresh and prepares them all:
        // what this import held is let go first.
        drop((localities, parent_placer, existing));
        self.cache.invalidate();
        report.replaced_events = self.replace_all_events()?;
        self.audit(
            who,
            "import.boundaries",
            ("import", format!("adm{}", level.depth())),
            serde_json::json!({
                "inserted": report.localities.inserted,
                "updated": report.localities.updated,
                "unchanged": report.localities.unchanged,
                "problems": report.problems.len(),
                "replaced_events": report.replaced_events,
            }),
        )?;
        Ok(report)
    }

    /// Links the `stored` localities one level below `level` that have no parent (their
    /// level imported first) to the one of `parents`, the localities just imported at
    /// `level`, that holds their representative point; returns how many were linked. So
    /// the result does not depend on the order the levels are imported in.
    fn adopt_orphans(
        &self,
        level: AdminLevel,
        stored: &[Locality],
        parents: &[Locality],
    ) -> Result<u64, AppError> {
        if level == AdminLevel::Adm3 {
            return Ok(0);
        }
        let orphans: Vec<Locality> = stored
            .iter()
            .filter(|l| l.level.depth() == level.depth() + 1 && l.parent.is_none())
            .cloned()
            .collect();
        if orphans.is_empty() {
            return Ok(0);
        }
        let placer = Placer::new(parents);
        let depth = level.depth() as usize;
        let adopted: Vec<Locality> = orphans
            .into_iter()
            .filter_map(|mut l| {
                let c = l.centroid?;
                let p = GeoPoint::new(c.y(), c.x()).ok()?;
                l.parent = Some(placer.place(p, None).0.get(depth).copied().flatten()?);
                Some(l)
            })
            .collect();
        self.store.upsert_localities(&adopted)?;
        Ok(adopted.len() as u64)
    }

    /// Places every stored event that has a point again against the current boundaries,
    /// reading only the points and placements (in the store's own order) and writing only
    /// the events whose placement changed; returns how many changed.
    pub fn replace_all_events(&self) -> Result<u64, AppError> {
        let placer = self.placer()?;
        let mut changed = 0;
        self.store.scan_placements(10_000, &mut |facts| {
            let moved: Vec<(EventId, LocalityPath)> = facts
                .iter()
                .filter_map(|f| {
                    let point = GeoPoint::new(f.point.0, f.point.1).ok()?;
                    let precision = f.where_prec.and_then(|c| LocationPrecision::new(c).ok());
                    let path = placer.place(point, precision);
                    (path != f.path || path.deepest() != f.locality).then_some((f.id, path))
                })
                .collect();
            if !moved.is_empty() {
                changed += self.store.set_placements(&moved)?;
            }
            Ok(())
        })?;
        self.cache.events_changed();
        self.alerts_data_changed();
        Ok(changed)
    }

    fn placer(&self) -> Result<Placer, AppError> {
        Ok(Placer::new(&self.localities()?.all))
    }

    /// Imports UCDP GED events from JSON: UCDP's GeoJSON, a page of the UCDP API or an
    /// array of GED records ([`usalama_ingest::read_ged_json`]), read twice and streamed.
    pub fn import_ucdp_json(
        &self,
        who: &Principal,
        json: JsonSource,
        date_order: Option<DateOrder>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        self.require_importer(who)?;
        let rows =
            usalama_ingest::read_ged_json(json, &self.taxonomy, self.read_options(date_order))?;
        let r = self.store_rows(rows, None, progress)?;
        self.audit_import(who, "ucdp", &r)?;
        Ok(r)
    }

    /// Imports UCDP GED events from CSV, streaming.
    pub fn import_ucdp_csv(
        &self,
        who: &Principal,
        reader: &mut (dyn std::io::Read + Send),
        date_order: Option<DateOrder>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        self.require_importer(who)?;
        let rows =
            usalama_ingest::read_ged_csv(reader, &self.taxonomy, self.read_options(date_order))?;
        let r = self.store_rows(rows, None, progress)?;
        self.audit_import(who, "ucdp", &r)?;
        Ok(r)
    }

    /// Imports an ACLED export CSV (either layout, UTF-8 or Latin-1), streaming.
    pub fn import_acled_csv(
        &self,
        who: &Principal,
        reader: &mut (dyn std::io::Read + Send),
        date_order: Option<DateOrder>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        self.require_importer(who)?;
        let rows =
            usalama_ingest::read_acled_csv(reader, &self.taxonomy, self.read_options(date_order))?;
        let r = self.store_rows(rows, None, progress)?;
        self.audit_import(who, "acled", &r)?;
        Ok(r)
    }

    /// Imports ACLED events from the JSON of ACLED's API (or an array of its records),
    /// read twice and streamed.
    pub fn import_acled_json(
        &self,
        who: &Principal,
        json: JsonSource,
        date_order: Option<DateOrder>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        self.require_importer(who)?;
        let rows =
            usalama_ingest::read_acled_json(json, &self.taxonomy, self.read_options(date_order))?;
        let r = self.store_rows(rows, None, progress)?;
        self.audit_import(who, "acled", &r)?;
        Ok(r)
    }

    /// Imports an HXL-tagged CSV of events, streaming; the events get `source` (e.g.
    /// `hxl`, or the name of the dataset).
    pub fn import_hxl_csv(
        &self,
        who: &Principal,
        reader: &mut (dyn std::io::Read + Send),
        source: &str,
        date_order: Option<DateOrder>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        self.require_importer(who)?;
        check_source(source)?;
        let rows = usalama_ingest::read_hxl_csv(
            reader,
            &self.taxonomy,
            source,
            self.read_options(date_order),
        )?;
        let r = self.store_rows(rows, who.org(), progress)?;
        self.audit_import(who, "hxl", &r)?;
        Ok(r)
    }

    /// Imports a GeoJSON FeatureCollection of events, read twice and streamed; the events
    /// get `source`.
    pub fn import_events_geojson(
        &self,
        who: &Principal,
        json: JsonSource,
        source: &str,
        date_order: Option<DateOrder>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        self.require_importer(who)?;
        check_source(source)?;
        let rows = usalama_ingest::read_events_geojson(
            json,
            &self.taxonomy,
            source,
            self.read_options(date_order),
        )?;
        let r = self.store_rows(rows, who.org(), progress)?;
        self.audit_import(who, "geojson", &r)?;
        Ok(r)
    }

    /// How the event readers read a file now: the dates in `date_order` when the person
    /// importing tells it, else in the order the file's dates show.
    fn read_options(&self, date_order: Option<DateOrder>) -> ReadOptions {
        ReadOptions::at(self.now()).date_order(date_order)
    }

    /// [`store_events`](Self::store_events) of a reader's rows, with what the reader noticed
    /// about the file in the report's notes.
    fn store_rows(
        &self,
        rows: usalama_ingest::Rows<impl Iterator<Item = Result<ImportRow, Problem>> + Send>,
        owner: Option<usalama_domain::OrgId>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        let notes = rows.notes().to_vec();
        let mut r = self.store_events(rows, owner, progress)?;
        r.notes.extend(notes);
        Ok(r)
    }

    /// Validates, places and stores imported rows in batches. A row with coordinates is
    /// placed by point-in-polygon; one without (or whose point is outside every boundary)
    /// by the P-codes, else the names, it gives. A point outside every boundary that would
    /// fall inside one with latitude and longitude swapped is rejected, naming the place.
    /// Validates, places and stores imported rows. Reading, checking and placing run on
    /// a second thread while this one writes the previous batch, so the two halves of the
    /// work (about equal in a profile) overlap on a two-core machine.
    ///
    /// The events belong to `owner`: `None` marks public open data (UCDP and ACLED always,
    /// and files the operator imports), else the importing account's organisation.
    fn store_events(
        &self,
        rows: impl Iterator<Item = Result<ImportRow, Problem>> + Send,
        owner: Option<usalama_domain::OrgId>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport, AppError> {
        let locs = self.localities()?;
        let placer = Placer::new(&locs.all);
        let names = crate::places::PlaceIndex::new(&locs.all);
        let has_boundaries = locs.all.iter().any(|l| l.geometry.is_some());
        let batch_size = self.import_batch;
        // Events already stored: a bulk load pays off once this import has written as many.
        let stored = self
            .store
            .list_events(&EventQuery {
                page: PageRequest {
                    limit: 1,
                    after: None,
                },
                ..Default::default()
            })?
            .total;
        // Two batches in flight at most: memory stays bounded whatever the file's size.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Prepared>(1);
        // Written batches go back to the reading thread, which frees them: its allocator
        // arena holds their memory, and freeing it on the writing thread took that arena's
        // lock against the reader and 7 % of the writer's time at 1,000,000 events.
        let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Prepared>();
        std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let mut report = ImportReport::default();
                let mut batch: Vec<PlacedEvent> = Vec::with_capacity(batch_size);
                let mut actors: BTreeMap<ActorId, Actor> = BTreeMap::new();
                let mut seen = 0u64;
                for row in rows {
                    seen += 1;
                    let ImportRow {
                        row: row_no,
                        event: imported,
                        place,
                    } = match row {
                        Ok(i) => i,
                        Err(p) => {
                            report.problems.push(p);
                            continue;
                        }
                    };
                    let mut data = imported.data;
                    if data.point.is_some_and(|p| p.lat() == 0.0 && p.lon() == 0.0) {
                        report.problems.push(Problem::new(
                            row_no,
                            "latitude",
                            "latitude 0 and longitude 0 is a placeholder, not a place (it is \
                             in the sea off West Africa): leave both cells empty when the \
                             point is not known",
                        ));
                        continue;
                    }
                    let mut path = data
                        .point
                        .map(|p| placer.place(p, data.location_precision))
                        .unwrap_or_default();
                    if let Some(p) = data.point.filter(|_| path.is_empty() && has_boundaries) {
                        // Flagged, never silently fixed: a point outside every boundary that
                        // would fall inside one with latitude and longitude swapped.
                        let swapped = usalama_domain::GeoPoint::new(p.lon(), p.lat())
                            .map(|q| placer.place(q, data.location_precision))
                            .unwrap_or_default();
                        let inside = swapped
                            .deepest()
                            .and_then(|id| locs.by_id.get(&id))
                            .filter(|_| may_be_swapped(place.country.as_deref(), &swapped, &locs));
                        if let Some(inside) = inside {
                            report.problems.push(Problem::new(
                                row_no,
                                "latitude",
                                format!(
                                    "the point (latitude {}, longitude {}) is outside every boundary but would be in {} ({}) with latitude and longitude swapped: check the columns",
                                    p.lat(),
                                    p.lon(),
                                    locs.all[*inside].name,
                                    locs.all[*inside].code
                                ),
                            ));
                            continue;
                        }
                    }
                    if path.is_empty() && !place.is_empty() {
                        if let Some(id) = names.resolve(&place) {
                            path = placer.path_of(id);
                        }
                    }
                    if path.deepest().is_none() {
                        report.unplaced += 1;
                    }
                    data.locality = path.deepest();
                    data.meta.owner_org = owner;
                    match data.validate(&self.taxonomy) {
                        Ok(event) => {
                            for a in imported.actors {
                                actors.entry(a.id).or_insert(a);
                            }
                            batch.push(PlacedEvent { event, path });
                        }
                        Err(errs) => {
                            for e in errs {
                                report
                                    .problems
                                    .push(Problem::new(row_no, e.field, e.reason));
                            }
                        }
                    }
                    if batch.len() >= batch_size {
                        spent_rx.try_iter().for_each(drop);
                        // Flattening and hashing happen here, beside the writer, which
                        // then only runs statements.
                        let events = EventBatch::new(&batch);
                        batch.clear();
                        let full = Prepared {
                            events,
                            actors: std::mem::take(&mut actors).into_values().collect(),
                            seen,
                        };
                        if tx.send(full).is_err() {
                            // The writer stopped on an error; it reports it.
                            return report;
                        }
                    }
                }
                let _ = tx.send(Prepared {
                    events: EventBatch::new(&batch),
                    actors: actors.into_values().collect(),
                    seen,
                });
                report
            });
            let mut written = ImportReport::default();
            let mut failure = None;
            let (mut bulk_tried, mut bulk) = (false, false);
            for prepared in rx.iter() {
                // A large import into a small store: drop the secondary indexes now and
                // rebuild them once at the end (see `Store::begin_bulk_load`).
                if !bulk_tried && written.imported >= (batch_size as u64).max(stored) {
                    bulk_tried = true;
                    match self.store.begin_bulk_load(self.now()) {
                        Ok(on) => bulk = on,
                        Err(e) => {
                            failure = Some(e.into());
                            break;
                        }
                    }
                }
                if let Err(e) = self.flush(&prepared, &mut written) {
                    failure = Some(e);
                    break;
                }
                progress(prepared.seen);
                // Once the reader has finished, the batch is freed here.
                let _ = spent_tx.send(prepared);
            }
            // Dropping the receiver stops the reader at its next batch.
            drop(rx);
            // The indexes come back whether the import finished or failed.
            if bulk {
                if let Err(e) = self.store.end_bulk_load() {
                    failure.get_or_insert(e.into());
                }
            }
            let mut report = producer
                .join()
                .map_err(|_| AppError::invalid("file", "the import's reader thread failed"))?;
            if let Some(e) = failure {
                return Err(e);
            }
            report.imported = written.imported;
            report.updated = written.updated;
            report.unchanged = written.unchanged;
            Ok(report)
        })
    }

    /// Writes one prepared batch: its actors, then its events.
    fn flush(&self, batch: &Prepared, report: &mut ImportReport) -> Result<(), AppError> {
        if !batch.actors.is_empty() {
            self.store.upsert_actors(&batch.actors)?;
        }
        if batch.events.is_empty() {
            return Ok(());
        }
        let c = self.store.upsert_event_batch(&batch.events, self.now())?;
        self.cache.events_changed();
        self.alerts_data_changed();
        report.imported += c.inserted;
        report.updated += c.updated;
        report.unchanged += c.unchanged;
        Ok(())
    }
}

/// Checks a source name given for an import (`[a-z0-9_-]`, 1-40 characters).
fn check_source(source: &str) -> Result<(), AppError> {
    if source.is_empty()
        || source.len() > 40
        || !source
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(AppError::invalid(
            "source",
            format!("'{source}' is not a source name: use 1-40 lowercase letters, digits, - or _"),
        ));
    }
    Ok(())
}

impl App {
    /// One audit entry per import, with its counts.
    fn audit_import(
        &self,
        who: &Principal,
        format: &str,
        r: &ImportReport,
    ) -> Result<(), AppError> {
        self.audit(
            who,
            "import.events",
            ("import", format.into()),
            serde_json::json!({
                "imported": r.imported,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "rejected": r.rejected(),
                "unplaced": r.unplaced,
            }),
        )
    }
}
