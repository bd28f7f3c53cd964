//! The full recompute of one administrative level: the dense unit × period panel of the
//! counts the index configuration and the detectors need (explicit zeros), the
//! human-security index of every cell, and both escalation detectors on every unit's
//! event and fatality series.
//!
//! It gives the same values as [`Panel`](crate::panel::Panel) +
//! [`HumanSecurityIndex`](crate::index::HumanSecurityIndex) restricted to one level (the
//! index is scaled per level, so a level computed alone has the same values), with the
//! same formulas in the same order, but:
//!
//! - units and periods are integer positions and each event has been reduced by the
//!   caller to a [`DenseFact`] (unit, period, column key, fatalities, displaced, civilians);
//! - the panel keeps only the count slots the configuration reads (events and fatalities
//!   of all events, of a dimension or of a category; civilian-targeting events; people
//!   displaced), not one pair per category, and only for the cells with events: a dense
//!   map of every unit × period points to a row of counts, every cell without events to
//!   the one row of zeros (at 1,000,000 events over 5,000 × 240 cells, 22 % have events);
//! - `log1p` of a count is read from a table of the same values, and the index is
//!   computed once per distinct row of counts (every cell without events shares the
//!   all-zero row; at 1,000,000 events about 270,000 rows with events hold about 13,500
//!   distinct counts), by the same code: every cell of a class gets its value, read
//!   through the panel's map of cells, which the index shares.
//!
//! Measured indicators (`indicator:CODE`, and so `per_100k`) have no value here, as in the
//! application's index, which builds its panel from events only.

use crate::detect::{
    Assessment, CusumConfig, Farrington, FarringtonConfig, FarringtonMemo, FastHash, Method,
    NbCusum,
};
use crate::index::{IndexConfig, IndexError, IndexValue, Scaling, Transform, SCALE_MAX};
use crate::panel::{Measure, Scope};
use crate::period::PeriodRange;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use usalama_domain::Dimension;

/// Counts below this have their `log1p` read from a table.
const LOG_TABLE: usize = 4096;

/// One event reduced to positions: what [`DensePanel::count_blocks`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseFact {
    /// The unit's position, below [`DensePanel::units`].
    pub unit: u32,
    /// The period's position in the range.
    pub period: u32,
    /// The (dimension, category) column key from [`DensePanel::key`].
    pub key: u32,
    /// Best estimate of people killed (unknown: 0).
    pub fatalities: u32,
    /// People displaced (unknown: 0).
    pub displaced: u32,
    /// Whether civilians were targeted.
    pub civilians: bool,
}

/// A count slot of the dense panel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Events(Scope),
    Fatalities(Scope),
    Civilian,
    Displaced,
}

/// Slot positions that are always present.
const EVENTS: usize = 0;
const FATALITIES: usize = 1;
const CIVILIAN: usize = 2;
const DISPLACED: usize = 3;

/// Where the events and fatalities of one (dimension, category) key are added.
#[derive(Debug, Clone)]
struct KeyPlan {
    dimension: Dimension,
    code: String,
    events: Vec<u16>,
    fatalities: Vec<u16>,
}

/// The dense panel of one level: for each unit and period, the count slots the index
/// configuration and the detectors read (cells without events share one row of zeros).
#[derive(Debug, Clone)]
pub struct DensePanel {
    range: PeriodRange,
    periods: usize,
    units: usize,
    slots: Vec<Slot>,
    keys: Vec<KeyPlan>,
    /// Per cell (`unit × periods + period`), its row in `counts`; 0 is the row of zeros.
    /// Shared with the [`DenseIndex`] computed from the panel.
    rows: Arc<Vec<u32>>,
    /// Rows of `slots.len()` counts; row 0 stays all zeros.
    counts: Vec<u32>,
}

