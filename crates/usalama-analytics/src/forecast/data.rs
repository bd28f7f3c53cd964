//! The monthly series a forecast is computed from.

use super::ForecastError;
use crate::grid;
use crate::panel::{Level, Panel, Unit};
use crate::period::{Granularity, PeriodRange};
use std::collections::HashMap;

/// Monthly fatalities, events and events by category of every unit of one level, with each
/// unit's neighbours. Months before the first month of the range count as zero.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastData {
    pub(crate) months: PeriodRange,
    pub(crate) units: Vec<Unit>,
    /// `fatalities[u * T + t]`.
    pub(crate) fatalities: Vec<u32>,
    /// `events[u * T + t]`.
    pub(crate) events: Vec<u32>,
    pub(crate) categories: Vec<String>,
    /// `mix[(u * T + t) * C + c]`: events of category `c`.
    pub(crate) mix: Vec<u32>,
    pub(crate) neighbours: Vec<Vec<usize>>,
    /// The first month with an event, per unit.
    pub(crate) first_event: Vec<Option<usize>>,
    /// Whether a unit is forecast only from the month after its first event (grid cells:
    /// the cells "with events" are those known at the origin).
    pub(crate) only_active: bool,
    /// Mean of `ln(1 + fatalities)` over all units, per month.
    pub(crate) level_log1p: Vec<f64>,
}

impl ForecastData {
    /// The series of the units of `level` in a monthly panel. `adjacent` lists pairs of
    /// neighbouring localities (polygons that touch), in either order; for the grid level
    /// it is ignored and each cell's neighbours are the 8 cells around it. Category
    /// columns without any event are left out of the event-type mix.
    pub fn from_panel(
        panel: &Panel,
        level: Level,
        adjacent: &[(Unit, Unit)],
    ) -> Result<Self, ForecastError> {
        let months = panel.range();
        if months.granularity() != Granularity::Month {
            return Err(ForecastError::NotMonthly(
                months.granularity().as_str().to_string(),
            ));
        }
        let t_len = months.len();
        let range = panel.units_of(level);
        let units: Vec<Unit> = panel.units()[range.clone()]
            .iter()
            .map(|u| u.unit)
            .collect();
        let used: Vec<usize> = (0..panel.categories().len())
            .filter(|&c| {
                range
                    .clone()
                    .any(|u| (0..t_len).any(|t| panel.category_events(u, t, c) > 0))
            })
            .collect();
        let categories = used
            .iter()
            .map(|&c| panel.categories()[c].code.clone())
            .collect();
        let mut fatalities = Vec::with_capacity(units.len() * t_len);
        let mut events = Vec::with_capacity(units.len() * t_len);
        let mut mix = Vec::with_capacity(units.len() * t_len * used.len());
        for u in range {
            for t in 0..t_len {
                fatalities.push(u32::try_from(panel.fatalities(u, t, None)).unwrap_or(u32::MAX));
                events.push(u32::try_from(panel.events(u, t, None)).unwrap_or(u32::MAX));
                mix.extend(used.iter().map(|&c| panel.category_events(u, t, c)));
            }
        }
        let position: HashMap<Unit, usize> =
            units.iter().enumerate().map(|(i, u)| (*u, i)).collect();
        let mut neighbours = vec![Vec::new(); units.len()];
        if level == Level::Grid {
            for (i, u) in units.iter().enumerate() {
                if let Unit::Cell(gid) = u {
                    neighbours[i] = grid::neighbours(*gid)
                        .into_iter()
                        .filter_map(|g| position.get(&Unit::Cell(g)).copied())
                        .collect();
                }
            }
        } else {
            for (a, b) in adjacent {
                if let (Some(&i), Some(&j)) = (position.get(a), position.get(b)) {
                    if i != j {
                        neighbours[i].push(j);
                        neighbours[j].push(i);
                    }
                }
            }
        }
        Self::assemble(
            months,
            units,
            fatalities,
            events,
            categories,
            mix,
            neighbours,
            level == Level::Grid,
        )
    }

