//! The panel: for every unit (a locality at each administrative level, or a PRIO-GRID
//! cell) and every period of a range, the counts of events and fatalities by category and
//! dimension, the events targeting civilians, the people displaced, and the latest value of
//! each measured indicator. Zeros are explicit: a unit with no event in a period has a cell
//! of zeros, not a missing cell.
//!
//! Rules:
//! - an event counts in the period of its end date (`occurred_end`);
//! - it counts in every locality of its path (country, province, district, commune), so a
//!   parent's count is the sum of its children's plus the events placed at the parent only;
//! - it counts in its PRIO-GRID cell unless it is located only to a province or the country
//!   or more vaguely (`where_prec` ≥ 4); an unknown precision counts;
//! - an unknown fatality or displacement figure adds nothing to the sums;
//! - a measured indicator takes, in each period, the observation of that locality that
//!   started latest on or before the period's last day, optionally for at most
//!   `carry_forward` periods after the period it started in.
//!
//! The counts are kept sparse: per (unit, period) cell, indexed by `unit × periods +
//! period`, only its non-zero slots (events and fatalities per category column,
//! civilian-targeting events, people displaced), since most cells of a long panel of
//! many districts and categories are empty (5,201 units × 240 months × 24 categories
//! took 250 MB dense). Indicator values are one dense array of `f64` by the same index.
//! [`Panel::bytes_needed`] gives the dense size, an upper bound, before building.

use crate::period::{Period, PeriodRange};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use usalama_domain::{
    AdminLevel, Dimension, Event, IndicatorObservation, LocalityId, LocalityPath, Taxonomy,
};

/// The `where_prec` from which an event is left out of grid cells (located only to a
/// province, a larger region, the country, or international waters).
pub const GRID_IMPRECISE_FROM: u8 = 4;

/// What the panel needs to know about one event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFact {
    /// The event's locality at each level, country first.
    pub path: LocalityPath,
    /// The last day the event may have happened; it counts in this day's period.
    pub occurred_end: NaiveDate,
    /// Its human-security dimension.
    pub dimension: Dimension,
    /// Its category code.
    pub category: String,
    /// Best estimate of people killed; `None` when unknown.
    pub fatalities: Option<u32>,
    /// Whether civilians were deliberately targeted.
    pub civilians_targeted: bool,
    /// People displaced; `None` when unknown.
    pub displaced: Option<u32>,
    /// Where the record comes from (`ucdp-ged`, `web`, …).
    pub source: String,
    /// UCDP-style location precision 1–7, if known.
    pub where_prec: Option<u8>,
    /// The PRIO-GRID cell id (`priogrid_gid`), if known.
    pub priogrid: Option<i64>,
}

impl EventFact {
    /// The fact of a validated event. The event keeps only its deepest locality, so the
    /// caller passes the full path (the store keeps it) and the grid cell (from the source
    /// row or computed from the point).
    pub fn from_event(event: &Event, path: LocalityPath, priogrid: Option<i64>) -> Self {
        Self {
            path,
            occurred_end: event.occurred_end,
            dimension: event.dimension,
            category: event.category.clone(),
            fatalities: event.casualties.killed_best,
            civilians_targeted: event.civilians_targeted,
            displaced: event.casualties.displaced,
            source: event.source.clone(),
            where_prec: event.location_precision.map(|p| p.code()),
            priogrid,
        }
    }
}

/// The level of a unit of analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Country.
    Adm0,
    /// First-order division.
    Adm1,
    /// Second-order division.
    Adm2,
    /// Third-order division.
    Adm3,
    /// A PRIO-GRID cell (0.5° × 0.5°).
    Grid,
}

impl Level {
    /// All levels, the country first and the grid last.
    pub const ALL: [Level; 5] = [Self::Adm0, Self::Adm1, Self::Adm2, Self::Adm3, Self::Grid];

    /// The lowercase name (`adm1`, `grid`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Adm0 => "adm0",
            Self::Adm1 => "adm1",
            Self::Adm2 => "adm2",
            Self::Adm3 => "adm3",
            Self::Grid => "grid",
        }
    }

    /// The position of the level in [`Level::ALL`].
    pub fn position(&self) -> usize {
        *self as usize
    }
}

impl From<AdminLevel> for Level {
    fn from(l: AdminLevel) -> Self {
        match l {
            AdminLevel::Adm0 => Self::Adm0,
            AdminLevel::Adm1 => Self::Adm1,
            AdminLevel::Adm2 => Self::Adm2,
            AdminLevel::Adm3 => Self::Adm3,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "adm0" => Ok(Self::Adm0),
            "adm1" => Ok(Self::Adm1),
            "adm2" => Ok(Self::Adm2),
            "adm3" => Ok(Self::Adm3),
            "grid" | "pgm" | "priogrid" => Ok(Self::Grid),
            other => Err(format!(
                "'{other}' is not one of adm0, adm1, adm2, adm3, grid"
            )),
        }
    }
}

/// A unit of analysis: a locality or a PRIO-GRID cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// An administrative area.
    Locality(LocalityId),
    /// A PRIO-GRID cell by its `gid`.
    Cell(i64),
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Locality(id) => id.fmt(f),
            Self::Cell(gid) => write!(f, "priogrid:{gid}"),
        }
    }
}

/// A unit of the panel with its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitInfo {
    /// The unit.
    pub unit: Unit,
    /// Its level.
    pub level: Level,
}

/// A category column of the panel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CategoryColumn {
    /// The dimension the events of this column were filed under.
    pub dimension: Dimension,
    /// The category code.
    pub code: String,
}

/// What to build: the period range, the units that must be present even without events
/// (their zeros are then explicit), the category columns that must be present, and filters.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelSpec {
    /// The periods, in one granularity.
    pub range: PeriodRange,
    /// Localities to include with their level. Localities found in event paths are added
    /// at the level of their position in the path.
    pub localities: Vec<(LocalityId, AdminLevel)>,
    /// PRIO-GRID cells to include. Cells of counted events are added.
    pub cells: Vec<i64>,
    /// Category columns to include, each with its dimension. Categories found in events
    /// are added.
    pub categories: Vec<(Dimension, String)>,
    /// Count only events from these sources; `None` counts every source.
    pub sources: Option<Vec<String>>,
    /// Use an indicator observation for at most this many periods after the period it
    /// starts in; `None` carries it forward until the next observation.
    pub carry_forward: Option<u32>,
}

impl PanelSpec {
    /// A spec for `range` with no declared units or categories, every source and
    /// unlimited carry-forward.
    pub fn new(range: PeriodRange) -> Self {
        Self {
            range,
            localities: Vec::new(),
            cells: Vec::new(),
            categories: Vec::new(),
            sources: None,
            carry_forward: None,
        }
    }

    /// Adds localities that must be present.
    pub fn with_localities(
        mut self,
        localities: impl IntoIterator<Item = (LocalityId, AdminLevel)>,
    ) -> Self {
        self.localities.extend(localities);
        self
    }

    /// Adds grid cells that must be present.
    pub fn with_cells(mut self, cells: impl IntoIterator<Item = i64>) -> Self {
        self.cells.extend(cells);
        self
    }

