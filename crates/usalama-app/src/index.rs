//! The human-security index as a public use-case: event facts read from the store one
//! source at a time (fatalities of different sources are never summed), the locality ×
//! period panel over the full range of that source's events, and the index computed from
//! it with the configured [`IndexConfig`]. The result is kept in memory per source and
//! granularity and dropped whenever events change (the stats cache's `events_changed`).
//! Anyone may read it: it is an aggregate.

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use usalama_analytics::index::{Explanation, HumanSecurityIndex, IndexConfig};
use usalama_analytics::panel::{EventFact, Level, Panel, PanelBuilder, PanelSpec, Unit};
use usalama_analytics::period::{Granularity, Period, PeriodRange};
use usalama_domain::{AdminLevel, Dimension};
use usalama_store::LocalitySummary;

/// Events read from the store per batch while the facts are gathered.
const SCAN_BATCH: usize = 2_000;

/// How long a computed index is reused when no write went through this process (other
/// instances' writes show within this delay).
const INDEX_TTL: Duration = Duration::from_secs(60);

/// One source's panel and index for one granularity.
pub(crate) struct Computed {
    pub(crate) source: Option<String>,
    pub(crate) panel: Option<Panel>,
    pub(crate) index: Option<HumanSecurityIndex>,
}

/// The index cache and the configuration it is computed with.
#[derive(Default)]
pub(crate) struct IndexCache {
    config: RwLock<Option<Arc<IndexConfig>>>,
    /// Computed indexes by (source, granularity).
    computed: crate::memo::Memo<(String, Granularity), Computed>,
}

impl IndexCache {
    /// Drops every computed index: events changed.
    pub(crate) fn clear(&self) {
        self.computed.clear();
    }
}

/// One locality's index in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// The locality.
    pub locality: LocalitySummary,
    /// The index 0–10 (higher is worse); `None` when too few dimensions had data.
    pub value: Option<f64>,
    /// The dimension scores 0–10 in the order lives, livelihood, dignity.
    pub scores: [Option<f64>; 3],
    /// Dimensions left out for want of data.
    pub missing: Vec<Dimension>,
    /// Whether the value and scores were withheld from this caller: a count of this
    /// locality and period is small, or its public figure is withheld
    /// (`crate::index_disclosure`).
    pub withheld: bool,
}

impl IndexRow {
    /// The score of one dimension.
    pub fn score(&self, d: Dimension) -> Option<f64> {
        self.scores[dimension_position(d)]
    }
}

/// The index of every locality of one level in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexTable {
    /// The source the index is computed from; `None` when the store holds no event.
    pub source: Option<String>,
    /// The level of the rows.
    pub level: Level,
    /// The granularity of the periods.
    pub granularity: Granularity,
    /// The period shown; `None` when there is no data.
    pub period: Option<Period>,
    /// The periods with data (the panel's range); `None` when there is no data.
    pub range: Option<PeriodRange>,
    /// The rows, worst first; localities without a value last, by code.
    pub rows: Vec<IndexRow>,
}

/// Why one locality has its index value in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexExplanation {
    /// The source the index is computed from.
    pub source: Option<String>,
    /// The locality.
    pub locality: LocalitySummary,
    /// Every dimension and input with its contribution.
    pub explanation: Explanation,
    /// Whether the inputs' values and contributions were withheld: the caller is
    /// anonymous and a count of this locality and period is below the public threshold,
    /// which the inputs would reveal (their transform and scale are public).
    pub withheld: bool,
}

/// One locality's index over time.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSeries {
    /// The source the index is computed from.
    pub source: Option<String>,
    /// The locality.
    pub locality: LocalitySummary,
    /// The granularity.
    pub granularity: Granularity,
    /// Every period of the range with the value and dimension scores.
    pub points: Vec<IndexPoint>,
}

/// One period of an [`IndexSeries`].
#[derive(Debug, Clone, PartialEq)]
pub struct IndexPoint {
    /// The period.
    pub period: Period,
    /// The index value.
    pub value: Option<f64>,
    /// Dimension scores (lives, livelihood, dignity).
    pub scores: [Option<f64>; 3],
    /// Whether the value and scores were withheld from this caller.
    pub withheld: bool,
}

/// The position of a dimension in score arrays.
pub fn dimension_position(d: Dimension) -> usize {
    Dimension::ALL.iter().position(|&x| x == d).unwrap_or(0)
}

fn admin_level(level: Level) -> Result<AdminLevel, AppError> {
    match level {
        Level::Adm0 => Ok(AdminLevel::Adm0),
        Level::Adm1 => Ok(AdminLevel::Adm1),
        Level::Adm2 => Ok(AdminLevel::Adm2),
        Level::Adm3 => Ok(AdminLevel::Adm3),
        Level::Grid => Err(AppError::invalid(
            "level",
            "the index is offered for administrative levels (adm0-adm3)",
        )),
    }
}