impl DensePanel {
    /// An empty panel of `units` units over `range`, with the slots `config` reads and
    /// the (dimension, category) keys of `declared` (the taxonomy's categories) present.
    pub fn new(
        range: PeriodRange,
        units: usize,
        config: &IndexConfig,
        declared: impl IntoIterator<Item = (Dimension, String)>,
    ) -> Self {
        let mut slots = vec![
            Slot::Events(Scope::All),
            Slot::Fatalities(Scope::All),
            Slot::Civilian,
            Slot::Displaced,
        ];
        for i in &config.indicators {
            let s = match &i.measure {
                Measure::Events(s) => Slot::Events(s.clone()),
                Measure::Fatalities(s) => Slot::Fatalities(s.clone()),
                _ => continue,
            };
            if !slots.contains(&s) {
                slots.push(s);
            }
        }
        let periods = range.len();
        let mut panel = Self {
            range,
            periods,
            units,
            rows: Arc::new(vec![0; units * periods]),
            counts: vec![0; slots.len()],
            slots,
            keys: Vec::new(),
        };
        for (d, code) in declared {
            panel.key(d, &code);
        }
        panel
    }

    /// The key of events filed under dimension `d` and category `code`, added when new.
    pub fn key(&mut self, d: Dimension, code: &str) -> u32 {
        if let Some(k) = self
            .keys
            .iter()
            .position(|k| k.dimension == d && k.code == code)
        {
            return k as u32;
        }
        let takes = |s: &Scope| match s {
            Scope::All => true,
            Scope::Dimension(x) => *x == d,
            Scope::Category(c) => c == code,
        };
        let mut plan = KeyPlan {
            dimension: d,
            code: code.to_string(),
            events: Vec::new(),
            fatalities: Vec::new(),
        };
        for (i, s) in self.slots.iter().enumerate() {
            match s {
                Slot::Events(s) if takes(s) => plan.events.push(i as u16),
                Slot::Fatalities(s) if takes(s) => plan.fatalities.push(i as u16),
                _ => {}
            }
        }
        self.keys.push(plan);
        (self.keys.len() - 1) as u32
    }

    /// Counts every fact of a new panel, handed over a block of units at a time: block
    /// `b` holds units `b × units_per_block ..` up to the next block, and `facts_of(b, buf)`
    /// pushes that block's facts into `buf` (emptied before each call). Each block is
    /// counted in a buffer of its cells small enough for the processor's cache (64 units ×
    /// 240 months × 9 slots: 553 KB), then its cells with events become rows, in cell
    /// order. Returns the facts counted: a fact whose unit is not in its block, whose
    /// period is out of range or whose key is unknown is not.
    ///
    /// # Panics
    /// If the panel has already been counted.
    pub fn count_blocks<F>(&mut self, units_per_block: usize, mut facts_of: F) -> u64
    where
        F: FnMut(usize, &mut Vec<DenseFact>),
    {
        assert_eq!(self.cells_with_events(), 0, "a panel is counted once");
        let (stride, periods, units) = (self.slots.len(), self.periods, self.units);
        let per_block = units_per_block.max(1);
        let map = Arc::make_mut(&mut self.rows);
        let (keys, counts) = (&self.keys, &mut self.counts);
        let mut cells = vec![0u32; per_block * periods * stride];
        // A bit per cell of the block that has a fact.
        let mut touched = vec![0u64; (per_block * periods).div_ceil(64)];
        let mut facts = Vec::new();
        let mut counted = 0u64;
        for b in 0..units.div_ceil(per_block) {
            let u0 = b * per_block;
            let n_units = per_block.min(units - u0);
            facts.clear();
            facts_of(b, &mut facts);
            for f in &facts {
                let (u, t) = (f.unit as usize, f.period as usize);
                let Some(plan) = keys.get(f.key as usize) else {
                    continue;
                };
                if u < u0 || u >= u0 + n_units || t >= periods {
                    continue;
                }
                counted += 1;
                let c = (u - u0) * periods + t;
                touched[c / 64] |= 1 << (c % 64);
                let cell = &mut cells[c * stride..(c + 1) * stride];
                for &s in &plan.events {
                    cell[s as usize] = cell[s as usize].saturating_add(1);
                }
                for &s in &plan.fatalities {
                    cell[s as usize] = cell[s as usize].saturating_add(f.fatalities);
                }
                if f.civilians {
                    cell[CIVILIAN] = cell[CIVILIAN].saturating_add(1);
                }
                cell[DISPLACED] = cell[DISPLACED].saturating_add(f.displaced);
            }
            // The block's cells with facts, in order: each becomes a row and is zeroed.
            for (w, word) in touched.iter_mut().enumerate() {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    let c = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let cell = &mut cells[c * stride..(c + 1) * stride];
                    map[u0 * periods + c] =
                        u32::try_from(counts.len() / stride).expect("fewer rows than cells");
                    counts.extend_from_slice(cell);
                    cell.fill(0);
                }
            }
        }
        counts.shrink_to_fit();
        counted
    }

    /// The period range.
    pub fn range(&self) -> PeriodRange {
        self.range
    }

    /// The number of periods.
    pub fn periods(&self) -> usize {
        self.periods
    }

    /// The number of units.
    pub fn units(&self) -> usize {
        self.units
    }

    /// Bytes held by the counts and the map of cells to rows.
    pub fn bytes(&self) -> usize {
        (self.counts.len() + self.rows.len()) * 4
    }

    /// Cells with at least one event.
    pub fn cells_with_events(&self) -> usize {
        self.counts.len() / self.slots.len() - 1
    }

    fn row(&self, row: usize) -> &[u32] {
        let stride = self.slots.len();
        &self.counts[row * stride..(row + 1) * stride]
    }

    fn cell(&self, u: usize, t: usize) -> &[u32] {
        self.row(self.rows[u * self.periods + t] as usize)
    }

    /// Events of unit `u` in period `t`.
    pub fn events(&self, u: usize, t: usize) -> u32 {
        self.cell(u, t)[EVENTS]
    }

    /// Fatalities (sum of best estimates) of unit `u` in period `t`.
    pub fn fatalities(&self, u: usize, t: usize) -> u32 {
        self.cell(u, t)[FATALITIES]
    }

    /// Events targeting civilians.
    pub fn civilian_events(&self, u: usize, t: usize) -> u32 {
        self.cell(u, t)[CIVILIAN]
    }

    /// People displaced.
    pub fn displaced(&self, u: usize, t: usize) -> u32 {
        self.cell(u, t)[DISPLACED]
    }

    /// The whole series of events (`fatalities` false) or fatalities of unit `u`.
    pub fn series(&self, u: usize, fatalities: bool) -> Vec<u64> {
        let mut out = Vec::new();
        self.series_into(u, fatalities, &mut out);
        out
    }

    /// [`series`](Self::series) into a buffer.
    fn series_into(&self, u: usize, fatalities: bool, out: &mut Vec<u64>) {
        let slot = if fatalities { FATALITIES } else { EVENTS };
        let stride = self.slots.len();
        out.clear();
        let rows = &self.rows[u * self.periods..(u + 1) * self.periods];
        out.extend(
            rows.iter()
                .map(|&r| u64::from(self.counts[r as usize * stride + slot])),
        );
    }
}