    /// Adds one column for every category of the taxonomy.
    pub fn with_taxonomy(mut self, taxonomy: &Taxonomy) -> Self {
        self.categories.extend(
            taxonomy
                .categories()
                .iter()
                .map(|c| (c.dimension, c.code.clone())),
        );
        self
    }

    /// Counts only events from these sources.
    pub fn with_sources(mut self, sources: impl IntoIterator<Item = String>) -> Self {
        self.sources = Some(sources.into_iter().collect());
        self
    }

    /// Limits how long an indicator observation is carried forward.
    pub fn with_carry_forward(mut self, periods: u32) -> Self {
        self.carry_forward = Some(periods);
        self
    }
}

/// What happened to the inputs while building a panel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PanelStats {
    /// Facts given.
    pub facts: usize,
    /// Facts counted in at least one unit.
    pub counted: usize,
    /// Facts whose end date falls outside the range.
    pub outside_range: usize,
    /// Facts from a source the spec does not count.
    pub other_source: usize,
    /// Facts in range with neither a locality nor a counted grid cell.
    pub unplaced: usize,
    /// Facts with a grid cell left out of it because `where_prec` ≥ 4.
    pub left_out_of_grid: usize,
    /// Observations given.
    pub observations: usize,
    /// Observations that set at least one cell.
    pub observations_used: usize,
    /// Observations of a locality that is not in the panel.
    pub observations_unknown_locality: usize,
    /// Observations that start after the range or stop applying before it.
    pub observations_outside_range: usize,
}

/// Which events a count measure takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every event.
    All,
    /// Events of one dimension.
    Dimension(Dimension),
    /// Events of one category (in whatever dimension they were filed).
    Category(String),
}

/// A quantity of the panel, named in configuration files as
/// `events`, `events:lives`, `events:category:torture`, `fatalities` (same scopes),
/// `civilian_events`, `civilian_share`, `displaced` or `indicator:CODE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Measure {
    /// Number of events.
    Events(Scope),
    /// Sum of the best fatality estimates (unknown counts as nothing).
    Fatalities(Scope),
    /// Number of events targeting civilians.
    CivilianEvents,
    /// Events targeting civilians divided by all events, 0–1; missing when there was no
    /// event.
    CivilianShare,
    /// Sum of people displaced (unknown counts as nothing).
    Displaced,
    /// The latest measured value of an indicator; missing when there is none.
    Indicator(String),
}

impl Measure {
    /// Whether the measure is a count (always present, zero when nothing happened).
    pub fn is_count(&self) -> bool {
        !matches!(self, Self::CivilianShare | Self::Indicator(_))
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scoped = |f: &mut fmt::Formatter<'_>, name: &str, s: &Scope| match s {
            Scope::All => f.write_str(name),
            Scope::Dimension(d) => write!(f, "{name}:{d}"),
            Scope::Category(c) => write!(f, "{name}:category:{c}"),
        };
        match self {
            Self::Events(s) => scoped(f, "events", s),
            Self::Fatalities(s) => scoped(f, "fatalities", s),
            Self::CivilianEvents => f.write_str("civilian_events"),
            Self::CivilianShare => f.write_str("civilian_share"),
            Self::Displaced => f.write_str("displaced"),
            Self::Indicator(c) => write!(f, "indicator:{c}"),
        }
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl FromStr for Measure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "'{s}' is not a measure: use events, fatalities (optionally :DIMENSION or \
                 :category:CODE), civilian_events, civilian_share, displaced or indicator:CODE"
            )
        };
        let scope = |rest: Option<&str>| -> Result<Scope, String> {
            match rest {
                None => Ok(Scope::All),
                Some(r) => match r.strip_prefix("category:") {
                    Some(code) if is_code(code) => Ok(Scope::Category(code.to_string())),
                    Some(_) => Err(bad()),
                    None => r.parse().map(Scope::Dimension).map_err(|_| bad()),
                },
            }
        };
        let (head, rest) = match s.split_once(':') {
            Some((h, r)) => (h, Some(r)),
            None => (s, None),
        };
        match (head, rest) {
            ("events", r) => Ok(Self::Events(scope(r)?)),
            ("fatalities", r) => Ok(Self::Fatalities(scope(r)?)),
            ("civilian_events", None) => Ok(Self::CivilianEvents),
            ("civilian_share", None) => Ok(Self::CivilianShare),
            ("displaced", None) => Ok(Self::Displaced),
            ("indicator", Some(code)) if is_code(code) => Ok(Self::Indicator(code.to_string())),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for Measure {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Measure> for String {
    fn from(m: Measure) -> String {
        m.to_string()
    }
}

/// A measure resolved against one panel, for fast repeated reads with [`Panel::value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column(ColumnKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum ColumnKind {
    /// Sum of these count slots.
    SlotList(Vec<usize>),
    Civilian,
    CivilianShare,
    Displaced,
    Indicator(usize),
    /// The measure names a category or indicator the panel does not have.
    Absent,
}

impl Column {
    /// Whether the panel has no data at all for this measure (an unknown category or
    /// indicator).
    pub fn is_absent(&self) -> bool {
        self.0 == ColumnKind::Absent
    }
}

/// The non-zero count slots of every (unit, period) cell, cell after cell.
#[derive(Debug, Clone, Default)]
struct SparseCounts {
    /// Where each cell's slots start in `slots` and `values` (one more than the cells).
    offsets: Vec<usize>,
    /// Slot numbers (see [`Panel`]'s `counts`), ascending within a cell.
    slots: Vec<u32>,
    /// The slots' values, never zero.
    values: Vec<u32>,
}

/// The non-zero count slots of one cell.
#[derive(Clone, Copy)]
struct CellCounts<'a> {
    slots: &'a [u32],
    values: &'a [u32],
}

impl CellCounts<'_> {
    /// The value of `slot` (zero when absent).
    fn get(&self, slot: usize) -> u32 {
        self.slots
            .iter()
            .position(|&s| s as usize == slot)
            .map_or(0, |i| self.values[i])
    }

    /// The slots with their values.
    fn iter(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.slots
            .iter()
            .zip(self.values)
            .map(|(&s, &v)| (s as usize, v))
    }
}

/// The locality × period panel. See the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct Panel {
    range: PeriodRange,
    periods: usize,
    units: Vec<UnitInfo>,
    localities: HashMap<LocalityId, usize>,
    cells: HashMap<i64, usize>,
    categories: Vec<CategoryColumn>,
    /// Category columns of each dimension, in `Dimension::ALL` order (contiguous).
    dimension_columns: [Range<usize>; 3],
    /// Per cell: events and fatalities of each category column, interleaved, then
    /// civilian-targeting events, then people displaced (`stride` slots; only the
    /// non-zero ones kept).
    counts: SparseCounts,
    stride: usize,
    indicators: Vec<String>,
    /// Per cell: one value per indicator, NaN when there is none.
    indicator_values: Vec<f64>,
    stats: PanelStats,
}

const NONE: u32 = u32::MAX;

fn dim_pos(d: Dimension) -> usize {
    match d {
        Dimension::Lives => 0,
        Dimension::Livelihood => 1,
        Dimension::Dignity => 2,
    }
}

/// One fact resolved to a period, its units (up to four localities and a cell; `NONE`
/// where absent) and its category column, all as provisional ids.
struct Resolved {
    period: u32,
    units: [u32; 5],
    category: u32,
}

