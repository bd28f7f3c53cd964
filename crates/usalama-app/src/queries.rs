//! Read use-cases: events, localities and actors for authorised callers, and the public
//! aggregates that anyone may see. Localities are cached in memory: they change only when
//! boundaries are imported, and every event view needs their names.

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use chrono::Datelike;
use geo_types::MultiPolygon;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use usalama_domain::{Actor, ActorId, AdminLevel, Event, EventId, Locality, LocalityId};
use usalama_store::{
    ActorQuery, EventQuery, GroupBy, GroupCount, LocalityQuery, LocalitySummary, Page, StoredEvent,
};

/// An event with the names of where it is and who was involved.
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    /// The event. Its personal fields (`people`, `reporter_contact`) are for callers that
    /// are allowed to see them; views built from it must not show them by default.
    pub event: Event,
    /// The event's localities from the country down to the deepest.
    pub lineage: Vec<LocalitySummary>,
    /// The actors the event names, in the event's order.
    pub actors: Vec<Actor>,
}

/// One locality's event count, with its shape for a map.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalityCount {
    /// The locality.
    pub locality: LocalitySummary,
    /// Its boundary.
    pub geometry: Option<MultiPolygon<f64>>,
    /// Events placed in it or below.
    pub events: u64,
    /// Their fatalities (best estimates).
    pub fatalities: u64,
}

/// One source's share of the stored events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCount {
    /// The source (`ucdp-ged`, `acled`, `web`, …).
    pub source: String,
    /// Its events.
    pub events: u64,
    /// Their fatalities (best estimates).
    pub fatalities: u64,
}

/// Aggregates anyone may see: no record-level data. Rejected events and duplicates are left
/// out, so each incident counts once and false reports not at all. The figures are those
/// of one source (`source`), because two datasets often describe the same incidents:
/// adding UCDP's and ACLED's fatalities would count the same deaths twice.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicStats {
    /// The source the figures below are for; `None` when the store holds no event.
    pub source: Option<String>,
    /// Every source with its own counts, most events first (never to be summed).
    pub sources: Vec<SourceCount>,
    /// The source's events.
    pub total_events: u64,
    /// Their fatalities.
    pub total_fatalities: u64,
    /// Counts by dimension and year.
    pub by_dimension_year: Vec<GroupCount>,
    /// Every ADM1 locality with its counts, zero included.
    pub adm1: Vec<LocalityCount>,
}

/// How long public aggregates are reused before they are computed again. Writes through
/// this process drop them at once; other instances' writes show within this delay.
const STATS_TTL: Duration = Duration::from_secs(30);

/// Facts handed over per batch by the public statistics' narrow scan.
const FACTS_BATCH: usize = 2_000;

/// What the read use-cases keep in memory: localities (loaded on first use, dropped when
/// boundaries change), actors by id, and the public aggregates (dropped on every write).
#[derive(Default)]
pub(crate) struct LocalityCache {
    inner: RwLock<Option<Arc<Localities>>>,
    actors: RwLock<HashMap<ActorId, Actor>>,
    stats: crate::memo::Memo<String, PublicStats>,
    /// Countable events per source, most first (dropped on every write).
    sources: crate::memo::Memo<(), Vec<(String, u64)>>,
    /// Event counts by filter (the `Debug` form of the query without its page).
    totals: crate::memo::Memo<String, u64>,
    /// Pages of events by query (visibility and cursor included), dropped on every write.
    pages: crate::pages::PageCache<Page<EventView>>,
    /// The human-security index per source and granularity (dropped on every write).
    pub(crate) index: crate::index::IndexCache,
    /// The protected public figures per source (dropped on every write).
    pub(crate) public: crate::public::PublicCache,
    /// Forecasts per source and level (dropped on every write).
    pub(crate) forecast: crate::forecast::ForecastCache,
}

/// All localities and an index by id.
pub(crate) struct Localities {
    pub all: Vec<Locality>,
    pub by_id: HashMap<LocalityId, usize>,
    /// Positions in `all` ordered by level, then code (for menus).
    pub by_level_code: Vec<usize>,
}

impl Localities {
    pub(crate) fn summary(&self, id: LocalityId) -> Option<LocalitySummary> {
        self.by_id.get(&id).map(|&i| {
            let l = &self.all[i];
            LocalitySummary {
                id: l.id,
                code: l.code.clone(),
                name: l.name.clone(),
                level: l.level,
                parent: l.parent,
                centroid: l.centroid.map(|c| (c.x(), c.y())),
            }
        })
    }

