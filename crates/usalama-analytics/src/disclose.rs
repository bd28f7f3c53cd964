//! Disclosure control of published counts: primary suppression of small cells and
//! secondary (complementary) suppression, so that no withheld cell can be worked out from
//! the published cells and totals by subtraction or by any other linear combination.
//!
//! A publication is a set of count [`CellSpec`]s tied by additive [`Line`]s (`total =
//! sum of parts`): the rows, columns and margins of every table shown, and the links
//! between tables (a year is the sum of its months). [`protect`] withholds:
//!
//! 1. every cell with `0 < value < k` (primary suppression; zeros are published);
//! 2. while some line has exactly one withheld member, the cheapest other member of it
//!    (complementary suppression: the smallest non-zero cell, margins marked `keep` last);
//! 3. while some withheld cell is still *determined* by the published cells (checked
//!    exactly, by Gaussian elimination of all lines together over the prime field
//!    `2^61 - 1`), the cheapest published member of one of its lines.
//!
//! The result is a pattern where no withheld cell equals any linear combination of the
//! published values. [`Cube`] builds the lines of Usalama's public tables (area × month,
//! dimension × month, dimension × year, areas over all time) so that every public page
//! and export takes its numbers from one jointly protected publication.

use std::collections::{BTreeMap, HashMap};

/// One count cell of a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSpec {
    /// The count (events).
    pub value: u64,
    /// The smallest non-zero value that may be published (`k`); 0 or 1 never withholds.
    pub k: u64,
    /// Withhold this cell as a complement only when nothing else will do (grand totals).
    pub keep: bool,
}

/// An additive relation between cells: `total = sum of parts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The index of the total cell.
    pub total: usize,
    /// The indices of the parts.
    pub parts: Vec<usize>,
}

impl Line {
    fn members(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.total).chain(self.parts.iter().copied())
    }
}

/// Which cells to withhold: `true` at the index of every withheld cell. Primary cells
/// (`0 < value < k`) are always withheld; complements are added until no withheld cell
/// can be derived from the published ones through the lines.
pub fn protect(cells: &[CellSpec], lines: &[Line]) -> Vec<bool> {
    let mut hidden: Vec<bool> = cells.iter().map(|c| c.value > 0 && c.value < c.k).collect();
    let mut lines_of: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
    for (i, l) in lines.iter().enumerate() {
        for m in l.members() {
            lines_of[m].push(i);
        }
    }
    // The cheapest published member of a set of lines: non-zero before zero (a zero
    // complement can pin its partner at a bound), ordinary cells before `keep` ones,
    // then the smallest value.
    let cheapest = |hidden: &[bool], ls: &mut dyn Iterator<Item = usize>| -> Option<usize> {
        ls.flat_map(|li| lines[li].members())
            .filter(|&m| !hidden[m])
            .min_by_key(|&m| (cells[m].value == 0, cells[m].keep, cells[m].value, m))
    };
    loop {
        // Step 2: no line with a single withheld member.
        let mut changed = true;
        while changed {
            changed = false;
            for (li, l) in lines.iter().enumerate() {
                if l.members().filter(|&m| hidden[m]).count() == 1 {
                    if let Some(c) = cheapest(&hidden, &mut std::iter::once(li)) {
                        hidden[c] = true;
                        changed = true;
                    }
                }
            }
        }
        // Step 3: nothing withheld may be derivable through several lines at once.
        let derivable = determined(&hidden, cells.len(), lines);
        if derivable.is_empty() {
            return hidden;
        }
        let mut added = false;
        for c in derivable {
            if let Some(m) = cheapest(&hidden, &mut lines_of[c].iter().copied()) {
                hidden[m] = true;
                added = true;
                break;
            }
        }
        if !added {
            // Every line through the derivable cells is withheld already: widen to the
            // cheapest published cell of any line holding a withheld cell.
            let any = (0..lines.len()).filter(|&li| lines[li].members().any(|m| hidden[m]));
            match cheapest(&hidden, &mut any.collect::<Vec<_>>().into_iter()) {
                Some(m) => hidden[m] = true,
                None => return hidden,
            }
        }
    }
}

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % P as u128) as u64
}