/// Where an indicator's raw value comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Slot(usize),
    Share,
    Absent,
}

/// The index of every cell of a [`DensePanel`].
#[derive(Debug, Clone)]
pub struct DenseIndex {
    periods: usize,
    reference: Range<usize>,
    scaling: Vec<Option<Scaling>>,
    /// Per cell, its row of counts: the panel's map, shared.
    cells: Arc<Vec<u32>>,
    /// Per row of counts, its class of equal counts (0: the row of zeros, which every
    /// cell without events shares).
    classes: Vec<u32>,
    /// Per class; NaN where there is no value.
    values: Vec<f64>,
    /// Per class, three dimension scores; NaN where none.
    scores: Vec<[f64; 3]>,
    /// Per class, a bit per included dimension.
    included: Vec<u8>,
}

/// The evaluation of one cell.
#[derive(Debug, Clone, Copy)]
struct CellValue {
    value: f64,
    scores: [f64; 3],
    included: u8,
}

/// What the index needs, resolved once against the panel.
struct Plan<'a> {
    config: &'a IndexConfig,
    sources: Vec<Source>,
    log_table: Vec<f64>,
}

impl Plan<'_> {
    /// The transformed value of indicator `i` in a cell, `None` when it is missing.
    fn transformed(&self, i: usize, cell: &[u32]) -> Option<f64> {
        let spec = &self.config.indicators[i];
        let raw = match self.sources[i] {
            Source::Absent => return None,
            Source::Slot(s) => {
                let v = cell[s];
                if spec.per_100k {
                    // The population is a measured indicator: never in this panel.
                    return None;
                }
                if spec.transform == Transform::Log1p && (v as usize) < LOG_TABLE {
                    return Some(self.log_table[v as usize]);
                }
                f64::from(v)
            }
            Source::Share => {
                let all = u64::from(cell[EVENTS]);
                if all == 0 {
                    return None;
                }
                f64::from(cell[CIVILIAN]) / all as f64
            }
        };
        if spec.per_100k {
            return None;
        }
        spec.transform.apply(raw)
    }

    /// The index of one cell, as `HumanSecurityIndex::evaluate` computes it.
    fn evaluate(&self, cell: &[u32], scaling: &[Option<Scaling>]) -> CellValue {
        let mut num = [0.0; 3];
        let mut den = [0.0; 3];
        for (i, spec) in self.config.indicators.iter().enumerate() {
            let Some(x) = self.transformed(i, cell) else {
                continue;
            };
            let Some(s) = scaling[i] else { continue };
            if spec.weight == 0.0 {
                continue;
            }
            let scaled = s.scale(x);
            let scaled = if spec.higher_is_better {
                SCALE_MAX - scaled
            } else {
                scaled
            };
            let d = dim_pos(spec.dimension);
            num[d] += spec.weight * scaled;
            den[d] += spec.weight;
        }
        let mut scores = [f64::NAN; 3];
        let mut included = 0u8;
        let mut log_sum = 0.0;
        let mut weight_sum = 0.0;
        let mut n = 0;
        for (d, dim) in Dimension::ALL.into_iter().enumerate() {
            if den[d] > 0.0 {
                let score = num[d] / den[d];
                scores[d] = score;
                let w = self.config.dimensions.of(dim);
                if w > 0.0 {
                    included |= 1 << d;
                    log_sum += w * score.ln_1p();
                    weight_sum += w;
                    n += 1;
                }
            }
        }
        let log_mean = if weight_sum > 0.0 {
            log_sum / weight_sum
        } else {
            0.0
        };
        let value = if n > 0 && n >= self.config.min_dimensions {
            log_mean.exp_m1().clamp(0.0, SCALE_MAX)
        } else {
            f64::NAN
        };
        CellValue {
            value,
            scores,
            included,
        }
    }
}