    /// Series given directly (one vector of `months.len()` values per unit), without an
    /// event-type mix; `neighbours[u]` lists the positions of unit `u`'s neighbours.
    /// `only_active`: forecast a unit only after its first event (as for grid cells).
    pub fn from_series(
        months: PeriodRange,
        units: Vec<Unit>,
        fatalities: &[Vec<u32>],
        events: &[Vec<u32>],
        neighbours: Vec<Vec<usize>>,
        only_active: bool,
    ) -> Result<Self, ForecastError> {
        let t_len = months.len();
        let n = units.len();
        if fatalities.len() != n || events.len() != n || neighbours.len() != n {
            return Err(ForecastError::invalid(
                "series",
                "one fatality series, event series and neighbour list per unit",
            ));
        }
        if fatalities.iter().chain(events).any(|s| s.len() != t_len) {
            return Err(ForecastError::invalid(
                "series",
                format!("every series must have {t_len} months"),
            ));
        }
        if neighbours.iter().flatten().any(|&j| j >= n) {
            return Err(ForecastError::invalid(
                "neighbours",
                "unknown unit position",
            ));
        }
        Self::assemble(
            months,
            units,
            fatalities.concat(),
            events.concat(),
            Vec::new(),
            Vec::new(),
            neighbours,
            only_active,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        months: PeriodRange,
        units: Vec<Unit>,
        fatalities: Vec<u32>,
        events: Vec<u32>,
        categories: Vec<String>,
        mix: Vec<u32>,
        mut neighbours: Vec<Vec<usize>>,
        only_active: bool,
    ) -> Result<Self, ForecastError> {
        if months.granularity() != Granularity::Month {
            return Err(ForecastError::NotMonthly(
                months.granularity().as_str().to_string(),
            ));
        }
        let t_len = months.len();
        for n in &mut neighbours {
            n.sort_unstable();
            n.dedup();
        }
        let first_event = (0..units.len())
            .map(|u| (0..t_len).find(|&t| events[u * t_len + t] > 0))
            .collect();
        let level_log1p = (0..t_len)
            .map(|t| {
                if units.is_empty() {
                    return 0.0;
                }
                (0..units.len())
                    .map(|u| f64::from(fatalities[u * t_len + t]).ln_1p())
                    .sum::<f64>()
                    / units.len() as f64
            })
            .collect();
        Ok(Self {
            months,
            units,
            fatalities,
            events,
            categories,
            mix,
            neighbours,
            first_event,
            only_active,
            level_log1p,
        })
    }

    /// The months of the series.
    pub fn months(&self) -> PeriodRange {
        self.months
    }

    /// The units, in the order of their positions.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The category codes of the event-type mix.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The positions of unit `u`'s neighbours.
    pub fn neighbours(&self, u: usize) -> &[usize] {
        self.neighbours.get(u).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Fatalities of unit `u` in month `t`; 0 outside the series.
    pub fn fatalities(&self, u: usize, t: i64) -> u32 {
        self.at(&self.fatalities, u, t)
    }

    /// Events of unit `u` in month `t`; 0 outside the series.
    pub fn events(&self, u: usize, t: i64) -> u32 {
        self.at(&self.events, u, t)
    }

    fn at(&self, v: &[u32], u: usize, t: i64) -> u32 {
        let t_len = self.months.len();
        if t < 0 || t as usize >= t_len || u >= self.units.len() {
            return 0;
        }
        v[u * t_len + t as usize]
    }

    /// Events of category column `c` for unit `u` in month `t`; 0 outside the series.
    pub(crate) fn category_events(&self, u: usize, t: i64, c: usize) -> u32 {
        let t_len = self.months.len();
        let cs = self.categories.len();
        if t < 0 || t as usize >= t_len || u >= self.units.len() || c >= cs {
            return 0;
        }
        self.mix[(u * t_len + t as usize) * cs + c]
    }

    /// Whether unit `u` is forecast at origin `o` (the first month not known): always,
    /// unless the data forecasts only units with an event before the origin.
    pub fn is_active(&self, u: usize, o: usize) -> bool {
        !self.only_active
            || self
                .first_event
                .get(u)
                .copied()
                .flatten()
                .is_some_and(|f| f < o)
    }

    /// The same data restricted to the months before `o` (for leakage tests and live
    /// forecasts from an earlier point).
    pub fn truncated(&self, o: usize) -> Result<Self, ForecastError> {
        let t_len = self.months.len();
        if o == 0 || o > t_len {
            return Err(ForecastError::invalid(
                "origin",
                format!("must be within 1..={t_len}"),
            ));
        }
        let last = self
            .months
            .get(o - 1)
            .ok_or_else(|| ForecastError::invalid("origin", "outside the months"))?;
        let months = PeriodRange::new(self.months.first(), last)
            .map_err(|e| ForecastError::invalid("origin", e.to_string()))?;
        let cs = self.categories.len();
        let mut fatalities = Vec::new();
        let mut events = Vec::new();
        let mut mix = Vec::new();
        for u in 0..self.units.len() {
            fatalities.extend_from_slice(&self.fatalities[u * t_len..u * t_len + o]);
            events.extend_from_slice(&self.events[u * t_len..u * t_len + o]);
            mix.extend_from_slice(&self.mix[u * t_len * cs..(u * t_len + o) * cs]);
        }
        Self::assemble(
            months,
            self.units.clone(),
            fatalities,
            events,
            self.categories.clone(),
            mix,
            self.neighbours.clone(),
            self.only_active,
        )
    }
}
