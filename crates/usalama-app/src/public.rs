//! What anonymous visitors and open-data exports may see: the public figures of one source,
//! counted by area (coarsened to the public level, ADM1 by default), month, year and
//! dimension, with small counts and their complements withheld
//! ([`usalama_analytics::disclose`]). Every public page, public API route and the open-data
//! export takes its counts from here, so that one suppression pattern covers them all and
//! no published total lets a withheld count be worked out by subtraction.

use crate::error::AppError;
use crate::App;
use chrono::Datelike;
use geo_types::MultiPolygon;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use usalama_analytics::disclose::{Cube, CubeFact, Figure, Thresholds};
use usalama_analytics::period::{Granularity, Period, PeriodRange};
use usalama_domain::{AdminLevel, Dimension};
use usalama_store::LocalitySummary;

/// How long computed public figures are reused when no write went through this process.
const PUBLIC_TTL: Duration = Duration::from_secs(60);

/// Events read per batch while the figures are counted.
const SCAN_BATCH: usize = 2_000;

/// The disclosure rules of public outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacyConfig {
    /// Smallest count published (default 5).
    pub k: u64,
    /// Smallest count published for a figure that includes events of a sensitive category
    /// (`sensitive = true` in the taxonomy; default 10).
    pub k_sensitive: u64,
    /// The finest level of place in public outputs (default ADM1).
    pub level: AdminLevel,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            k: 5,
            k_sensitive: 10,
            level: AdminLevel::Adm1,
        }
    }
}

impl PrivacyConfig {
    /// Checks the values: `k` at least 2 (1 would publish single events), `k_sensitive`
    /// at least `k`, and a level below the country.
    pub fn validate(&self) -> Result<(), AppError> {
        if self.k < 2 {
            return Err(AppError::invalid("privacy.k", "must be at least 2"));
        }
        if self.k_sensitive < self.k {
            return Err(AppError::invalid(
                "privacy.k_sensitive",
                "must be at least privacy.k",
            ));
        }
        if self.level == AdminLevel::Adm0 {
            return Err(AppError::invalid(
                "privacy.level",
                "must be adm1, adm2 or adm3 (adm0 would leave no map)",
            ));
        }
        Ok(())
    }
}

/// One area of the public figures.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicArea {
    /// The locality.
    pub locality: LocalitySummary,
    /// Its boundary, for maps.
    pub geometry: Option<MultiPolygon<f64>>,
}

/// The public figures of one source. Every count here may be shown to anyone.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicFigures {
    /// The source (`None` when the store holds no event).
    pub source: Option<String>,
    /// Every source with its event count when that count may be shown (never summed).
    pub sources: Vec<(String, Option<u64>)>,
    /// The rules applied.
    pub privacy: PrivacyConfig,
    /// The areas at the public level, by code.
    pub areas: Vec<PublicArea>,
    /// The months covered, first to last (empty without events).
    pub months: Vec<Period>,
    /// The protected tables (areas and months in the order above).
    pub cube: Cube,
}

impl PublicFigures {
    /// The position of a month in [`PublicFigures::months`].
    pub fn month_index(&self, month: Period) -> Option<usize> {
        self.months.iter().position(|&m| m == month)
    }

    /// The figure of every area in month `i`, with the area.
    pub fn areas_in_month(&self, i: usize) -> Vec<(&PublicArea, Figure)> {
        self.areas
            .iter()
            .zip(self.cube.months[i].by_area.iter().copied())
            .collect()
    }

    /// The figure of every area over all time, with the area.
    pub fn areas_all_time(&self) -> Vec<(&PublicArea, Figure)> {
        self.areas
            .iter()
            .zip(self.cube.area_totals.iter().copied())
            .collect()
    }
}

/// Computed public figures by source key, and the rules.
#[derive(Default)]
pub(crate) struct PublicCache {
    config: RwLock<Option<PrivacyConfig>>,
    computed: crate::memo::Memo<String, PublicFigures>,
}

impl PublicCache {
    /// Drops computed figures: events changed.
    pub(crate) fn clear(&self) {
        self.computed.clear();
    }
}

impl App {
    /// Sets the disclosure rules of public outputs (validated) and drops computed figures.
    pub fn set_privacy(&self, config: PrivacyConfig) -> Result<(), AppError> {
        config.validate()?;
        if let Ok(mut g) = self.cache.public.config.write() {
            *g = Some(config);
        }
        self.cache.public.clear();
        Ok(())
    }

    /// The disclosure rules in force.
    pub fn privacy(&self) -> PrivacyConfig {
        self.cache
            .public
            .config
            .read()
            .ok()
            .and_then(|g| *g)
            .unwrap_or_default()
    }