/// Each row's class of equal counts, numbered in the order of first appearance (class 0:
/// the row of zeros), and a row of each class. Rows are looked up by a 64-bit fingerprint
/// of their counts (one multiply per count, all independent), each hit checked against
/// the class's first row; the rare rows whose fingerprint another row already took are
/// looked up by their counts.
fn classes_of_rows(panel: &DensePanel) -> (Vec<u32>, Vec<u32>) {
    classes_of_rows_by(panel, fingerprint)
}

/// [`classes_of_rows`] with any fingerprint (the tests give colliding ones).
fn classes_of_rows_by(
    panel: &DensePanel,
    fingerprint: impl Fn(&[u32]) -> u64,
) -> (Vec<u32>, Vec<u32>) {
    let rows = panel.counts.len() / panel.slots.len();
    let mut distinct = vec![0u32; rows];
    let mut first: Vec<u32> = vec![0];
    let mut by_print: HashMap<u64, u32, FastHash> = HashMap::default();
    let mut by_counts: HashMap<&[u32], u32, FastHash> = HashMap::default();
    by_print.insert(fingerprint(panel.row(0)), 0);
    for (r, class) in distinct.iter_mut().enumerate().skip(1) {
        let row = panel.row(r);
        let next = first.len() as u32;
        let c = *by_print.entry(fingerprint(row)).or_insert(next);
        *class = if c == next || panel.row(first[c as usize] as usize) == row {
            c
        } else {
            *by_counts.entry(row).or_insert(next)
        };
        if *class == next {
            first.push(r as u32);
        }
    }
    (distinct, first)
}

/// A fingerprint of a row of counts: each count (plus one) times a constant of its slot,
/// summed.
fn fingerprint(row: &[u32]) -> u64 {
    const K: [u64; 8] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x85eb_ca77_c2b2_ae63,
        0x27d4_eb2f_1656_67c5,
        0xd6e8_feb8_6659_fd93,
        0xff51_afd7_ed55_8ccd,
        0xc4ce_b9fe_1a85_ec53,
    ];
    row.iter().enumerate().fold(row.len() as u64, |h, (i, &v)| {
        h.wrapping_add((u64::from(v) + 1).wrapping_mul(K[i % K.len()].rotate_left(i as u32)))
    })
}