/// Provisional ids for units and category columns, assigned as they are first seen, then
/// put in their final order.
struct Registers {
    units: Vec<UnitInfo>,
    localities: HashMap<LocalityId, u32>,
    cells: HashMap<i64, u32>,
    categories: Vec<CategoryColumn>,
    /// One map per dimension, so that lookups borrow the fact's code.
    category_ids: [HashMap<String, u32>; 3],
    /// The first `declared` categories come from the spec.
    declared: usize,
}

impl Registers {
    fn new(spec: &PanelSpec) -> Self {
        let mut r = Self {
            units: Vec::new(),
            localities: HashMap::new(),
            cells: HashMap::new(),
            categories: Vec::new(),
            category_ids: Default::default(),
            declared: 0,
        };
        for &(id, level) in &spec.localities {
            r.locality(id, level.into());
        }
        for &gid in &spec.cells {
            r.cell(gid);
        }
        for (d, code) in &spec.categories {
            r.category(*d, code);
        }
        r.declared = r.categories.len();
        r
    }

    fn locality(&mut self, id: LocalityId, level: Level) -> u32 {
        let units = &mut self.units;
        *self.localities.entry(id).or_insert_with(|| {
            units.push(UnitInfo {
                unit: Unit::Locality(id),
                level,
            });
            (units.len() - 1) as u32
        })
    }

    fn cell(&mut self, gid: i64) -> u32 {
        let units = &mut self.units;
        *self.cells.entry(gid).or_insert_with(|| {
            units.push(UnitInfo {
                unit: Unit::Cell(gid),
                level: Level::Grid,
            });
            (units.len() - 1) as u32
        })
    }

    fn category(&mut self, dimension: Dimension, code: &str) -> u32 {
        let map = &mut self.category_ids[dim_pos(dimension)];
        if let Some(&c) = map.get(code) {
            return c;
        }
        let c = self.categories.len() as u32;
        map.insert(code.to_string(), c);
        self.categories.push(CategoryColumn {
            dimension,
            code: code.to_string(),
        });
        c
    }

    /// Resolves one fact, counting what is left out in `stats`.
    fn resolve(
        &mut self,
        fact: &EventFact,
        spec: &PanelSpec,
        stats: &mut PanelStats,
    ) -> Option<Resolved> {
        if let Some(sources) = &spec.sources {
            if !sources.contains(&fact.source) {
                stats.other_source += 1;
                return None;
            }
        }
        let range = spec.range;
        let position = range.ordinal_of_date(fact.occurred_end) - range.first().ordinal();
        let Some(period) = u32::try_from(position)
            .ok()
            .filter(|&t| (t as usize) < range.len())
        else {
            stats.outside_range += 1;
            return None;
        };
        let mut units = [NONE; 5];
        for (depth, id) in fact.path.0.iter().enumerate() {
            let Some(id) = id else { continue };
            // The same locality twice in a path counts once.
            if !fact.path.0[..depth].contains(&Some(*id)) {
                units[depth] = self.locality(*id, Level::ALL[depth]);
            }
        }
        if let Some(gid) = fact.priogrid {
            if fact.where_prec.is_some_and(|p| p >= GRID_IMPRECISE_FROM) {
                stats.left_out_of_grid += 1;
            } else {
                units[4] = self.cell(gid);
            }
        }
        if units.iter().all(|&u| u == NONE) {
            stats.unplaced += 1;
            return None;
        }
        stats.counted += 1;
        Some(Resolved {
            period,
            units,
            category: self.category(fact.dimension, &fact.category),
        })
    }

    /// Units by level then id, and each provisional id's final position.
    fn final_units(&self) -> (Vec<UnitInfo>, Vec<u32>) {
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        order.sort_by_key(|&i| (self.units[i].level, self.units[i].unit));
        finalise(&order, &self.units)
    }

    /// Categories by dimension, the declared ones first in their order, then the
    /// discovered ones by code; and each provisional id's final position.
    fn final_categories(&self) -> (Vec<CategoryColumn>, Vec<u32>) {
        let declared = self.declared;
        let key = |i: usize| {
            let c = &self.categories[i];
            let discovered = i >= declared;
            let code = if discovered { c.code.as_str() } else { "" };
            (dim_pos(c.dimension), discovered, code, i)
        };
        let mut order: Vec<usize> = (0..self.categories.len()).collect();
        order.sort_by(|&a, &b| key(a).cmp(&key(b)));
        finalise(&order, &self.categories)
    }
}

/// The items in `order`, and for each provisional index its final position.
fn finalise<T: Clone>(order: &[usize], items: &[T]) -> (Vec<T>, Vec<u32>) {
    let mut position = vec![0u32; items.len()];
    for (fin, &prov) in order.iter().enumerate() {
        position[prov] = fin as u32;
    }
    (order.iter().map(|&i| items[i].clone()).collect(), position)
}

/// The contiguous category columns of each dimension (columns are grouped by dimension).
fn dimension_columns(categories: &[CategoryColumn]) -> [Range<usize>; 3] {
    Dimension::ALL.map(|d| {
        let start = categories.iter().position(|c| c.dimension == d);
        let n = categories.iter().filter(|c| c.dimension == d).count();
        start.map_or(0..0, |s| s..s + n)
    })
}

/// The indicator codes (sorted) and their dense values, NaN where none applies.
fn indicator_values(
    spec: &PanelSpec,
    units: usize,
    localities: &HashMap<LocalityId, usize>,
    observations: &[IndicatorObservation],
    stats: &mut PanelStats,
) -> (Vec<String>, Vec<f64>) {
    let range = spec.range;
    let periods = range.len();
    let first = range.first().ordinal();
    let mut by_code: BTreeMap<&str, Vec<(usize, NaiveDate, NaiveDate, usize)>> = BTreeMap::new();
    for (k, o) in observations.iter().enumerate() {
        match localities.get(&o.locality) {
            Some(&u) => by_code.entry(o.indicator.as_str()).or_default().push((
                u,
                o.period_start,
                o.period_end,
                k,
            )),
            None => stats.observations_unknown_locality += 1,
        }
    }
    let codes: Vec<String> = by_code.keys().map(|c| c.to_string()).collect();
    let n = codes.len();
    let mut values = vec![f64::NAN; units * periods * n];
    for (i, (_, mut list)) in by_code.into_iter().enumerate() {
        // Per unit in start order, so that the latest-starting observation wins wherever
        // several apply.
        list.sort();
        for (u, start, _, k) in list {
            let p0 = range.ordinal_of_date(start) - first;
            let p1 = match spec.carry_forward {
                Some(cf) => p0.saturating_add(i64::from(cf)),
                None => i64::MAX,
            }
            .min(periods as i64 - 1);
            if p0 >= periods as i64 || p1 < 0 {
                stats.observations_outside_range += 1;
                continue;
            }
            stats.observations_used += 1;
            let value = observations[k].value;
            for t in p0.max(0) as usize..=p1 as usize {
                values[(u * periods + t) * n + i] = value;
            }
        }
    }
    (codes, values)
}

impl Panel {
    /// Bytes of the arrays of a panel with these dimensions if its counts were dense: 4
    /// bytes per count slot (events and fatalities per category column,
    /// civilian-targeting events, displaced) and 8 per indicator, for each unit and
    /// period. An upper bound of what a panel takes, its counts being kept sparse.
    pub fn bytes_needed(
        units: usize,
        periods: usize,
        categories: usize,
        indicators: usize,
    ) -> usize {
        units
            .saturating_mul(periods)
            .saturating_mul((2 * categories + 2) * 4 + indicators * 8)
    }