impl App {
    /// Sets the index configuration (validated), replacing the default of
    /// `config/index.toml`, and drops computed indexes.
    pub fn set_index_config(&self, config: IndexConfig) -> Result<(), AppError> {
        config
            .validate()
            .map_err(|e| AppError::invalid("index config", e.to_string()))?;
        if let Ok(mut g) = self.cache.index.config.write() {
            *g = Some(Arc::new(config));
        }
        self.cache.index.clear();
        Ok(())
    }

    pub(crate) fn index_config(&self) -> Arc<IndexConfig> {
        self.cache
            .index
            .config
            .read()
            .ok()
            .and_then(|g| g.clone())
            .unwrap_or_default()
    }

    /// The panel and index of `source` (`None`: the source with the most events) at
    /// `granularity`, from the cache or computed.
    pub(crate) fn computed_index(
        &self,
        source: Option<&str>,
        granularity: Granularity,
    ) -> Result<Arc<Computed>, AppError> {
        // Validates the source and chooses the default like the public aggregates.
        let chosen = self.choose_source(source)?;
        let key = (chosen.clone().unwrap_or_default(), granularity);
        self.cache
            .index
            .computed
            .get_or_compute(key, INDEX_TTL, || self.compute_index(chosen, granularity))
    }

    fn compute_index(
        &self,
        source: Option<String>,
        granularity: Granularity,
    ) -> Result<Computed, AppError> {
        let Some(s) = source.clone() else {
            return Ok(Computed {
                source,
                panel: None,
                index: None,
            });
        };
        let Some(panel) = self.source_panel(&s, granularity, false)? else {
            return Ok(Computed {
                source,
                panel: None,
                index: None,
            });
        };
        let index = HumanSecurityIndex::compute(&panel, &self.index_config())
            .map_err(|e| AppError::invalid("index config", e.to_string()))?;
        Ok(Computed {
            source,
            panel: Some(panel),
            index: Some(index),
        })
    }

    /// The panel of `source`'s countable events (not rejected, not duplicates) at every
    /// locality, over the periods of `granularity` that cover them; with `cells`, also at
    /// the PRIO-GRID cell of each event's point. `None` when the source has no such event.
    ///
    /// Memory stays bounded at any store size: a narrow scan first finds the range, then
    /// a second narrow scan ([`Store::scan_panel_facts`]: the columns a panel reads, the
    /// table in its own order) hands the events over in batches and each is reduced to
    /// its panel position and counts at once ([`PanelBuilder`]), so the whole store is
    /// never held as events or facts, nor read as whole events.
    pub(crate) fn source_panel(
        &self,
        source: &str,
        granularity: Granularity,
        cells: bool,
    ) -> Result<Option<Panel>, AppError> {
        let Some((first, last)) = self.store.countable_span(source)? else {
            return Ok(None);
        };
        let range = PeriodRange::covering(granularity, first, last)
            .map_err(|e| AppError::invalid("period", e.to_string()))?;
        let locs = self.localities()?;
        let spec = PanelSpec::new(range)
            .with_localities(locs.all.iter().map(|l| (l.id, l.level)))
            .with_taxonomy(&self.taxonomy)
            .with_sources([source.to_string()]);
        let mut builder = PanelBuilder::new(&spec);
        let mut facts = Vec::with_capacity(SCAN_BATCH);
        self.store
            .scan_panel_facts(source, SCAN_BATCH, &mut |batch| {
                facts.clear();
                facts.extend(batch.facts.iter().map(|f| {
                    EventFact {
                        path: f.path,
                        occurred_end: f.occurred_end,
                        dimension: f.dimension,
                        category: batch.categories[usize::from(f.category)].clone(),
                        fatalities: f.killed_best,
                        civilians_targeted: f.civilians_targeted,
                        displaced: f.displaced,
                        source: source.to_string(),
                        where_prec: f.where_prec,
                        priogrid: f
                            .point
                            .filter(|_| cells)
                            .and_then(|(lat, lon)| usalama_analytics::grid::gid(lat, lon)),
                    }
                }));
                builder.add(&facts);
                Ok(())
            })?;
        Ok(Some(builder.finish(&[])))
    }