fn dim_pos(d: Dimension) -> usize {
    match d {
        Dimension::Lives => 0,
        Dimension::Livelihood => 1,
        Dimension::Dignity => 2,
    }
}

impl DenseIndex {
    /// Validates `config` and computes the index of every cell of `panel`.
    pub fn compute(panel: &DensePanel, config: &IndexConfig) -> Result<Self, IndexError> {
        config.validate()?;
        let reference = crate::index::reference_positions(panel.range, config)?;
        let sources = config
            .indicators
            .iter()
            .map(|i| {
                let slot = |s: Slot| {
                    let present = match &s {
                        Slot::Events(Scope::Category(c)) | Slot::Fatalities(Scope::Category(c)) => {
                            panel.keys.iter().any(|k| &k.code == c)
                        }
                        _ => true,
                    };
                    match panel.slots.iter().position(|x| *x == s) {
                        Some(p) if present => Source::Slot(p),
                        _ => Source::Absent,
                    }
                };
                match &i.measure {
                    Measure::Events(s) => slot(Slot::Events(s.clone())),
                    Measure::Fatalities(s) => slot(Slot::Fatalities(s.clone())),
                    Measure::CivilianEvents => Source::Slot(CIVILIAN),
                    Measure::Displaced => Source::Slot(DISPLACED),
                    Measure::CivilianShare => Source::Share,
                    Measure::Indicator(_) => Source::Absent,
                }
            })
            .collect();
        let plan = Plan {
            config,
            sources,
            log_table: (0..LOG_TABLE).map(|k| (k as f64).ln_1p()).collect(),
        };
        let periods = panel.periods;

        // Scales: over every unit in the reference window, as `scaling_of`; cells of equal
        // counts are counted, not transformed one by one (below).
        let q = config.reference.upper_quantile;
        let indicators = config.indicators.len();
        let mut min = vec![f64::INFINITY; indicators];
        let mut max = vec![f64::NEG_INFINITY; indicators];
        let mut n = vec![0usize; indicators];
        let mut all: Vec<Vec<f64>> = vec![Vec::new(); indicators];
        let mut take = |i: usize, x: f64, times: usize| {
            min[i] = min[i].min(x);
            max[i] = max[i].max(x);
            n[i] += times;
            if q < 1.0 {
                all[i].extend(std::iter::repeat_n(x, times));
            }
        };
        // Rows of equal counts have equal values: each distinct row is transformed and
        // evaluated once (at 1,000,000 events, about 270,000 rows hold about 13,500
        // distinct counts). `distinct[r]` is row r's class, numbered in the order of first
        // appearance, class 0 the row of zeros; `first[c]` a row of class c.
        let (distinct, first) = classes_of_rows(panel);
        // Scales: each class counted as many times as it has cells in the window (minimum
        // and maximum do not depend on the order, and the quantile sorts).
        let mut times = vec![0usize; first.len()];
        // The many cells without events are counted apart (adding to one place of memory
        // in a row would wait for each addition to land).
        let mut without = 0;
        for u in 0..panel.units {
            for &row in &panel.rows[u * periods + reference.start..u * periods + reference.end] {
                if row == 0 {
                    without += 1;
                } else {
                    times[distinct[row as usize] as usize] += 1;
                }
            }
        }
        times[0] += without;
        for (c, &k) in times.iter().enumerate() {
            if k == 0 {
                continue;
            }
            let cell = panel.row(first[c] as usize);
            for i in 0..indicators {
                if let Some(x) = plan.transformed(i, cell) {
                    take(i, x, k);
                }
            }
        }
        let scaling: Vec<Option<Scaling>> = (0..indicators)
            .map(|i| {
                let (min, mut max, n) = (min[i], max[i], n[i]);
                let all = &mut all[i];
                if q < 1.0 && !all.is_empty() {
                    all.sort_by(f64::total_cmp);
                    let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
                    max = all[rank - 1];
                }
                let span = max - min;
                (n > 0 && span.is_finite() && span > 1e-12 * max.abs().max(1.0)).then_some(
                    Scaling {
                        min,
                        max,
                        values: n,
                    },
                )
            })
            .collect();

        // The index of every class of rows (class 0: every cell without events).
        let mut values = Vec::with_capacity(first.len());
        let mut scores = Vec::with_capacity(first.len());
        let mut included = Vec::with_capacity(first.len());
        for &r in &first {
            let v = plan.evaluate(panel.row(r as usize), &scaling);
            values.push(v.value);
            scores.push(v.scores);
            included.push(v.included);
        }
        Ok(Self {
            periods,
            reference,
            scaling,
            cells: Arc::clone(&panel.rows),
            classes: distinct,
            values,
            scores,
            included,
        })
    }