fn sub(a: u64, b: u64) -> u64 {
    if a >= b {
        a - b
    } else {
        a + P - b
    }
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(P-2).
    let (mut base, mut exp, mut acc) = (a, P - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    acc
}

/// The withheld cells whose value follows from the published cells through the lines
/// (exact linear algebra over a large prime field: a cell is determined when its unit
/// vector lies in the row space of the lines restricted to withheld cells).
pub fn determined(hidden: &[bool], n_cells: usize, lines: &[Line]) -> Vec<usize> {
    let mut col_of: HashMap<usize, usize> = HashMap::new();
    let mut cell_of: Vec<usize> = Vec::new();
    for (c, &h) in hidden.iter().enumerate().take(n_cells) {
        if h {
            col_of.insert(c, cell_of.len());
            cell_of.push(c);
        }
    }
    // Reduced row echelon form, kept reduced as rows arrive: pivot column -> row.
    let mut rows: Vec<BTreeMap<usize, u64>> = Vec::new();
    let mut pivot_row: HashMap<usize, usize> = HashMap::new();
    for l in lines {
        let mut row: BTreeMap<usize, u64> = BTreeMap::new();
        let mut add = |cell: usize, coef: u64| {
            if let Some(&col) = col_of.get(&cell) {
                let v = row.entry(col).or_insert(0);
                *v = (*v + coef) % P;
            }
        };
        add(l.total, P - 1);
        for &p in &l.parts {
            add(p, 1);
        }
        row.retain(|_, v| *v != 0);
        if row.is_empty() {
            continue;
        }
        // Reduce by existing pivots (pivot rows carry no other pivot column).
        let pivots_here: Vec<(usize, u64)> = row
            .iter()
            .filter(|(c, _)| pivot_row.contains_key(c))
            .map(|(&c, &v)| (c, v))
            .collect();
        for (c, f) in pivots_here {
            let pr = &rows[pivot_row[&c]];
            for (&pc, &pv) in pr {
                let cur = row.get(&pc).copied().unwrap_or(0);
                let nv = sub(cur, mul(f, pv));
                if nv == 0 {
                    row.remove(&pc);
                } else {
                    row.insert(pc, nv);
                }
            }
        }
        let Some((&pc, &pv)) = row.iter().next() else {
            continue;
        };
        let inv = inverse(pv);
        for v in row.values_mut() {
            *v = mul(*v, inv);
        }
        // Keep the others reduced: clear the new pivot column from them.
        for r in rows.iter_mut() {
            if let Some(&f) = r.get(&pc) {
                for (&c, &v) in &row {
                    let cur = r.get(&c).copied().unwrap_or(0);
                    let nv = sub(cur, mul(f, v));
                    if nv == 0 {
                        r.remove(&c);
                    } else {
                        r.insert(c, nv);
                    }
                }
            }
        }
        pivot_row.insert(pc, rows.len());
        rows.push(row);
    }
    let mut out: Vec<usize> = rows
        .iter()
        .filter(|r| r.len() == 1)
        .filter_map(|r| r.keys().next().map(|&c| cell_of[c]))
        .collect();
    out.sort_unstable();
    out
}

/// A published figure: the count of events and their fatalities, or `None` for both when
/// the cell is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figure {
    /// Events, `None` when withheld.
    pub events: Option<u64>,
    /// Fatalities (best estimates), `None` when withheld.
    pub fatalities: Option<u64>,
}

impl Figure {
    /// Whether the figure is withheld.
    pub fn withheld(&self) -> bool {
        self.events.is_none()
    }
}