    /// The public figures of `source` (`None`: the source with the most events), with
    /// small counts and their complements withheld. Anyone may call this.
    pub fn public_figures(&self, source: Option<&str>) -> Result<Arc<PublicFigures>, AppError> {
        let chosen = self.choose_source(source)?;
        let key = chosen.clone().unwrap_or_default();
        // Once expired, the kept figures are served while a thread computes the next.
        let (app, k, c) = (self.clone(), key.clone(), chosen.clone());
        let refresh = move || {
            let again = app
                .cache
                .public
                .computed
                .get_or_compute(k, PUBLIC_TTL, || app.public_figures_now(c));
            if let Err(e) = again {
                tracing::warn!(error = %e, "public figures could not be refreshed");
            }
        };
        self.cache.public.computed.get_or_refresh(
            key,
            PUBLIC_TTL,
            || self.public_figures_now(chosen),
            refresh,
        )
    }

    /// The public figures of the chosen source, computed now.
    fn public_figures_now(&self, chosen: Option<String>) -> Result<PublicFigures, AppError> {
        let privacy = self.privacy();
        let sources = self
            .source_counts()?
            .iter()
            .map(|(s, events)| {
                let shown = *events >= privacy.k_sensitive;
                (s.clone(), shown.then_some(*events))
            })
            .collect();
        self.compute_public_figures(chosen, sources, privacy)
    }

    fn compute_public_figures(
        &self,
        source: Option<String>,
        sources: Vec<(String, Option<u64>)>,
        privacy: PrivacyConfig,
    ) -> Result<PublicFigures, AppError> {
        let locs = self.localities()?;
        let mut areas: Vec<PublicArea> = locs
            .all
            .iter()
            .filter(|l| l.level == privacy.level)
            .filter_map(|l| {
                Some(PublicArea {
                    locality: locs.summary(l.id)?,
                    geometry: l.geometry.clone(),
                })
            })
            .collect();
        areas.sort_by(|a, b| a.locality.code.cmp(&b.locality.code));
        let area_index: std::collections::HashMap<_, usize> = areas
            .iter()
            .enumerate()
            .map(|(i, a)| (a.locality.id, i))
            .collect();
        // Every countable event as a cube fact, its month counted from year 0 until the
        // range is known. The narrow scan reads per event only its area, date, dimension,
        // category and fatalities, in one pass of the table with no per-event allocation.
        let month_number = |d: chrono::NaiveDate| d.year() as i64 * 12 + i64::from(d.month0());
        let mut facts: Vec<CubeFact> = Vec::new();
        let mut dates: Option<(chrono::NaiveDate, chrono::NaiveDate)> = None;
        if let Some(s) = &source {
            let mut sensitive: Vec<bool> = Vec::new();
            self.store
                .scan_index_facts(s, privacy.level, SCAN_BATCH, &mut |batch| {
                    for code in &batch.categories[sensitive.len()..] {
                        sensitive.push(self.taxonomy.category(code).is_some_and(|c| c.sensitive));
                    }
                    for f in batch.facts {
                        let d = f.occurred_end;
                        dates = Some(dates.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))));
                        facts.push(CubeFact {
                            area: f.locality.and_then(|id| area_index.get(&id).copied()),
                            dimension: dimension_index(f.dimension),
                            month: month_number(d) as usize,
                            fatalities: u64::from(f.killed_best.unwrap_or(0)),
                            sensitive: sensitive[usize::from(f.category)],
                        });
                    }
                    Ok(())
                })?;
        }
        let range = match dates {
            Some((first, last)) => Some(
                PeriodRange::covering(Granularity::Month, first, last)
                    .map_err(|e| AppError::invalid("period", e.to_string()))?,
            ),
            None => None,
        };
        // Months as positions in the range (its first month is the earliest event's).
        if let Some((first, _)) = dates {
            let base = month_number(first) as usize;
            for f in &mut facts {
                f.month -= base;
            }
        }
        let months: Vec<Period> = range.map(|r| r.iter().collect()).unwrap_or_default();
        let month_years: Vec<i32> = months.iter().map(Period::year).collect();
        let cube = Cube::protect(
            areas.len(),
            &month_years,
            &facts,
            Thresholds {
                k: privacy.k,
                k_sensitive: privacy.k_sensitive,
            },
        );
        Ok(PublicFigures {
            source,
            sources,
            privacy,
            areas,
            months,
            cube,
        })
    }
}

/// The position of a dimension in the public tables (lives, livelihood, dignity).
pub fn dimension_index(d: Dimension) -> usize {
    Dimension::ALL.iter().position(|&x| x == d).unwrap_or(0)
}