    /// The reference window as positions in the range.
    pub fn reference(&self) -> Range<usize> {
        self.reference.clone()
    }

    /// The scale of the configuration's `i`-th indicator, if it had variation.
    pub fn scaling(&self, i: usize) -> Option<Scaling> {
        self.scaling.get(i).copied().flatten()
    }

    /// The class of unit `u` in period `t`, if the cell exists.
    fn row_of(&self, u: usize, t: usize) -> Option<usize> {
        if t >= self.periods {
            return None;
        }
        let row = *self.cells.get(u * self.periods + t)?;
        Some(self.classes[row as usize] as usize)
    }

    /// The index of unit `u` in period `t`, if it has a value.
    pub fn value(&self, u: usize, t: usize) -> Option<f64> {
        let row = self.row_of(u, t)?;
        Some(self.values[row]).filter(|v| !v.is_nan())
    }

    /// The index of unit `u` in period `t` with its dimension scores, if it has a value
    /// (the same [`IndexValue`] as [`HumanSecurityIndex::at`](crate::index::HumanSecurityIndex::at)).
    pub fn at(&self, u: usize, t: usize) -> Option<IndexValue> {
        let value = self.value(u, t)?;
        let k = self.row_of(u, t)?;
        let s = self.scores[k];
        Some(IndexValue {
            value,
            scores: s.map(|x| (!x.is_nan()).then_some(x)),
            included: [0, 1, 2].map(|d| self.included[k] & (1 << d) != 0),
        })
    }

    /// How many cells have a value.
    pub fn with_value(&self) -> usize {
        self.cells
            .iter()
            .filter(|&&r| !self.values[self.classes[r as usize] as usize].is_nan())
            .count()
    }
}

/// Units a detector thread takes at a time.
const UNIT_BLOCK: usize = 16;

/// Which series a detector judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesKind {
    /// Events per period.
    Events,
    /// Fatalities per period.
    Fatalities,
}

/// The flag bit of a detector on a series in [`Detection::flags`].
pub fn flag(method: Method, series: SeriesKind) -> u8 {
    let m = match method {
        Method::NbCusum => 0,
        Method::Farrington => 2,
    };
    let s = match series {
        SeriesKind::Events => 0,
        SeriesKind::Fatalities => 1,
    };
    1 << (m + s)
}

/// One signal in the last period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatestSignal {
    /// The unit's position.
    pub unit: usize,
    /// The series.
    pub series: SeriesKind,
    /// The detector's judgement (`method`, observed, expected, threshold, score).
    pub assessment: Assessment,
}

/// Both detectors on both series of every unit.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    periods: usize,
    /// Per cell, a [`flag`] bit for each detector and series that signalled.
    flags: Vec<u8>,
    /// Periods judged, per flag bit.
    pub judged: [usize; 4],
    /// Signals, per flag bit.
    pub signals: [usize; 4],
    /// Every signal in the last period.
    pub latest: Vec<LatestSignal>,
    /// A series being judged (reused).
    buffer: Vec<u64>,
}