/// One event as the public tables count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CubeFact {
    /// The area (index into the cube's areas), `None` when the event is not placed at the
    /// public level.
    pub area: Option<usize>,
    /// The dimension (0 lives, 1 livelihood, 2 dignity).
    pub dimension: usize,
    /// The month (index into the cube's months).
    pub month: usize,
    /// Fatalities (best estimate, 0 when unknown).
    pub fatalities: u64,
    /// Whether the event's category is sensitive (a larger `k` applies to its cells).
    pub sensitive: bool,
}

/// The suppression thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Smallest published count.
    pub k: u64,
    /// Smallest published count of a cell holding an event of a sensitive category.
    pub k_sensitive: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            k: 5,
            k_sensitive: 10,
        }
    }
}

/// Number of dimensions in the cube.
pub const DIMS: usize = 3;

/// The public tables of one source, protected together: per month the events by area
/// (plus one "not placed" cell) and by dimension, per year by dimension, per area over all
/// time, and the totals that tie them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cube {
    /// Number of areas.
    pub areas: usize,
    /// The year of each month, in order (consecutive months).
    pub month_years: Vec<i32>,
    /// Per month: total, then by dimension, then by area, then not placed.
    pub months: Vec<MonthFigures>,
    /// Per year (in order of first appearance): the year, total, by dimension.
    pub years: Vec<(i32, Figure, [Figure; DIMS])>,
    /// Per area over all time.
    pub area_totals: Vec<Figure>,
    /// Events not placed at the public level, over all time.
    pub unplaced_total: Figure,
    /// Per dimension over all time.
    pub dimension_totals: [Figure; DIMS],
    /// Everything.
    pub total: Figure,
}

/// One month of a [`Cube`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    /// All events of the month.
    pub total: Figure,
    /// By dimension.
    pub by_dimension: [Figure; DIMS],
    /// By area (the cube's order).
    pub by_area: Vec<Figure>,
    /// Not placed at the public level.
    pub unplaced: Figure,
}

/// Cells of the cube in a flat layout while it is protected.
struct Layout {
    areas: usize,
    months: usize,
    years: usize,
}

impl Layout {
    fn per_month(&self) -> usize {
        1 + DIMS + self.areas + 1
    }
    fn m_total(&self, m: usize) -> usize {
        m * self.per_month()
    }
    fn m_dim(&self, m: usize, d: usize) -> usize {
        m * self.per_month() + 1 + d
    }
    fn m_area(&self, m: usize, a: Option<usize>) -> usize {
        m * self.per_month() + 1 + DIMS + a.unwrap_or(self.areas)
    }
    fn y_base(&self) -> usize {
        self.months * self.per_month()
    }
    fn y_total(&self, y: usize) -> usize {
        self.y_base() + y * (1 + DIMS)
    }
    fn y_dim(&self, y: usize, d: usize) -> usize {
        self.y_total(y) + 1 + d
    }
    fn a_total(&self, a: Option<usize>) -> usize {
        self.y_base() + self.years * (1 + DIMS) + a.unwrap_or(self.areas)
    }
    fn d_total(&self, d: usize) -> usize {
        self.a_total(None) + 1 + d
    }
    fn total(&self) -> usize {
        self.d_total(DIMS - 1) + 1
    }
    fn len(&self) -> usize {
        self.total() + 1
    }
}