    /// Bytes held by this panel's arrays: the sparse counts and the indicator values.
    pub fn bytes(&self) -> usize {
        self.counts.offsets.len() * std::mem::size_of::<usize>()
            + (self.counts.slots.len() + self.counts.values.len()) * 4
            + self.indicator_values.len() * 8
    }

    /// Builds the panel of `facts` and `observations` as `spec` says.
    pub fn build(
        spec: &PanelSpec,
        facts: &[EventFact],
        observations: &[IndicatorObservation],
    ) -> Self {
        let mut b = PanelBuilder::new(spec);
        b.add(facts);
        b.finish(observations)
    }
}

/// What a [`PanelBuilder`] keeps of one counted fact: its resolution and its counts.
struct Kept {
    resolved: Resolved,
    fatalities: u32,
    displaced: u32,
    civilians_targeted: bool,
}

/// Builds a [`Panel`] from facts handed over in batches (as a store scan reads them),
/// keeping of each fact only its resolved period, units and category column and its
/// counts (about 40 bytes), so that a caller never holds every [`EventFact`] at once.
/// The result is the same as [`Panel::build`] given all the facts in the same order.
pub struct PanelBuilder<'a> {
    spec: &'a PanelSpec,
    registers: Registers,
    kept: Vec<Kept>,
    stats: PanelStats,
}

impl<'a> PanelBuilder<'a> {
    /// A builder for the panel `spec` describes (its range must cover the facts to count).
    pub fn new(spec: &'a PanelSpec) -> Self {
        Self {
            spec,
            registers: Registers::new(spec),
            kept: Vec::new(),
            stats: PanelStats::default(),
        }
    }

    /// Resolves a batch of facts (the first pass of [`Panel::build`]).
    pub fn add(&mut self, facts: &[EventFact]) {
        self.stats.facts += facts.len();
        for f in facts {
            if let Some(resolved) = self.registers.resolve(f, self.spec, &mut self.stats) {
                self.kept.push(Kept {
                    resolved,
                    fatalities: f.fatalities.unwrap_or(0),
                    displaced: f.displaced.unwrap_or(0),
                    civilians_targeted: f.civilians_targeted,
                });
            }
        }
    }

    /// The panel of every fact added and of `observations`.
    pub fn finish(self, observations: &[IndicatorObservation]) -> Panel {
        let Self {
            spec,
            registers,
            kept,
            mut stats,
        } = self;
        let range = spec.range;
        let periods = range.len();
        stats.observations = observations.len();
        let (units, unit_position) = registers.final_units();
        let (categories, category_position) = registers.final_categories();

        // Pass 2: the facts of each cell (a counting sort by cell), then each cell's
        // slots summed in one small buffer and only the non-zero ones kept.
        let stride = 2 * categories.len() + 2;
        let civilian = 2 * categories.len();
        let n_cells = units.len() * periods;
        let unit_position = &unit_position;
        let cells_of = move |k: &Kept| {
            let period = k.resolved.period as usize;
            k.resolved
                .units
                .into_iter()
                .filter(|&u| u != NONE)
                .map(move |u| unit_position[u as usize] as usize * periods + period)
        };
        // `start[c]..start[c + 1]`: the positions of cell `c`'s facts in `order`.
        let mut start = vec![0usize; n_cells + 1];
        for k in &kept {
            for c in cells_of(k) {
                start[c + 1] += 1;
            }
        }
        for c in 0..n_cells {
            start[c + 1] += start[c];
        }
        let mut order = vec![0u32; start[n_cells]];
        for (i, k) in kept.iter().enumerate() {
            for c in cells_of(k) {
                // Facts are far fewer than 2^32 (each is kept in memory).
                order[start[c]] = i as u32;
                start[c] += 1;
            }
        }
        // Each `start[c]` now holds the end of cell `c`: shift back to the starts.
        for c in (1..=n_cells).rev() {
            start[c] = start[c - 1];
        }
        start[0] = 0;
        let mut counts = SparseCounts {
            offsets: Vec::with_capacity(n_cells + 1),
            ..Default::default()
        };
        let mut cell = vec![0u32; stride];
        for c in 0..n_cells {
            counts.offsets.push(counts.slots.len());
            let facts = &order[start[c]..start[c + 1]];
            if facts.is_empty() {
                continue;
            }
            for &i in facts {
                let k = &kept[i as usize];
                let col = 2 * category_position[k.resolved.category as usize] as usize;
                cell[col] = cell[col].saturating_add(1);
                cell[col + 1] = cell[col + 1].saturating_add(k.fatalities);
                if k.civilians_targeted {
                    cell[civilian] = cell[civilian].saturating_add(1);
                }
                cell[civilian + 1] = cell[civilian + 1].saturating_add(k.displaced);
            }
            for (slot, v) in cell.iter_mut().enumerate() {
                if *v != 0 {
                    counts.slots.push(slot as u32);
                    counts.values.push(*v);
                    *v = 0;
                }
            }
        }
        counts.offsets.push(counts.slots.len());
        counts.slots.shrink_to_fit();
        counts.values.shrink_to_fit();
        drop((order, start, kept));

        let mut localities = HashMap::new();
        let mut cells = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            match u.unit {
                Unit::Locality(id) => localities.insert(id, i),
                Unit::Cell(gid) => cells.insert(gid, i),
            };
        }
        let (indicators, indicator_values) =
            indicator_values(spec, units.len(), &localities, observations, &mut stats);

        Panel {
            range,
            periods,
            dimension_columns: dimension_columns(&categories),
            units,
            localities,
            cells,
            categories,
            counts,
            stride,
            indicators,
            indicator_values,
            stats,
        }
    }
}

impl Panel {
    /// The period range (the time axis).
    pub fn range(&self) -> PeriodRange {
        self.range
    }

    /// The number of periods.
    pub fn periods(&self) -> usize {
        self.periods
    }

    /// The units in order: by level (country first, grid last), then by id. A unit's
    /// position here is its index `u` in every accessor.
    pub fn units(&self) -> &[UnitInfo] {
        &self.units
    }

    /// The index of a unit, if it is in the panel.
    pub fn unit_index(&self, unit: &Unit) -> Option<usize> {
        match unit {
            Unit::Locality(id) => self.localities.get(id).copied(),
            Unit::Cell(gid) => self.cells.get(gid).copied(),
        }
    }

    /// The indices of the units of one level (contiguous, since units are ordered by level).
    pub fn units_of(&self, level: Level) -> Range<usize> {
        let start = self.units.partition_point(|u| u.level < level);
        let end = self.units.partition_point(|u| u.level <= level);
        start..end
    }

    /// The category columns, grouped by dimension.
    pub fn categories(&self) -> &[CategoryColumn] {
        &self.categories
    }

    /// The indicator codes with at least one observation of a panel locality, sorted.
    pub fn indicators(&self) -> &[String] {
        &self.indicators
    }

    /// What happened to the inputs.
    pub fn stats(&self) -> &PanelStats {
        &self.stats
    }