    /// The locality and its ancestors, country first.
    fn lineage(&self, id: LocalityId) -> Vec<LocalitySummary> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur.take() {
            if out.len() > 4 {
                break;
            }
            if let Some(s) = self.summary(c) {
                cur = s.parent;
                out.push(s);
            }
        }
        out.reverse();
        out
    }
}

impl LocalityCache {
    /// Drops everything: boundaries changed.
    pub fn invalidate(&self) {
        if let Ok(mut g) = self.inner.write() {
            *g = None;
        }
        self.events_changed();
    }

    /// Drops what depends on events and actors: events were written.
    pub fn events_changed(&self) {
        if let Ok(mut g) = self.actors.write() {
            g.clear();
        }
        self.pages.clear();
        self.stats.clear();
        self.sources.clear();
        self.totals.clear();
        self.index.clear();
        self.public.clear();
        self.forecast.clear();
    }
}

impl App {
    /// All localities, from the cache.
    pub(crate) fn localities(&self) -> Result<Arc<Localities>, AppError> {
        if let Some(l) = self.cache.inner.read().ok().and_then(|g| g.clone()) {
            return Ok(l);
        }
        let all = self.store.all_localities()?;
        let by_id = all.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
        let mut by_level_code: Vec<usize> = (0..all.len()).collect();
        by_level_code.sort_by(|&a, &b| {
            let (a, b) = (&all[a], &all[b]);
            (a.level.depth(), a.code.as_str()).cmp(&(b.level.depth(), b.code.as_str()))
        });
        let l = Arc::new(Localities {
            all,
            by_id,
            by_level_code,
        });
        if let Ok(mut g) = self.cache.inner.write() {
            *g = Some(l.clone());
        }
        Ok(l)
    }

    /// Finds a locality by P-code or id, for filters.
    pub fn resolve_locality(&self, code_or_id: &str) -> Result<LocalitySummary, AppError> {
        let locs = self.localities()?;
        let key = code_or_id.trim();
        let found = key
            .parse::<LocalityId>()
            .ok()
            .and_then(|id| locs.summary(id))
            .or_else(|| {
                locs.all
                    .iter()
                    .find(|l| l.code.as_str().eq_ignore_ascii_case(key))
                    .and_then(|l| locs.summary(l.id))
            });
        found.ok_or_else(|| AppError::invalid("locality", format!("no locality has code '{key}'")))
    }

    pub(crate) fn view(&self, event: Event, locs: &Localities) -> Result<EventView, AppError> {
        let lineage = event.locality.map(|l| locs.lineage(l)).unwrap_or_default();
        let mut actors = Vec::with_capacity(event.actors.len());
        for a in &event.actors {
            let cached = self
                .cache
                .actors
                .read()
                .ok()
                .and_then(|m| m.get(&a.actor).cloned());
            let actor = match cached {
                Some(actor) => Some(actor),
                None => {
                    let found = self.store.get_actor(a.actor)?;
                    if let (Some(actor), Ok(mut m)) = (&found, self.cache.actors.write()) {
                        m.insert(actor.id, actor.clone());
                    }
                    found
                }
            };
            actors.extend(actor);
        }
        Ok(EventView {
            event,
            lineage,
            actors,
        })
    }

    /// A page of events.
    pub fn list_events(
        &self,
        who: &Principal,
        q: &EventQuery,
    ) -> Result<Page<EventView>, AppError> {
        Ok(Arc::unwrap_or_clone(self.list_events_shared(who, q)?))
    }