impl Cube {
    /// Counts `facts` into the public tables and withholds what must be withheld.
    /// `month_years` gives the year of each month of the range (consecutive months).
    pub fn protect(areas: usize, month_years: &[i32], facts: &[CubeFact], t: Thresholds) -> Self {
        let (years, year_of_month) = years_of(month_years);
        let lay = Layout {
            areas,
            months: month_years.len(),
            years: years.len(),
        };
        let n = lay.len();
        let mut events = vec![0u64; n];
        let mut fatal = vec![0u64; n];
        let mut sensitive = vec![false; n];
        for f in facts {
            if f.month >= lay.months || f.dimension >= DIMS || f.area.is_some_and(|a| a >= areas) {
                continue;
            }
            let y = year_of_month[f.month];
            for c in [
                lay.m_total(f.month),
                lay.m_dim(f.month, f.dimension),
                lay.m_area(f.month, f.area),
                lay.y_total(y),
                lay.y_dim(y, f.dimension),
                lay.a_total(f.area),
                lay.d_total(f.dimension),
                lay.total(),
            ] {
                events[c] += 1;
                fatal[c] += f.fatalities;
                sensitive[c] |= f.sensitive;
            }
        }
        let cells: Vec<CellSpec> = (0..n)
            .map(|c| CellSpec {
                value: events[c],
                k: if sensitive[c] { t.k_sensitive } else { t.k },
                keep: c == lay.total(),
            })
            .collect();
        let lines = cube_lines(&lay, &year_of_month);
        let hidden = protect(&cells, &lines);
        let fig = |c: usize| {
            if hidden[c] {
                Figure::default()
            } else {
                Figure {
                    events: Some(events[c]),
                    fatalities: Some(fatal[c]),
                }
            }
        };
        Cube {
            areas,
            month_years: month_years.to_vec(),
            months: (0..lay.months)
                .map(|m| MonthFigures {
                    total: fig(lay.m_total(m)),
                    by_dimension: std::array::from_fn(|d| fig(lay.m_dim(m, d))),
                    by_area: (0..areas).map(|a| fig(lay.m_area(m, Some(a)))).collect(),
                    unplaced: fig(lay.m_area(m, None)),
                })
                .collect(),
            years: years
                .iter()
                .enumerate()
                .map(|(yi, &y)| {
                    (
                        y,
                        fig(lay.y_total(yi)),
                        std::array::from_fn(|d| fig(lay.y_dim(yi, d))),
                    )
                })
                .collect(),
            area_totals: (0..areas).map(|a| fig(lay.a_total(Some(a)))).collect(),
            unplaced_total: fig(lay.a_total(None)),
            dimension_totals: std::array::from_fn(|d| fig(lay.d_total(d))),
            total: fig(lay.total()),
        }
    }

    /// Every published figure with the lines that tie them, in the flat layout used to
    /// protect them: `(cells, lines)` where a cell is `None` when withheld. For tests and
    /// audits: an attacker knows exactly this.
    pub fn published(&self) -> (Vec<Option<u64>>, Vec<Line>) {
        let lay = Layout {
            areas: self.areas,
            months: self.months.len(),
            years: self.years.len(),
        };
        let mut cells = vec![None; lay.len()];
        for (m, mf) in self.months.iter().enumerate() {
            cells[lay.m_total(m)] = mf.total.events;
            for d in 0..DIMS {
                cells[lay.m_dim(m, d)] = mf.by_dimension[d].events;
            }
            for (a, f) in mf.by_area.iter().enumerate() {
                cells[lay.m_area(m, Some(a))] = f.events;
            }
            cells[lay.m_area(m, None)] = mf.unplaced.events;
        }
        for (yi, (_, t, ds)) in self.years.iter().enumerate() {
            cells[lay.y_total(yi)] = t.events;
            for d in 0..DIMS {
                cells[lay.y_dim(yi, d)] = ds[d].events;
            }
        }
        for (a, f) in self.area_totals.iter().enumerate() {
            cells[lay.a_total(Some(a))] = f.events;
        }
        cells[lay.a_total(None)] = self.unplaced_total.events;
        for d in 0..DIMS {
            cells[lay.d_total(d)] = self.dimension_totals[d].events;
        }
        cells[lay.total()] = self.total.events;
        (cells, cube_lines(&lay, &years_of(&self.month_years).1))
    }
}

/// The distinct years in order and the year index of each month.
fn years_of(month_years: &[i32]) -> (Vec<i32>, Vec<usize>) {
    let mut years: Vec<i32> = Vec::new();
    let mut year_of_month = Vec::with_capacity(month_years.len());
    for &y in month_years {
        if years.last() != Some(&y) {
            years.push(y);
        }
        year_of_month.push(years.len() - 1);
    }
    (years, year_of_month)
}