impl Detection {
    /// The detectors' settings: the CUSUM's and Farrington's.
    pub fn run(
        panel: &DensePanel,
        cusum: CusumConfig,
        farrington: FarringtonConfig,
        threads: usize,
    ) -> Result<Self, crate::detect::DetectError> {
        let ppy = panel.range.granularity().periods_per_year();
        let far = Farrington::new(farrington, ppy)?;
        let periods = panel.periods;
        let threads = threads.clamp(1, 64).min(panel.units.max(1));
        let mut flags = vec![0u8; panel.units * periods];
        // Units are handed out in small blocks, so a thread that meets the busy localities
        // does not finish long after the others; the CUSUM's designs are shared.
        let mut designs = NbCusum::new(cusum)?;
        // Room for about as many fits as there are cells with events (at 1,000,000 events
        // 267,827 cells and 262,040 distinct baselines to fit), so the memo does not grow.
        let mut fits = FarringtonMemo::with_capacity(panel.cells_with_events());
        let rows = std::sync::Mutex::new(flags.chunks_mut(periods.max(1)).enumerate());
        let parts: Vec<Detection> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (far, rows) = (&far, &rows);
                    let mut cusum = designs.sharing();
                    // One thread keeps its own memo (no locks); several share theirs.
                    let mut memo = if threads > 1 {
                        fits.sharing()
                    } else {
                        std::mem::take(&mut fits)
                    };
                    scope.spawn(move || {
                        let mut part = Detection::default();
                        loop {
                            let block: Vec<(usize, &mut [u8])> = rows
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .by_ref()
                                .take(UNIT_BLOCK)
                                .collect();
                            if block.is_empty() {
                                break;
                            }
                            for (u, flags) in block {
                                part.series(panel, u, (&mut cusum, far, &mut memo), flags);
                            }
                        }
                        part
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a detector thread panicked"))
                .collect()
        });
        let mut out = Detection {
            periods,
            flags,
            ..Detection::default()
        };
        for p in parts {
            for b in 0..4 {
                out.judged[b] += p.judged[b];
                out.signals[b] += p.signals[b];
            }
            out.latest.extend(p.latest);
        }
        // In unit order, whichever thread judged them.
        out.latest
            .sort_by_key(|l| (l.unit, l.series as u8, l.assessment.method as u8));
        Ok(out)
    }

    fn series(
        &mut self,
        panel: &DensePanel,
        u: usize,
        (cusum, far, memo): (&mut NbCusum, &Farrington, &mut FarringtonMemo),
        flags: &mut [u8],
    ) {
        let last = panel.periods.saturating_sub(1);
        let mut series = std::mem::take(&mut self.buffer);
        for kind in [SeriesKind::Events, SeriesKind::Fatalities] {
            panel.series_into(u, kind == SeriesKind::Fatalities, &mut series);
            // Only the signals are wanted: both detectors skip the periods that cannot
            // signal (their judgements of the others are those of `assess`).
            let latest = &mut self.latest;
            let signals = &mut self.signals;
            let mut take = |a: Assessment| {
                let bit = flag(a.method, kind);
                signals[bit.trailing_zeros() as usize] += 1;
                flags[a.index] |= bit;
                if a.index == last {
                    latest.push(LatestSignal {
                        unit: u,
                        series: kind,
                        assessment: a,
                    });
                }
            };
            let judged = cusum.signals(&series, &mut take);
            self.judged[flag(Method::NbCusum, kind).trailing_zeros() as usize] += judged;
            let judged = far.signals_memo(&series, memo, &mut take);
            self.judged[flag(Method::Farrington, kind).trailing_zeros() as usize] += judged;
        }
        self.buffer = series;
    }