    /// A page of events, shared with the other callers that asked for the same page with
    /// the same visibility within 5 s and no write since (see
    /// `pages.rs`). The caller's permission and visibility are checked on every call.
    pub fn list_events_shared(
        &self,
        who: &Principal,
        q: &EventQuery,
    ) -> Result<Arc<Page<EventView>>, AppError> {
        self.require_reader(who)?;
        let q = EventQuery {
            visibility: self.visibility(who)?,
            ..q.clone()
        };
        let compute = || -> Result<Page<EventView>, AppError> {
            let page = self.list_events_counted(&q)?;
            let locs = self.localities()?;
            let items = page
                .items
                .into_iter()
                .map(|p| self.view(p.event, &locs))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page {
                items,
                total: page.total,
                next_cursor: page.next_cursor,
            })
        };
        if q.page.limit > crate::pages::MAX_CACHED_LIMIT {
            return compute().map(Arc::new);
        }
        self.cache
            .pages
            .get_or_compute(format!("{q:?}"), crate::pages::PAGE_TTL, compute)
    }

    /// A page of events with its total, which is counted at most every 30 s per
    /// filter (any write through this process counts again): paging through a list, or
    /// many people opening the same list, then costs no `count(*)` per page.
    fn list_events_counted(&self, q: &EventQuery) -> Result<Page<StoredEvent>, AppError> {
        let key = format!(
            "{:?}",
            EventQuery {
                page: Default::default(),
                ..q.clone()
            }
        );
        // Counted once per filter: a new filter's concurrent callers wait for one count,
        // an expired total is served while one caller counts it again (`Memo`).
        let mut counted = None;
        let total =
            self.cache
                .totals
                .get_or_compute(key, STATS_TTL, || -> Result<u64, AppError> {
                    let page = self.store.list_events(q)?;
                    let total = page.total;
                    counted = Some(page);
                    Ok(total)
                })?;
        if let Some(page) = counted {
            return Ok(page);
        }
        let mut page = self.store.list_events(&EventQuery {
            skip_total: true,
            ..q.clone()
        })?;
        page.total = *total;
        Ok(page)
    }

    /// One event.
    pub fn get_event(&self, who: &Principal, id: EventId) -> Result<EventView, AppError> {
        self.require_reader(who)?;
        let e = self
            .store
            .get_event(id)?
            .ok_or(AppError::NotFound("event"))?;
        self.require_visible(who, &e.event)?;
        self.view(e.event, &*self.localities()?)
    }

    /// A page of localities.
    pub fn list_localities(
        &self,
        who: &Principal,
        q: &LocalityQuery,
    ) -> Result<Page<LocalitySummary>, AppError> {
        self.require_reader(who)?;
        Ok(self.store.list_localities(q)?)
    }

    /// The first `limit` localities of `level` by code, as `list_localities` orders them,
    /// from the in-memory cache (for filter menus, which every list page draws).
    pub fn localities_at(
        &self,
        who: &Principal,
        level: AdminLevel,
        limit: usize,
    ) -> Result<Vec<LocalitySummary>, AppError> {
        self.require_reader(who)?;
        let locs = self.localities()?;
        let depth = |&i: &usize| locs.all[i].level.depth();
        let start = locs
            .by_level_code
            .partition_point(|i| depth(i) < level.depth());
        Ok(locs.by_level_code[start..]
            .iter()
            .take_while(|i| depth(i) == level.depth())
            .take(limit)
            .filter_map(|&i| locs.summary(locs.all[i].id))
            .collect())
    }

    /// One locality with its ancestors (country first, the locality last).
    pub fn get_locality(
        &self,
        who: &Principal,
        id: LocalityId,
    ) -> Result<Vec<LocalitySummary>, AppError> {
        self.require_reader(who)?;
        let lineage = self.localities()?.lineage(id);
        if lineage.last().map(|l| l.id) != Some(id) {
            return Err(AppError::NotFound("locality"));
        }
        Ok(lineage)
    }

    /// A page of actors.
    pub fn list_actors(&self, who: &Principal, q: &ActorQuery) -> Result<Page<Actor>, AppError> {
        self.require_reader(who)?;
        Ok(self.store.list_actors(q)?)
    }

    /// One actor.
    pub fn get_actor(&self, who: &Principal, id: ActorId) -> Result<Actor, AppError> {
        self.require_reader(who)?;
        self.store.get_actor(id)?.ok_or(AppError::NotFound("actor"))
    }

    /// Public aggregates for the home page and the map, for the source with the most
    /// events. Anyone may call this.
    pub fn public_stats(&self) -> Result<Arc<PublicStats>, AppError> {
        self.public_stats_for(None)
    }

    /// Public aggregates for one source (`None`: the source with the most events). Counts
    /// of different sources are never added together. Anyone may call this; an unknown
    /// source is an invalid parameter. They are computed at most every 30 s per
    /// source unless this process writes events.
    pub fn public_stats_for(&self, source: Option<&str>) -> Result<Arc<PublicStats>, AppError> {
        // Kept under the source chosen, so `None` and that source's name share one value
        // (the dashboard names the source; the start-up warms `None`). Once expired, the
        // kept value is served while a thread computes the next.
        let chosen = self.choose_source(source)?;
        let key = chosen.clone().unwrap_or_default();
        let (app, k, c) = (self.clone(), key.clone(), chosen.clone());
        let refresh = move || {
            let again = app
                .cache
                .stats
                .get_or_compute(k, STATS_TTL, || app.compute_public_stats(c.as_deref()));
            if let Err(e) = again {
                tracing::warn!(error = %e, "public statistics could not be refreshed");
            }
        };
        self.cache.stats.get_or_refresh(
            key,
            STATS_TTL,
            || self.compute_public_stats(chosen.as_deref()),
            refresh,
        )
    }

    /// Countable events (not rejected, not duplicates) per source, most first, then by
    /// name: from the store's indexes alone where it can, and kept like the public
    /// aggregates.
    pub(crate) fn source_counts(&self) -> Result<Arc<Vec<(String, u64)>>, AppError> {
        self.cache.sources.get_or_compute((), STATS_TTL, || {
            let mut all = self.store.countable_events_by_source()?;
            all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Ok(all)
        })
    }

    /// The source whose figures a caller gets: `source` when some countable event has
    /// it (an unknown one is an invalid parameter), else (`None` or blank) the source
    /// with the most events; `None` when there is none. The same choice as
    /// [`App::public_stats_for`], without computing its aggregates.
    pub(crate) fn choose_source(&self, source: Option<&str>) -> Result<Option<String>, AppError> {
        let counts = self.source_counts()?;
        match source.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => counts
                .iter()
                .find(|c| c.0 == s)
                .map(|c| Some(c.0.clone()))
                .ok_or_else(|| AppError::invalid("source", format!("no event has source '{s}'"))),
            None => Ok(counts.first().map(|c| c.0.clone())),
        }
    }

    fn compute_public_stats(&self, source: Option<&str>) -> Result<PublicStats, AppError> {
        let mut sources: Vec<SourceCount> = self
            .store
            .count_events(
                &EventQuery {
                    countable_only: true,
                    ..Default::default()
                },
                GroupBy::Source,
            )?
            .into_iter()
            .map(|g| SourceCount {
                source: g.key,
                events: g.events,
                fatalities: g.fatalities,
            })
            .collect();
        sources.sort_by(|a, b| b.events.cmp(&a.events).then(a.source.cmp(&b.source)));
        let chosen = self.choose_source(source)?;
        // The chosen source's counts by dimension and year and by province, from one
        // narrow pass over its events in the table's own order (grouped counts through an
        // index fetch every row at a random place: tens of seconds at 1,000,000 events).
        let mut by_year: BTreeMap<(&'static str, i32), (u64, u64)> = BTreeMap::new();
        let mut by_adm1: HashMap<LocalityId, (u64, u64)> = HashMap::new();
        if let Some(s) = &chosen {
            self.store
                .scan_index_facts(s, AdminLevel::Adm1, FACTS_BATCH, &mut |batch| {
                    for f in batch.facts {
                        let killed = u64::from(f.killed_best.unwrap_or(0));
                        let year = by_year
                            .entry((f.dimension.as_str(), f.occurred_end.year()))
                            .or_default();
                        year.0 += 1;
                        year.1 += killed;
                        if let Some(l) = f.locality {
                            let a = by_adm1.entry(l).or_default();
                            a.0 += 1;
                            a.1 += killed;
                        }
                    }
                    Ok(())
                })?;
        }
        let by_dimension_year: Vec<GroupCount> = by_year
            .into_iter()
            .map(|((dimension, year), (events, fatalities))| GroupCount {
                key: dimension.to_string(),
                year: Some(year),
                events,
                fatalities,
            })
            .collect();
        let locs = self.localities()?;
        let adm1 = locs
            .all
            .iter()
            .filter(|l| l.level == AdminLevel::Adm1)
            .filter_map(|l| {
                let (events, fatalities) = by_adm1.get(&l.id).copied().unwrap_or_default();
                Some(LocalityCount {
                    locality: locs.summary(l.id)?,
                    geometry: l.geometry.clone(),
                    events,
                    fatalities,
                })
            })
            .collect();
        Ok(PublicStats {
            source: chosen,
            sources,
            total_events: by_dimension_year.iter().map(|g| g.events).sum(),
            total_fatalities: by_dimension_year.iter().map(|g| g.fatalities).sum(),
            by_dimension_year,
            adm1,
        })
    }
}