/// The additive lines of the cube's tables.
fn cube_lines(lay: &Layout, year_of_month: &[usize]) -> Vec<Line> {
    let areas_and_none = || (0..lay.areas).map(Some).chain([None]);
    let mut lines = Vec::new();
    for m in 0..lay.months {
        lines.push(Line {
            total: lay.m_total(m),
            parts: (0..DIMS).map(|d| lay.m_dim(m, d)).collect(),
        });
        lines.push(Line {
            total: lay.m_total(m),
            parts: areas_and_none().map(|a| lay.m_area(m, a)).collect(),
        });
    }
    for yi in 0..lay.years {
        let ms: Vec<usize> = (0..lay.months)
            .filter(|&m| year_of_month[m] == yi)
            .collect();
        lines.push(Line {
            total: lay.y_total(yi),
            parts: ms.iter().map(|&m| lay.m_total(m)).collect(),
        });
        lines.push(Line {
            total: lay.y_total(yi),
            parts: (0..DIMS).map(|d| lay.y_dim(yi, d)).collect(),
        });
        for d in 0..DIMS {
            lines.push(Line {
                total: lay.y_dim(yi, d),
                parts: ms.iter().map(|&m| lay.m_dim(m, d)).collect(),
            });
        }
    }
    for a in areas_and_none() {
        lines.push(Line {
            total: lay.a_total(a),
            parts: (0..lay.months).map(|m| lay.m_area(m, a)).collect(),
        });
    }
    for d in 0..DIMS {
        lines.push(Line {
            total: lay.d_total(d),
            parts: (0..lay.years).map(|y| lay.y_dim(y, d)).collect(),
        });
    }
    lines.push(Line {
        total: lay.total(),
        parts: (0..lay.years).map(|y| lay.y_total(y)).collect(),
    });
    lines.push(Line {
        total: lay.total(),
        parts: (0..DIMS).map(|d| lay.d_total(d)).collect(),
    });
    lines.push(Line {
        total: lay.total(),
        parts: areas_and_none().map(|a| lay.a_total(a)).collect(),
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cell(value: u64) -> CellSpec {
        CellSpec {
            value,
            k: 5,
            keep: false,
        }
    }

    /// An independent check in floating point: a withheld cell is derivable when dropping
    /// its column lowers the rank of the withheld part of the system by one.
    fn derivable_by_rank(hidden: &[bool], lines: &[Line]) -> Vec<usize> {
        let cols: Vec<usize> = (0..hidden.len()).filter(|&c| hidden[c]).collect();
        let matrix = |skip: Option<usize>| -> Vec<Vec<f64>> {
            lines
                .iter()
                .map(|l| {
                    cols.iter()
                        .filter(|&&c| Some(c) != skip)
                        .map(|&c| {
                            let mut v = 0.0;
                            if l.total == c {
                                v -= 1.0;
                            }
                            v += l.parts.iter().filter(|&&p| p == c).count() as f64;
                            v
                        })
                        .collect()
                })
                .collect()
        };
        let rank = |mut m: Vec<Vec<f64>>| -> usize {
            let ncols = m.first().map_or(0, Vec::len);
            let mut r = 0;
            for c in 0..ncols {
                let Some(p) = (r..m.len()).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
                else {
                    break;
                };
                if m[p][c].abs() < 1e-9 {
                    continue;
                }
                m.swap(r, p);
                let pivot = m[r].clone();
                for (i, row) in m.iter_mut().enumerate() {
                    if i != r {
                        let f = row[c] / pivot[c];
                        if f != 0.0 {
                            for (x, y) in row.iter_mut().zip(&pivot).skip(c) {
                                *x -= f * y;
                            }
                        }
                    }
                }
                r += 1;
            }
            r
        };
        let full = rank(matrix(None));
        cols.iter()
            .copied()
            .filter(|&c| rank(matrix(Some(c))) < full)
            .collect()
    }

    /// What an attacker gets by repeated subtraction: any line with one unknown member
    /// gives it; repeat until nothing new.
    fn recovered_by_subtraction(published: &[Option<u64>], lines: &[Line]) -> Vec<usize> {
        let mut known: Vec<Option<i128>> = published.iter().map(|v| v.map(i128::from)).collect();
        let mut out = Vec::new();
        loop {
            let mut progress = false;
            for l in lines {
                let unknown: Vec<usize> = l.members().filter(|&m| known[m].is_none()).collect();
                if unknown.len() == 1 {
                    let u = unknown[0];
                    let parts: i128 = l.parts.iter().filter_map(|&p| known[p]).sum();
                    known[u] = Some(if u == l.total {
                        parts
                    } else {
                        known[l.total].unwrap_or(0) - parts
                    });
                    out.push(u);
                    progress = true;
                }
            }
            if !progress {
                return out;
            }
        }
    }

    #[test]
    fn a_row_with_one_small_cell_hides_the_next_smallest() {
        // 3 + 100 + 40 = 143.
        let cells = [cell(143), cell(3), cell(100), cell(40)];
        let lines = [Line {
            total: 0,
            parts: vec![1, 2, 3],
        }];
        let h = protect(&cells, &lines);
        assert_eq!(h, vec![false, true, false, true]);
        assert!(determined(&h, 4, &lines).is_empty());
    }

    #[test]
    fn zeros_are_published_and_not_chosen_when_a_non_zero_cell_will_do() {
        let cells = [cell(10), cell(2), cell(0), cell(8)];
        let lines = [Line {
            total: 0,
            parts: vec![1, 2, 3],
        }];
        assert_eq!(protect(&cells, &lines), vec![false, true, false, true]);
        // A row of one small cell and zeros: the total itself is withheld.
        let cells = [cell(2), cell(2), cell(0), cell(0)];
        assert_eq!(protect(&cells, &lines), vec![true, true, false, false]);
    }

    #[test]
    fn nothing_small_nothing_withheld() {
        let cells = [cell(30), cell(0), cell(12), cell(18)];
        let lines = [Line {
            total: 0,
            parts: vec![1, 2, 3],
        }];
        assert_eq!(protect(&cells, &lines), vec![false; 4]);
    }

    /// Two 2 × 2 blocks of withheld cells joined by one withheld cell: every row and column
    /// has two withheld cells, yet the joining cell follows from the margins (a bridge).
    #[test]
    fn a_bridge_between_two_cycles_is_found_and_closed() {
        // 4 × 4 interior, row totals, column totals, grand total.
        let r = 4;
        let idx = |i: usize, j: usize| i * (r + 1) + j; // (r+1) × (r+1), last = margins
        let vals = [[2u64, 3, 0, 9], [4, 1, 0, 0], [0, 0, 2, 3], [0, 0, 4, 1]];
        let mut cells = vec![cell(0); (r + 1) * (r + 1)];
        for i in 0..r {
            for j in 0..r {
                cells[idx(i, j)] = cell(vals[i][j]);
                cells[idx(i, r)].value += vals[i][j];
                cells[idx(r, j)].value += vals[i][j];
                cells[idx(r, r)].value += vals[i][j];
            }
        }
        let mut lines = Vec::new();
        for i in 0..=r {
            lines.push(Line {
                total: idx(i, r),
                parts: (0..r).map(|j| idx(i, j)).collect(),
            });
        }
        for j in 0..=r {
            lines.push(Line {
                total: idx(r, j),
                parts: (0..r).map(|i| idx(i, j)).collect(),
            });
        }
        // The bridge pattern, given by hand, is caught by both checks.
        let mut bridge = vec![false; cells.len()];
        for (i, j) in [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
            (0, 3),
        ] {
            bridge[idx(i, j)] = true;
        }
        // Row 0 now has 3, column 3 has 3 withheld: no single-subtraction leak...
        assert!(lines
            .iter()
            .all(|l| l.members().filter(|&m| bridge[m]).count() != 1));
        // ...but the joining cell is derivable.
        assert_eq!(determined(&bridge, cells.len(), &lines), vec![idx(0, 3)]);
        assert_eq!(derivable_by_rank(&bridge, &lines), vec![idx(0, 3)]);
        let h = protect(&cells, &lines);
        assert!(determined(&h, cells.len(), &lines).is_empty());
        assert!(derivable_by_rank(&h, &lines).is_empty());
        for c in 0..cells.len() {
            if cells[c].value > 0 && cells[c].value < 5 {
                assert!(h[c], "cell {c} is small and shown");
            }
        }
    }

    #[test]
    fn sensitive_cells_need_the_larger_k() {
        let months = [2022, 2022];
        let mut facts = Vec::new();
        // 7 events in area 0 in January, one of them sensitive; 30 ordinary in area 1.
        for i in 0..7 {
            facts.push(CubeFact {
                area: Some(0),
                dimension: 0,
                month: 0,
                fatalities: 1,
                sensitive: i == 0,
            });
        }
        for _ in 0..30 {
            facts.push(CubeFact {
                area: Some(1),
                dimension: 0,
                month: 1,
                fatalities: 2,
                sensitive: false,
            });
        }
        let c = Cube::protect(2, &months, &facts, Thresholds::default());
        assert!(c.months[0].by_area[0].withheld(), "7 < k_sensitive = 10");
        let c = Cube::protect(
            2,
            &months,
            &facts,
            Thresholds {
                k: 5,
                k_sensitive: 5,
            },
        );
        assert_eq!(c.months[0].by_area[0].events, Some(7));
        assert_eq!(c.months[0].by_area[0].fatalities, Some(7));
        assert_eq!(c.total.events, Some(37));
        assert_eq!(c.total.fatalities, Some(67));
    }

    fn arb_facts() -> impl Strategy<Value = (usize, Vec<i32>, Vec<CubeFact>)> {
        (1usize..4, 1usize..7, 0usize..60).prop_flat_map(|(areas, months, n)| {
            let month_years: Vec<i32> = (0..months).map(|m| 2020 + (m / 3) as i32).collect();
            let fact = (
                proptest::option::weighted(0.9, 0..areas),
                0usize..DIMS,
                0..months,
                0u64..5,
                proptest::bool::weighted(0.1),
            )
                .prop_map(|(area, dimension, month, fatalities, sensitive)| CubeFact {
                    area,
                    dimension,
                    month,
                    fatalities,
                    sensitive,
                });
            (
                Just(areas),
                Just(month_years),
                proptest::collection::vec(fact, n),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// No published cell is small, and no withheld cell can be worked out from the
        /// published cells and totals: neither by repeated subtraction nor by any linear
        /// combination (checked by an independent rank computation).
        #[test]
        fn no_withheld_cell_is_derivable((areas, month_years, facts) in arb_facts()) {
            let t = Thresholds::default();
            let cube = Cube::protect(areas, &month_years, &facts, t);
            let (published, lines) = cube.published();
            // Recount the true values to check primary suppression.
            let truth = Cube::protect(areas, &month_years, &facts, Thresholds { k: 0, k_sensitive: 0 });
            let (true_cells, _) = truth.published();
            for (c, v) in published.iter().enumerate() {
                if let Some(v) = v {
                    prop_assert_eq!(Some(*v), true_cells[c]);
                    prop_assert!(*v == 0 || *v >= t.k, "cell {} = {} published", c, v);
                }
            }
            prop_assert!(recovered_by_subtraction(&published, &lines).is_empty());
            let hidden: Vec<bool> = published.iter().map(Option::is_none).collect();
            prop_assert!(derivable_by_rank(&hidden, &lines).is_empty());
            prop_assert!(determined(&hidden, hidden.len(), &lines).is_empty());
        }
    }
}