    /// The [`flag`] bits of the detectors that signalled for unit `u` in period `t`.
    pub fn flags(&self, u: usize, t: usize) -> u8 {
        self.flags.get(u * self.periods + t).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Granularity;
    use chrono::NaiveDate;
    use std::collections::HashMap;

    /// Facts spread over `units` × `periods` cells from a fixed seed, with a few that must
    /// not be counted (a period past the range, an unknown key).
    fn facts(units: u32, periods: u32, keys: u32) -> Vec<DenseFact> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(n)) as u32
        };
        let mut out: Vec<DenseFact> = (0..2_000)
            .map(|_| DenseFact {
                // Some units far busier than others, like real localities.
                unit: next(units).min(next(units)),
                period: next(periods),
                key: next(keys),
                fatalities: next(4).pow(3),
                displaced: next(50) / 40 * 100,
                civilians: next(3) == 0,
            })
            .collect();
        out.push(DenseFact {
            period: periods,
            ..out[0]
        });
        out.push(DenseFact {
            key: keys + 7,
            ..out[1]
        });
        out
    }

    fn panel() -> (DensePanel, IndexConfig) {
        let range = PeriodRange::covering(
            Granularity::Month,
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2021, 12, 31).unwrap(),
        )
        .unwrap();
        let config = IndexConfig::default();
        let declared = [
            (Dimension::Lives, "battle".to_string()),
            (Dimension::Lives, "attack".to_string()),
            (Dimension::Livelihood, "looting".to_string()),
            (Dimension::Dignity, "arrest".to_string()),
        ];
        (DensePanel::new(range, 10, &config, declared), config)
    }

    #[test]
    fn blocks_of_any_size_count_what_one_pass_would() {
        let (empty, config) = panel();
        let (units, periods) = (empty.units() as u32, empty.periods() as u32);
        let facts = facts(units, periods, 4);
        // The expected counts, cell by cell, and the facts that count.
        let mut expected: HashMap<(usize, usize), [u32; 4]> = HashMap::new();
        let mut counted = 0;
        for f in facts.iter().filter(|f| f.period < periods && f.key < 4) {
            counted += 1;
            let c = expected
                .entry((f.unit as usize, f.period as usize))
                .or_default();
            c[0] += 1;
            c[1] += f.fatalities;
            c[2] += u32::from(f.civilians);
            c[3] += f.displaced;
        }
        let one = {
            let mut p = empty.clone();
            assert_eq!(p.count_blocks(64, |_, out| out.extend(&facts)), counted);
            p
        };
        let index = DenseIndex::compute(&one, &config).unwrap();
        for per_block in [1, 3, 4, 64] {
            let mut p = empty.clone();
            let n = p.count_blocks(per_block, |b, out| {
                out.extend(facts.iter().filter(|f| f.unit as usize / per_block == b));
                // A fact handed over with the wrong block is not counted.
                if let Some(f) = facts.iter().find(|f| f.unit as usize / per_block > b) {
                    out.push(*f);
                }
            });
            assert_eq!(n, counted, "{per_block} units a block");
            assert_eq!(p.cells_with_events(), expected.len());
            // Rows in cell order, whatever the blocks: the same rows as one pass.
            assert_eq!(p.rows, one.rows, "{per_block} units a block");
            assert_eq!(p.counts, one.counts);
            for u in 0..units as usize {
                for t in 0..periods as usize {
                    let got = [
                        p.events(u, t),
                        p.fatalities(u, t),
                        p.civilian_events(u, t),
                        p.displaced(u, t),
                    ];
                    let want = expected.get(&(u, t)).copied().unwrap_or_default();
                    assert_eq!(got, want, "cell {u} {t}");
                }
            }
        }
        // Through the panel's map: cells of equal counts have one value, and there are
        // values.
        let mut by_counts: HashMap<&[u32], Option<IndexValue>> = HashMap::new();
        for u in 0..units as usize {
            for t in 0..periods as usize {
                let v = index.at(u, t);
                assert_eq!(*by_counts.entry(one.cell(u, t)).or_insert(v), v);
            }
        }
        assert!(by_counts.len() > 100);
        assert!(index.with_value() > expected.len());
    }

    #[test]
    fn rows_fall_into_the_same_classes_whatever_their_fingerprints_collide() {
        let (mut p, _) = panel();
        let facts = facts(10, 24, 4);
        p.count_blocks(3, |b, out| {
            out.extend(facts.iter().filter(|f| f.unit as usize / 3 == b));
        });
        // Classes by the rows themselves, numbered in order of first appearance.
        let mut seen: HashMap<&[u32], u32> = HashMap::new();
        let want: Vec<u32> = (0..p.counts.len() / p.slots.len())
            .map(|r| {
                let next = seen.len() as u32;
                *seen.entry(p.row(r)).or_insert(next)
            })
            .collect();
        assert!(seen.len() > 100, "{} classes", seen.len());
        let all_collide: fn(&[u32]) -> u64 = |_| 0;
        let some_collide: fn(&[u32]) -> u64 = |r| u64::from(r[EVENTS]);
        for print in [fingerprint, all_collide, some_collide] {
            let (distinct, first) = classes_of_rows_by(&p, print);
            assert_eq!(distinct, want);
            assert_eq!(first.len(), seen.len());
            for (c, &r) in first.iter().enumerate() {
                assert_eq!(want[r as usize], c as u32);
            }
        }
    }

    #[test]
    #[should_panic(expected = "a panel is counted once")]
    fn a_panel_is_counted_once() {
        let (mut p, _) = panel();
        let facts = facts(10, 24, 4);
        p.count_blocks(4, |_, out| out.extend(&facts));
        p.count_blocks(4, |_, out| out.extend(&facts));
    }
}