    /// The non-zero slots of unit `u` in period `t` (none outside the panel).
    fn cell(&self, u: usize, t: usize) -> CellCounts<'_> {
        let range = (t < self.periods)
            .then(|| u * self.periods + t)
            .and_then(|c| Some(*self.counts.offsets.get(c)?..*self.counts.offsets.get(c + 1)?));
        match range {
            Some(r) => CellCounts {
                slots: &self.counts.slots[r.clone()],
                values: &self.counts.values[r],
            },
            None => CellCounts {
                slots: &[],
                values: &[],
            },
        }
    }

    fn slot(&self, u: usize, t: usize, slot: usize) -> u32 {
        if slot >= self.stride {
            return 0;
        }
        self.cell(u, t).get(slot)
    }

    fn column_sum(&self, u: usize, t: usize, columns: Range<usize>, offset: usize) -> u64 {
        let (from, to) = (2 * columns.start, 2 * columns.end);
        self.cell(u, t)
            .iter()
            .filter(|&(s, _)| s >= from && s < to && s % 2 == offset)
            .map(|(_, v)| u64::from(v))
            .sum()
    }

    fn scope_columns(&self, scope: Option<Dimension>) -> Range<usize> {
        match scope {
            None => 0..self.categories.len(),
            Some(d) => self.dimension_columns[dim_pos(d)].clone(),
        }
    }

    /// Events of unit `u` in period `t`, of one dimension or all (`None`). Zero outside the
    /// panel.
    pub fn events(&self, u: usize, t: usize, dimension: Option<Dimension>) -> u64 {
        self.column_sum(u, t, self.scope_columns(dimension), 0)
    }

    /// Fatalities (sum of best estimates) of unit `u` in period `t`, of one dimension or
    /// all.
    pub fn fatalities(&self, u: usize, t: usize, dimension: Option<Dimension>) -> u64 {
        self.column_sum(u, t, self.scope_columns(dimension), 1)
    }

    /// Events of category column `c` (see [`Panel::categories`]).
    pub fn category_events(&self, u: usize, t: usize, c: usize) -> u32 {
        self.slot(u, t, 2 * c)
    }

    /// Fatalities of category column `c`.
    pub fn category_fatalities(&self, u: usize, t: usize, c: usize) -> u32 {
        self.slot(u, t, 2 * c + 1)
    }

    /// Events targeting civilians.
    pub fn civilian_events(&self, u: usize, t: usize) -> u32 {
        self.slot(u, t, 2 * self.categories.len())
    }

    /// Share of events targeting civilians, 0–1; `None` when there was no event.
    pub fn civilian_share(&self, u: usize, t: usize) -> Option<f64> {
        let all = self.events(u, t, None);
        (all > 0).then(|| f64::from(self.civilian_events(u, t)) / all as f64)
    }

    /// People displaced (sum of known figures).
    pub fn displaced(&self, u: usize, t: usize) -> u32 {
        self.slot(u, t, 2 * self.categories.len() + 1)
    }

    /// The latest value of indicator `code` for unit `u` in period `t`, if any.
    pub fn indicator(&self, u: usize, t: usize, code: &str) -> Option<f64> {
        let i = self.indicators.iter().position(|c| c == code)?;
        self.indicator_at(u, t, i)
    }

    fn indicator_at(&self, u: usize, t: usize, i: usize) -> Option<f64> {
        let n = self.indicators.len();
        self.indicator_values
            .get((u * self.periods + t) * n + i)
            .copied()
            .filter(|v| !v.is_nan())
    }

    /// Resolves a measure against this panel for [`Panel::value`].
    pub fn column(&self, measure: &Measure) -> Column {
        let scoped = |scope: &Scope, offset: usize| match scope {
            Scope::All => {
                ColumnKind::SlotList((0..self.categories.len()).map(|c| 2 * c + offset).collect())
            }
            Scope::Dimension(d) => ColumnKind::SlotList(
                self.dimension_columns[dim_pos(*d)]
                    .clone()
                    .map(|c| 2 * c + offset)
                    .collect(),
            ),
            Scope::Category(code) => {
                let slots: Vec<usize> = self
                    .categories
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| &c.code == code)
                    .map(|(c, _)| 2 * c + offset)
                    .collect();
                if slots.is_empty() {
                    ColumnKind::Absent
                } else {
                    ColumnKind::SlotList(slots)
                }
            }
        };
        Column(match measure {
            Measure::Events(s) => scoped(s, 0),
            Measure::Fatalities(s) => scoped(s, 1),
            Measure::CivilianEvents => ColumnKind::Civilian,
            Measure::CivilianShare => ColumnKind::CivilianShare,
            Measure::Displaced => ColumnKind::Displaced,
            Measure::Indicator(code) => match self.indicators.iter().position(|c| c == code) {
                Some(i) => ColumnKind::Indicator(i),
                None => ColumnKind::Absent,
            },
        })
    }

    /// The value of a resolved column for unit `u` in period `t`: counts are always
    /// present (zero when nothing happened); shares and indicators may be missing.
    pub fn value(&self, column: &Column, u: usize, t: usize) -> Option<f64> {
        if u >= self.units.len() || t >= self.periods {
            return None;
        }
        let cell = self.cell(u, t);
        match &column.0 {
            ColumnKind::SlotList(slots) => Some(
                slots
                    .iter()
                    .filter(|&&s| s < self.stride)
                    .map(|&s| f64::from(cell.get(s)))
                    .sum(),
            ),
            ColumnKind::Civilian => Some(f64::from(self.civilian_events(u, t))),
            ColumnKind::CivilianShare => self.civilian_share(u, t),
            ColumnKind::Displaced => Some(f64::from(self.displaced(u, t))),
            ColumnKind::Indicator(i) => self.indicator_at(u, t, *i),
            ColumnKind::Absent => None,
        }
    }

    /// The value of `measure` for `unit` in `period`, if the unit and period are in the
    /// panel and the value is present.
    pub fn get(&self, measure: &Measure, unit: &Unit, period: Period) -> Option<f64> {
        let u = self.unit_index(unit)?;
        let t = self.range.index_of(period)?;
        self.value(&self.column(measure), u, t)
    }

    /// The whole series of a count measure for unit `u`, one value per period; `None` for
    /// a measure that is not a count, an absent column or an unknown unit.
    pub fn count_series(&self, u: usize, measure: &Measure) -> Option<Vec<u64>> {
        if !measure.is_count() || u >= self.units.len() {
            return None;
        }
        let column = self.column(measure);
        if column.is_absent() {
            return None;
        }
        Some(
            (0..self.periods)
                .map(|t| self.value(&column, u, t).unwrap_or(0.0) as u64)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Granularity;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn loc(code: &str) -> LocalityId {
        LocalityId::derived(code)
    }

    fn fact(path: [Option<&str>; 4], end: &str, category: &str) -> EventFact {
        EventFact {
            path: LocalityPath(path.map(|c| c.map(loc))),
            occurred_end: d(end),
            dimension: Dimension::Lives,
            category: category.into(),
            fatalities: Some(1),
            civilians_targeted: false,
            displaced: None,
            source: "ucdp-ged".into(),
            where_prec: Some(1),
            priogrid: None,
        }
    }

    fn months(a: &str, b: &str) -> PeriodRange {
        PeriodRange::new(a.parse().unwrap(), b.parse().unwrap()).unwrap()
    }

    fn obs(l: &str, start: &str, end: &str, code: &str, v: f64) -> IndicatorObservation {
        IndicatorObservation::new(loc(l), d(start), d(end), code, v, "", "test").unwrap()
    }

    #[test]
    fn counts_roll_up_the_path_with_explicit_zeros() {
        let spec = PanelSpec::new(months("2022-01", "2022-04")).with_localities([
            (loc("C"), AdminLevel::Adm0),
            (loc("P1"), AdminLevel::Adm1),
            (loc("P2"), AdminLevel::Adm1),
            (loc("D1"), AdminLevel::Adm2),
        ]);
        let mut a = fact(
            [Some("C"), Some("P1"), Some("D1"), None],
            "2022-02-10",
            "armed_violence",
        );
        a.fatalities = Some(4);
        a.civilians_targeted = true;
        a.displaced = Some(100);
        let mut b = fact(
            [Some("C"), Some("P1"), None, None],
            "2022-02-28",
            "abduction",
        );
        b.fatalities = None;
        let mut c = fact([Some("C"), None, None, None], "2022-04-01", "torture");
        c.dimension = Dimension::Dignity;
        c.fatalities = Some(2);
        let panel = Panel::build(&spec, &[a, b, c], &[]);

        assert_eq!(panel.units().len(), 4);
        assert_eq!(panel.periods(), 4);
        let u = |code: &str| panel.unit_index(&Unit::Locality(loc(code))).unwrap();
        // Country: 2 events in February, 1 in April; the unknown fatality adds nothing.
        assert_eq!(panel.events(u("C"), 1, None), 2);
        assert_eq!(panel.fatalities(u("C"), 1, None), 4);
        assert_eq!(panel.events(u("C"), 3, Some(Dimension::Dignity)), 1);
        assert_eq!(panel.events(u("C"), 3, Some(Dimension::Lives)), 0);
        assert_eq!(panel.fatalities(u("C"), 3, Some(Dimension::Dignity)), 2);
        assert_eq!(panel.events(u("P1"), 1, None), 2);
        assert_eq!(panel.events(u("D1"), 1, None), 1);
        assert_eq!(panel.displaced(u("D1"), 1), 100);
        assert_eq!(panel.civilian_share(u("P1"), 1), Some(0.5));
        assert_eq!(panel.civilian_share(u("P1"), 0), None);
        // Explicit zeros for a declared locality that never had an event.
        for t in 0..4 {
            assert_eq!(panel.events(u("P2"), t, None), 0);
            assert_eq!(
                panel.get(
                    &Measure::Events(Scope::All),
                    &Unit::Locality(loc("P2")),
                    panel.range().get(t).unwrap()
                ),
                Some(0.0)
            );
        }
        // Category columns: grouped by dimension, discovered ones sorted by code.
        let codes: Vec<&str> = panel.categories().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["abduction", "armed_violence", "torture"]);
        assert_eq!(panel.category_events(u("C"), 1, 0), 1);
        assert_eq!(panel.units_of(Level::Adm1), 1..3);
        assert_eq!(panel.stats().counted, 3);
    }

    #[test]
    fn declared_categories_keep_their_order_and_their_zeros() {
        let mut spec = PanelSpec::new(months("2022-01", "2022-02"));
        spec.categories = vec![
            (Dimension::Dignity, "torture".into()),
            (Dimension::Lives, "b_cat".into()),
            (Dimension::Lives, "a_cat".into()),
            (Dimension::Lives, "b_cat".into()),
        ];
        let f = fact([Some("C"), None, None, None], "2022-01-05", "c_cat");
        let panel = Panel::build(&spec, &[f], &[]);
        let columns: Vec<(Dimension, &str)> = panel
            .categories()
            .iter()
            .map(|c| (c.dimension, c.code.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                (Dimension::Lives, "b_cat"),
                (Dimension::Lives, "a_cat"),
                (Dimension::Lives, "c_cat"),
                (Dimension::Dignity, "torture"),
            ]
        );
        let torture = Measure::Events(Scope::Category("torture".into()));
        assert_eq!(panel.count_series(0, &torture), Some(vec![0, 0]));
        assert_eq!(panel.events(0, 0, Some(Dimension::Lives)), 1);
        assert_eq!(panel.events(0, 0, Some(Dimension::Livelihood)), 0);
        assert_eq!(panel.category_events(0, 0, 2), 1);
    }

    #[test]
    fn events_count_in_the_period_of_their_end_date() {
        let spec = PanelSpec::new(months("2022-01", "2022-03"));
        let mut f = fact(
            [Some("C"), None, None, None],
            "2022-02-01",
            "armed_violence",
        );
        f.occurred_end = d("2022-02-01");
        let outside = fact(
            [Some("C"), None, None, None],
            "2022-04-01",
            "armed_violence",
        );
        let before = fact(
            [Some("C"), None, None, None],
            "2021-12-31",
            "armed_violence",
        );
        let panel = Panel::build(&spec, &[f, outside, before], &[]);
        assert_eq!(
            panel.count_series(0, &Measure::Events(Scope::All)),
            Some(vec![0, 1, 0])
        );
        assert_eq!(panel.stats().outside_range, 2);

        let weeks =
            PeriodRange::covering(Granularity::Week, d("2020-12-28"), d("2021-01-10")).unwrap();
        let f = fact(
            [Some("C"), None, None, None],
            "2021-01-03",
            "armed_violence",
        );
        let panel = Panel::build(&PanelSpec::new(weeks), &[f], &[]);
        // 2021-01-03 is in 2020-W53, the first week of the range.
        assert_eq!(
            panel.count_series(0, &Measure::Events(Scope::All)),
            Some(vec![1, 0])
        );
    }

    #[test]
    fn grid_cells_leave_out_imprecise_events_that_the_country_counts() {
        let spec = PanelSpec::new(months("2022-01", "2022-01")).with_cells([7]);
        let mut precise = fact(
            [Some("C"), Some("P"), None, None],
            "2022-01-05",
            "armed_violence",
        );
        precise.priogrid = Some(100);
        precise.where_prec = Some(3);
        let mut province_only = precise.clone();
        province_only.where_prec = Some(4);
        let mut country_only = precise.clone();
        country_only.where_prec = Some(6);
        country_only.path = LocalityPath([Some(loc("C")), None, None, None]);
        let mut unknown_prec = precise.clone();
        unknown_prec.where_prec = None;
        let panel = Panel::build(
            &spec,
            &[precise, province_only, country_only, unknown_prec],
            &[],
        );
        let cell = panel.unit_index(&Unit::Cell(100)).unwrap();
        let country = panel.unit_index(&Unit::Locality(loc("C"))).unwrap();
        assert_eq!(panel.events(cell, 0, None), 2);
        assert_eq!(panel.events(country, 0, None), 4);
        assert_eq!(
            panel.events(panel.unit_index(&Unit::Cell(7)).unwrap(), 0, None),
            0
        );
        assert_eq!(panel.units_of(Level::Grid).len(), 2);
        assert_eq!(panel.units()[cell].level, Level::Grid);
        assert_eq!(panel.stats().left_out_of_grid, 2);
    }

    #[test]
    fn sources_filter_and_unplaced_facts_are_reported() {
        let spec = PanelSpec::new(months("2022-01", "2022-01")).with_sources(["web".to_string()]);
        let ucdp = fact(
            [Some("C"), None, None, None],
            "2022-01-05",
            "armed_violence",
        );
        let mut web = ucdp.clone();
        web.source = "web".into();
        let mut nowhere = web.clone();
        nowhere.path = LocalityPath::default();
        let panel = Panel::build(&spec, &[ucdp, web, nowhere], &[]);
        assert_eq!(panel.events(0, 0, None), 1);
        let s = panel.stats();
        assert_eq!(
            (s.facts, s.counted, s.other_source, s.unplaced),
            (3, 1, 1, 1)
        );
    }

    #[test]
    fn indicators_take_the_latest_observation_at_or_before_each_period() {
        let spec = PanelSpec::new(months("2022-01", "2022-06"))
            .with_localities([(loc("P"), AdminLevel::Adm1), (loc("Q"), AdminLevel::Adm1)]);
        let observations = [
            obs("P", "2021-01-01", "2021-12-31", "population", 1000.0),
            obs("P", "2022-03-01", "2022-03-31", "population", 1200.0),
            obs("P", "2022-05-10", "2022-05-10", "food_price", 3.0),
            obs("P", "2022-05-20", "2022-05-20", "food_price", 4.0),
            obs("X", "2022-01-01", "2022-01-31", "population", 5.0),
            obs("Q", "2023-01-01", "2023-01-31", "population", 5.0),
        ];
        let panel = Panel::build(&spec, &[], &observations);
        let p = panel.unit_index(&Unit::Locality(loc("P"))).unwrap();
        let q = panel.unit_index(&Unit::Locality(loc("Q"))).unwrap();
        let pop: Vec<Option<f64>> = (0..6)
            .map(|t| panel.indicator(p, t, "population"))
            .collect();
        assert_eq!(
            pop,
            [
                Some(1000.0),
                Some(1000.0),
                Some(1200.0),
                Some(1200.0),
                Some(1200.0),
                Some(1200.0)
            ]
        );
        // Two observations start in May: the later one wins.
        assert_eq!(panel.indicator(p, 4, "food_price"), Some(4.0));
        assert_eq!(panel.indicator(p, 3, "food_price"), None);
        assert_eq!(panel.indicator(q, 0, "population"), None);
        assert_eq!(panel.indicators(), ["food_price", "population"]);
        let s = panel.stats();
        assert_eq!(s.observations_unknown_locality, 1);
        assert_eq!(s.observations_outside_range, 1);
        assert_eq!(s.observations_used, 4);

        // With a carry-forward of one period, the 2021 value has expired by 2022-01
        // (it started in 2021-01) and March's value lasts into April only.
        let limited = Panel::build(&spec.clone().with_carry_forward(1), &[], &observations);
        let pop: Vec<Option<f64>> = (0..6)
            .map(|t| limited.indicator(p, t, "population"))
            .collect();
        assert_eq!(pop, [None, None, Some(1200.0), Some(1200.0), None, None]);
    }

    #[test]
    fn measures_parse_format_and_resolve() {
        for s in [
            "events",
            "events:lives",
            "events:category:torture",
            "fatalities:dignity",
            "fatalities:category:armed_violence",
            "civilian_events",
            "civilian_share",
            "displaced",
            "indicator:food_price_index",
        ] {
            assert_eq!(s.parse::<Measure>().unwrap().to_string(), s);
        }
        for s in [
            "",
            "events:war",
            "indicator:",
            "indicator:Food",
            "displaced:lives",
            "events:category:",
        ] {
            assert!(s.parse::<Measure>().is_err(), "{s}");
        }
        assert!(!Measure::CivilianShare.is_count());
        let spec = PanelSpec::new(months("2022-01", "2022-01"));
        let panel = Panel::build(
            &spec,
            &[fact(
                [Some("C"), None, None, None],
                "2022-01-02",
                "armed_violence",
            )],
            &[],
        );
        assert!(panel
            .column(&"events:category:torture".parse().unwrap())
            .is_absent());
        assert!(panel
            .column(&"indicator:population".parse().unwrap())
            .is_absent());
        assert_eq!(
            panel.value(
                &panel.column(&Measure::Events(Scope::Dimension(Dimension::Dignity))),
                0,
                0
            ),
            Some(0.0)
        );
        assert_eq!(panel.count_series(0, &Measure::CivilianShare), None);
        assert_eq!(
            panel.count_series(
                0,
                &Measure::Fatalities(Scope::Category("armed_violence".into()))
            ),
            Some(vec![1])
        );
    }

    /// A deterministic generator (splitmix64).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn bytes_needed_for_the_benchmark_size_fit_in_memory() {
        // 5,000 localities × 240 months with 8 category columns and 2 indicators.
        let bytes = Panel::bytes_needed(5_000, 240, 8, 2);
        assert_eq!(bytes, 5_000 * 240 * (18 * 4 + 16));
        assert!(bytes < 128 * 1024 * 1024, "{bytes}");
        // The whole default taxonomy (24 categories) stays under 300 MB.
        assert!(Panel::bytes_needed(5_000, 240, 24, 2) < 300 * 1024 * 1024);
    }

    #[test]
    fn a_sparse_panel_keeps_only_its_non_zero_counts() {
        // 2,000 districts × 240 months, 20,000 events over 8 categories: most cells are
        // empty, as in a long panel of many districts.
        let districts: Vec<LocalityId> = (0..2000).map(|i| loc(&format!("d{i}"))).collect();
        let spec = PanelSpec::new(months("2003-01", "2022-12"))
            .with_localities(districts.iter().map(|&d| (d, AdminLevel::Adm2)));
        let cats = [
            "armed_violence",
            "violence_against_civilians",
            "torture",
            "food_insecurity",
            "abduction",
            "sexual_violence",
            "looting",
            "forced_displacement",
        ];
        let mut rng = Rng(7);
        let start = d("2003-01-01");
        let facts: Vec<EventFact> = (0..20_000)
            .map(|_| {
                let di = rng.below(2000) as usize;
                let c = rng.below(8) as usize;
                EventFact {
                    path: LocalityPath([None, None, Some(districts[di]), None]),
                    occurred_end: start + chrono::Days::new(rng.below(7300)),
                    dimension: Dimension::Lives,
                    category: cats[c].into(),
                    fatalities: (rng.below(3) > 0).then(|| rng.below(50) as u32),
                    civilians_targeted: c == 1,
                    displaced: (c == 7).then(|| rng.below(100) as u32),
                    source: "synthetic".into(),
                    where_prec: Some(1),
                    priogrid: None,
                }
            })
            .collect();
        let panel = Panel::build(&spec, &facts, &[]);
        assert_eq!(panel.stats().counted, 20_000);
        let dense = Panel::bytes_needed(2000, 240, 8, 0);
        assert!(panel.bytes() * 5 < dense, "{} of {dense}", panel.bytes());
        // Every cell equals a count made directly from the facts.
        let mut events: HashMap<(usize, usize), (u64, u64, u32, u32)> = HashMap::new();
        let range = panel.range();
        for f in &facts {
            let u = panel
                .unit_index(&Unit::Locality(f.path.0[2].unwrap()))
                .unwrap();
            let t = range.index_of_date(f.occurred_end).unwrap();
            let e = events.entry((u, t)).or_default();
            e.0 += 1;
            e.1 += u64::from(f.fatalities.unwrap_or(0));
            e.2 += u32::from(f.civilians_targeted);
            e.3 += f.displaced.unwrap_or(0);
        }
        for u in 0..panel.units().len() {
            for t in 0..panel.periods() {
                let want = events.get(&(u, t)).copied().unwrap_or_default();
                let got = (
                    panel.events(u, t, None),
                    panel.fatalities(u, t, None),
                    panel.civilian_events(u, t),
                    panel.displaced(u, t),
                );
                assert_eq!(got, want, "unit {u}, period {t}");
            }
        }
        let col = panel
            .categories()
            .iter()
            .position(|c| c.code == "torture")
            .unwrap();
        let torture: u64 = (0..panel.units().len())
            .flat_map(|u| (0..panel.periods()).map(move |t| (u, t)))
            .map(|(u, t)| u64::from(panel.category_events(u, t, col)))
            .sum();
        let want = facts.iter().filter(|f| f.category == "torture").count() as u64;
        assert_eq!(torture, want);
        // Outside the panel: zero.
        assert_eq!(panel.events(0, 240, None), 0);
        assert_eq!(panel.category_events(0, 0, 99), 0);
    }

    #[test]
    fn builds_a_200_by_120_panel_from_100_000_facts() {
        // 1 country, 19 provinces and 180 districts (district i lies in province i mod 19).
        let country = loc("country");
        let provinces: Vec<LocalityId> = (0..19).map(|i| loc(&format!("p{i}"))).collect();
        let districts: Vec<LocalityId> = (0..180).map(|i| loc(&format!("d{i}"))).collect();
        let mut spec = PanelSpec::new(months("2010-01", "2019-12"))
            .with_localities([(country, AdminLevel::Adm0)]);
        spec.localities
            .extend(provinces.iter().map(|&p| (p, AdminLevel::Adm1)));
        spec.localities
            .extend(districts.iter().map(|&d| (d, AdminLevel::Adm2)));
        let cats = [
            "armed_violence",
            "violence_against_civilians",
            "torture",
            "food_insecurity",
        ];
        let mut rng = Rng(42);
        let start = d("2010-01-01");
        let facts: Vec<EventFact> = (0..100_000)
            .map(|_| {
                let di = rng.below(180) as usize;
                let c = rng.below(4) as usize;
                EventFact {
                    path: LocalityPath([
                        Some(country),
                        Some(provinces[di % 19]),
                        Some(districts[di]),
                        None,
                    ]),
                    occurred_end: start + chrono::Days::new(rng.below(3652)),
                    dimension: match c {
                        2 => Dimension::Dignity,
                        3 => Dimension::Livelihood,
                        _ => Dimension::Lives,
                    },
                    category: cats[c].into(),
                    fatalities: (rng.below(4) > 0).then(|| rng.below(10) as u32),
                    civilians_targeted: c == 1,
                    displaced: None,
                    source: "synthetic".into(),
                    where_prec: Some(1),
                    priogrid: None,
                }
            })
            .collect();
        let panel = Panel::build(&spec, &facts, &[]);
        assert_eq!(panel.units().len(), 200);
        assert_eq!(panel.periods(), 120);
        // A full panel: the sparse counts (a slot number and a value per non-zero slot,
        // an offset per cell) take at most twice the dense size.
        assert!(panel.bytes() <= 2 * Panel::bytes_needed(200, 120, 4, 0) + (200 * 120 + 1) * 8);
        assert_eq!(panel.stats().counted, 100_000);

        let all = Measure::Events(Scope::All);
        let c = panel.unit_index(&Unit::Locality(country)).unwrap();
        let country_series = panel.count_series(c, &all).unwrap();
        assert_eq!(country_series.iter().sum::<u64>(), 100_000);
        // Every level adds up to the country in every period, and per dimension.
        for level in [Level::Adm1, Level::Adm2] {
            for (t, &total) in country_series.iter().enumerate() {
                let sum: u64 = panel
                    .units_of(level)
                    .map(|u| panel.events(u, t, None))
                    .sum();
                assert_eq!(sum, total);
                let lives: u64 = panel
                    .units_of(level)
                    .map(|u| panel.events(u, t, Some(Dimension::Lives)))
                    .sum();
                assert_eq!(lives, panel.events(c, t, Some(Dimension::Lives)));
            }
        }
        // Fatalities and the civilian share agree with a direct count.
        let expected_fatalities: u64 = facts
            .iter()
            .map(|f| u64::from(f.fatalities.unwrap_or(0)))
            .sum();
        let got: u64 = (0..120).map(|t| panel.fatalities(c, t, None)).sum();
        assert_eq!(got, expected_fatalities);
        let civ: u64 = (0..120)
            .map(|t| u64::from(panel.civilian_events(c, t)))
            .sum();
        assert_eq!(
            civ,
            facts.iter().filter(|f| f.civilians_targeted).count() as u64
        );
    }

    #[test]
    fn a_builder_fed_in_batches_gives_the_panel_of_all_the_facts() {
        let mut facts = vec![
            fact(
                [Some("C"), Some("P1"), Some("D1"), None],
                "2020-01-15",
                "armed_violence",
            ),
            fact(
                [Some("C"), Some("P1"), None, None],
                "2020-02-01",
                "abduction",
            ),
            fact(
                [Some("C"), Some("P2"), Some("D2"), None],
                "2020-03-31",
                "armed_violence",
            ),
            // Outside the range, unplaced, another source, a grid cell.
            fact(
                [Some("C"), Some("P2"), None, None],
                "2021-06-01",
                "armed_violence",
            ),
            fact([None, None, None, None], "2020-02-10", "armed_violence"),
            fact(
                [Some("C"), None, None, None],
                "2020-02-10",
                "food_insecurity",
            ),
        ];
        facts[1].fatalities = Some(7);
        facts[1].civilians_targeted = true;
        facts[2].displaced = Some(40);
        facts[5].source = "other".into();
        facts[4].priogrid = Some(123_456);
        let spec = PanelSpec::new(months("2020-01", "2020-03"))
            .with_localities([(loc("C"), AdminLevel::Adm0), (loc("P1"), AdminLevel::Adm1)])
            .with_sources(["ucdp-ged".to_string()]);
        let whole = Panel::build(&spec, &facts, &[]);
        let mut b = PanelBuilder::new(&spec);
        for chunk in facts.chunks(2) {
            b.add(chunk);
        }
        let batched = b.finish(&[]);
        assert_eq!(batched.stats(), whole.stats());
        assert_eq!(whole.stats().counted, 4);
        assert_eq!(batched.units(), whole.units());
        assert_eq!(batched.categories(), whole.categories());
        for u in 0..whole.units().len() {
            for t in 0..whole.periods() {
                assert_eq!(batched.events(u, t, None), whole.events(u, t, None));
                assert_eq!(batched.fatalities(u, t, None), whole.fatalities(u, t, None));
                assert_eq!(batched.civilian_events(u, t), whole.civilian_events(u, t));
            }
        }
        let c = whole.unit_index(&Unit::Locality(loc("C"))).unwrap();
        assert_eq!((0..3).map(|t| whole.events(c, t, None)).sum::<u64>(), 3);
        assert_eq!(whole.fatalities(c, 1, None), 7);
    }
}