    /// The index of every locality of `level` in period `at` (default: the last period
    /// with data), worst first. Anyone may call this; for callers who may not read event
    /// records, small cells are withheld (`IndexRow::withheld`, see `index_disclosure`).
    pub fn index_table(
        &self,
        who: &Principal,
        level: Level,
        granularity: Granularity,
        at: Option<Period>,
        source: Option<&str>,
    ) -> Result<IndexTable, AppError> {
        let admin = admin_level(level)?;
        if let Some(p) = at {
            if p.granularity() != granularity {
                return Err(AppError::invalid(
                    "at",
                    format!("{p} is not a {granularity}"),
                ));
            }
        }
        let c = self.computed_index(source, granularity)?;
        let locs = self.localities()?;
        let range = c.index.as_ref().map(|i| i.range());
        let period = match (at, range) {
            (Some(p), Some(r)) if !r.contains(p) => {
                return Err(AppError::invalid(
                    "at",
                    format!("{p} is outside the periods with data ({r})"),
                ))
            }
            (Some(p), Some(_)) => Some(p),
            (_, r) => r.map(|r| r.last()),
        };
        let mut rows: Vec<IndexRow> = locs
            .all
            .iter()
            .filter(|l| l.level == admin)
            .filter_map(|l| {
                let locality = locs.summary(l.id)?;
                let v = match (&c.index, period) {
                    (Some(i), Some(p)) => i.get(&Unit::Locality(l.id), p),
                    _ => None,
                };
                Some(IndexRow {
                    locality,
                    value: v.map(|v| v.value),
                    scores: v.map(|v| v.scores).unwrap_or([None; 3]),
                    missing: v
                        .map(|v| v.missing_dimensions())
                        .unwrap_or_else(|| Dimension::ALL.to_vec()),
                    withheld: false,
                })
            })
            .collect();
        if let (false, Some(p)) = (crate::index_disclosure::sees_all(who), period) {
            let mask = self.index_mask(&c)?;
            for r in &mut rows {
                if mask.withheld(r.locality.id, r.locality.level, p) {
                    r.value = None;
                    r.scores = [None; 3];
                    r.missing = Vec::new();
                    r.withheld = true;
                }
            }
        }
        rows.sort_by(|a, b| match (a.value, b.value) {
            (Some(x), Some(y)) => y
                .total_cmp(&x)
                .then_with(|| a.locality.code.cmp(&b.locality.code)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.locality.code.cmp(&b.locality.code),
        });
        Ok(IndexTable {
            source: c.source.clone(),
            level,
            granularity,
            period,
            range,
            rows,
        })
    }

    /// Every input of the index of `locality` (code or id) in `period`. Anyone may call
    /// this; for callers who may not read event records the value, the dimension scores
    /// and the inputs' values and contributions are withheld when a count among them is
    /// below the public threshold ([`crate::PrivacyConfig`]) or the cell is withheld by
    /// the rules of `index_disclosure`.
    pub fn index_explain(
        &self,
        who: &Principal,
        locality: &str,
        period: Period,
        source: Option<&str>,
    ) -> Result<IndexExplanation, AppError> {
        let summary = self.resolve_locality(locality)?;
        let c = self.computed_index(source, period.granularity())?;
        let (Some(panel), Some(index)) = (&c.panel, &c.index) else {
            return Err(AppError::NotFound("index value"));
        };
        if !index.range().contains(period) {
            return Err(AppError::invalid(
                "period",
                format!(
                    "{period} is outside the periods with data ({})",
                    index.range()
                ),
            ));
        }
        let mut explanation = index
            .explain(panel, &Unit::Locality(summary.id), period)
            .map_err(|e| AppError::invalid("locality", e.to_string()))?;
        let privacy = self.privacy();
        let small = |i: &usalama_analytics::index::InputPart| {
            use usalama_analytics::panel::{Measure, Scope};
            let sensitive = match &i.measure {
                Measure::Events(Scope::Category(c)) | Measure::Fatalities(Scope::Category(c)) => {
                    self.taxonomy.category(c).is_some_and(|c| c.sensitive)
                }
                _ => false,
            };
            let k = if sensitive {
                privacy.k_sensitive
            } else {
                privacy.k
            };
            i.measure.is_count() && i.raw.is_some_and(|r| r > 0.0 && r < k as f64)
        };
        let withheld = !crate::index_disclosure::sees_all(who)
            && (explanation.inputs.iter().any(small)
                || self
                    .index_mask(&c)?
                    .withheld(summary.id, summary.level, period));
        if withheld {
            explanation.value = None;
            for d in &mut explanation.dimensions {
                d.score = None;
                d.contribution = 0.0;
            }
            for i in &mut explanation.inputs {
                i.raw = None;
                i.transformed = None;
                i.scaled = None;
                i.population = None;
                i.contribution = 0.0;
            }
        }
        Ok(IndexExplanation {
            source: c.source.clone(),
            locality: summary,
            explanation,
            withheld,
        })
    }

    /// The index of `locality` (code or id) in every period with data. Anyone may call
    /// this; small cells are withheld as in [`App::index_table`].
    pub fn index_series(
        &self,
        who: &Principal,
        locality: &str,
        granularity: Granularity,
        source: Option<&str>,
    ) -> Result<IndexSeries, AppError> {
        let summary = self.resolve_locality(locality)?;
        let c = self.computed_index(source, granularity)?;
        let unit = Unit::Locality(summary.id);
        let mask = if crate::index_disclosure::sees_all(who) {
            None
        } else {
            Some(self.index_mask(&c)?)
        };
        let points = match &c.index {
            Some(index) => index
                .range()
                .iter()
                .map(|p| {
                    let v = index.get(&unit, p);
                    if mask
                        .as_ref()
                        .is_some_and(|m| m.withheld(summary.id, summary.level, p))
                    {
                        return IndexPoint {
                            period: p,
                            value: None,
                            scores: [None; 3],
                            withheld: true,
                        };
                    }
                    IndexPoint {
                        period: p,
                        value: v.map(|v| v.value),
                        scores: v.map(|v| v.scores).unwrap_or([None; 3]),
                        withheld: false,
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(IndexSeries {
            source: c.source.clone(),
            locality: summary,
            granularity,
            points,
        })
    }
}
