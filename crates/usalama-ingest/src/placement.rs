//! Point-in-polygon placement of events in localities.
//!
//! [`Placer::new`] prepares every polygon once: its bounding box goes into an R-tree per
//! administrative level (rstar), and its edges are bucketed into horizontal bands so that
//! the exact test only looks at the few edges near the point's latitude. The exact test is
//! a crossing-number test whose orientation predicates are `geo`'s robust kernel, so a point
//! exactly on an edge or vertex is found to be on the boundary, which counts as inside; a
//! test checks it against `geo::CoordinatePosition`. Where several localities of a level
//! contain a point (a shared border, or overlapping data), the one with the smallest code
//! wins, so the answer never depends on input order.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::{Coord, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use std::collections::HashMap;
use std::ops::ControlFlow;
use usalama_domain::{GeoPoint, Locality, LocalityId, LocalityPath, LocationPrecision};

struct Node {
    id: LocalityId,
    /// Position of the locality's code in the sorted list of all codes: comparing ranks
    /// is comparing codes.
    rank: u32,
    level: usize,
    parent: Option<u32>,
}

/// One polygon ready for fast point tests. Its band offsets and edges live in the
/// [`Placer`]'s shared arenas, which keeps every polygon's data contiguous in memory.
struct Prepared {
    node: u32,
    min: [f64; 2],
    max: [f64; 2],
    inv_band_height: f64,
    bands: u32,
    /// Index of this polygon's first band offset in `Arena::offsets`; band `b`'s edges are
    /// `Arena::edges[offsets[first + b]..offsets[first + b + 1]]`.
    first_offset: u32,
    /// Cells per side of the coarse grid over the bounding box.
    cells: u32,
    inv_cell: [f64; 2],
    /// Index of this polygon's first byte in `Arena::cells`.
    first_cell: u32,
}

/// A grid cell's state: every point that falls in it is outside, inside, or it needs the
/// exact test because an edge may pass through it.
const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const BOUNDARY: u8 = 2;

/// Edges of all polygons, grouped per polygon and band, and their cell grids.
#[derive(Default)]
struct Arena {
    /// Cell states, 2 bits each, row-major, four cells a byte.
    cells: Vec<u8>,
    offsets: Vec<u32>,
    /// `[x1, y1, x2, y2]`; an edge spanning several bands is repeated in each.
    edges: Vec<[f64; 4]>,
}

impl Prepared {
    fn new(node: u32, poly: &Polygon<f64>, arena: &mut Arena) -> Option<Self> {
        let mut raw: Vec<[f64; 4]> = Vec::new();
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for line in ring.lines() {
                if line.start != line.end {
                    raw.push([line.start.x, line.start.y, line.end.x, line.end.y]);
                }
            }
        }
        if raw.is_empty() {
            return None;
        }
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        for e in &raw {
            for (x, y) in [(e[0], e[1]), (e[2], e[3])] {
                min = [min[0].min(x), min[1].min(y)];
                max = [max[0].max(x), max[1].max(y)];
            }
        }
        let bands = (raw.len() / 4).clamp(1, 1 << 16);
        let height = max[1] - min[1];
        let inv_band_height = if height > 0.0 {
            bands as f64 / height
        } else {
            0.0
        };
        let cells: usize = match raw.len() {
            0..16 => 4,
            16..64 => 16,
            _ => 32,
        };
        let inv = |extent: f64| {
            if extent > 0.0 {
                cells as f64 / extent
            } else {
                0.0
            }
        };
        let mut p = Prepared {
            node,
            min,
            max,
            inv_band_height,
            bands: bands as u32,
            first_offset: u32::try_from(arena.offsets.len()).ok()?,
            cells: cells as u32,
            inv_cell: [inv(max[0] - min[0]), inv(max[1] - min[1])],
            first_cell: u32::try_from(arena.cells.len()).ok()?,
        };
        let span = |e: &[f64; 4]| (p.band(e[1].min(e[3])), p.band(e[1].max(e[3])));
        let mut counts = vec![0u32; bands + 1];
        for e in &raw {
            let (lo, hi) = span(e);
            for c in &mut counts[lo + 1..=hi + 1] {
                *c += 1;
            }
        }
        let base = u32::try_from(arena.edges.len()).ok()?;
        let mut acc = base;
        for c in &mut counts {
            acc += *c;
            *c = acc;
        }
        // counts[b] is now the end of band b - 1, i.e. the start of band b.
        let mut fill: Vec<u32> = counts[..bands].to_vec();
        arena.offsets.extend_from_slice(&counts);
        arena.edges.resize(acc as usize, [0.0; 4]);
        for e in &raw {
            let (lo, hi) = span(e);
            for slot in &mut fill[lo..=hi] {
                arena.edges[*slot as usize] = *e;
                *slot += 1;
            }
        }
        p.classify_cells(&raw, arena);
        Some(p)
    }

    /// The cell a point of the bounding box falls in. Monotonic in each coordinate, so the
    /// points of a segment fall in the cells between those of its bounding box's corners.
    fn cell(&self, x: f64, y: f64) -> (usize, usize) {
        let last = self.cells as usize - 1;
        let cx = (((x - self.min[0]) * self.inv_cell[0]).max(0.0) as usize).min(last);
        let cy = (((y - self.min[1]) * self.inv_cell[1]).max(0.0) as usize).min(last);
        (cx, cy)
    }

    fn cell_state(&self, arena: &Arena, cx: usize, cy: usize) -> u8 {
        let i = cy * self.cells as usize + cx;
        (arena.cells[self.first_cell as usize + i / 4] >> ((i % 4) * 2)) & 3
    }

    /// Marks every cell an edge may touch as boundary; the others are wholly inside or
    /// outside (the points of a cell form a connected set with no boundary point), and
    /// neighbours in a row with no boundary cell between them share their state, so one
    /// exact test per run of cells classifies them.
    fn classify_cells(&mut self, raw: &[[f64; 4]], arena: &mut Arena) {
        let n = self.cells as usize;
        let mut state = vec![OUTSIDE; n * n];
        for e in raw {
            let (x0, y0) = self.cell(e[0].min(e[2]), e[1].min(e[3]));
            let (x1, y1) = self.cell(e[0].max(e[2]), e[1].max(e[3]));
            for cy in y0..=y1 {
                state[cy * n + x0..=cy * n + x1].fill(BOUNDARY);
            }
        }
        let size = [self.max[0] - self.min[0], self.max[1] - self.min[1]];
        for cy in 0..n {
            let mut run: Option<u8> = None;
            for cx in 0..n {
                let s = &mut state[cy * n + cx];
                if *s == BOUNDARY {
                    run = None;
                    continue;
                }
                let known = match run {
                    Some(k) => k,
                    None => {
                        let x = self.min[0] + size[0] * (cx as f64 + 0.5) / n as f64;
                        let y = self.min[1] + size[1] * (cy as f64 + 0.5) / n as f64;
                        if self.cell(x, y) != (cx, cy) {
                            *s = BOUNDARY; // degenerate cell: always use the exact test
                            continue;
                        }
                        if self.contains_exact(arena, x, y) {
                            INSIDE
                        } else {
                            OUTSIDE
                        }
                    }
                };
                *s = known;
                run = Some(known);
            }
        }
        let mut packed = vec![0u8; (n * n).div_ceil(4)];
        for (i, s) in state.iter().enumerate() {
            packed[i / 4] |= s << ((i % 4) * 2);
        }
        arena.cells.extend_from_slice(&packed);
    }

    fn band(&self, y: f64) -> usize {
        let b = ((y - self.min[1]) * self.inv_band_height).max(0.0) as usize;
        b.min(self.bands as usize - 1)
    }

    /// Whether the point is inside the polygon or on its boundary: the cell grid answers
    /// for most points, the exact test for points in boundary cells.
    fn contains(&self, arena: &Arena, x: f64, y: f64) -> bool {
        if x < self.min[0] || x > self.max[0] || y < self.min[1] || y > self.max[1] {
            return false;
        }
        let (cx, cy) = self.cell(x, y);
        match self.cell_state(arena, cx, cy) {
            INSIDE => true,
            OUTSIDE => false,
            _ => self.contains_exact(arena, x, y),
        }
    }

    /// The exact test: crossing number over the edges of the point's band, with robust
    /// orientation; a point on an edge is inside.
    fn contains_exact(&self, arena: &Arena, x: f64, y: f64) -> bool {
        let b = self.first_offset as usize + self.band(y);
        let (from, to) = (arena.offsets[b] as usize, arena.offsets[b + 1] as usize);
        let mut inside = false;
        for &[x1, y1, x2, y2] in &arena.edges[from..to] {
            if y < y1.min(y2) || y > y1.max(y2) || x > x1.max(x2) {
                continue;
            }
            let straddles = (y1 > y) != (y2 > y);
            if x < x1.min(x2) {
                // The whole edge is to the right of the point: no orientation needed.
                inside ^= straddles;
                continue;
            }
            let o = RobustKernel::orient2d(
                Coord { x: x1, y: y1 },
                Coord { x: x2, y: y2 },
                Coord { x, y },
            );
            if o == Orientation::Collinear {
                return true; // on the edge (collinear and within its bounding box)
            }
            if straddles {
                let wanted = if y2 > y1 {
                    Orientation::CounterClockwise
                } else {
                    Orientation::Clockwise
                };
                inside ^= o == wanted;
            }
        }
        inside
    }
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Places points in a fixed set of localities. Build it once per boundary set; placing is
/// read-only, so one `Placer` can serve many threads.
pub struct Placer {
    nodes: Vec<Node>,
    by_id: HashMap<LocalityId, u32>,
    polygons: Vec<Prepared>,
    arena: Arena,
    trees: [RTree<Entry>; 4],
}

impl Placer {
    /// Prepares `localities` (any levels, with geometry, or none for adm0) whose `parent`
    /// links are set. A locality listed twice is taken once; a parent link that is unknown
    /// or not to a shallower level is ignored.
    pub fn new<'a>(localities: impl IntoIterator<Item = &'a Locality>) -> Self {
        let localities = localities.into_iter();
        let hint = localities.size_hint().0;
        let mut nodes = Vec::with_capacity(hint);
        let mut by_id = HashMap::with_capacity(hint);
        let mut kept = Vec::with_capacity(hint);
        for l in localities {
            if by_id.contains_key(&l.id) {
                continue;
            }
            by_id.insert(l.id, nodes.len() as u32);
            nodes.push(Node {
                id: l.id,
                rank: 0,
                level: l.level.depth() as usize,
                parent: None,
            });
            kept.push(l);
        }
        let mut by_code: Vec<usize> = (0..kept.len()).collect();
        by_code.sort_by(|&a, &b| kept[a].code.cmp(&kept[b].code));
        for (rank, &i) in by_code.iter().enumerate() {
            nodes[i].rank = rank as u32;
        }
        for (i, l) in kept.iter().enumerate() {
            let parent = l
                .parent
                .and_then(|p| by_id.get(&p).copied())
                .filter(|&p| nodes[p as usize].level < nodes[i].level);
            nodes[i].parent = parent;
        }
        let mut polygons = Vec::new();
        let mut arena = Arena::default();
        let mut entries: [Vec<Entry>; 4] = Default::default();
        for (i, l) in kept.iter().enumerate() {
            for poly in l.geometry.iter().flat_map(|g| g.0.iter()) {
                if let Some(p) = Prepared::new(i as u32, poly, &mut arena) {
                    let rect = Rectangle::from_corners(p.min, p.max);
                    entries[nodes[i].level].push(GeomWithData::new(rect, polygons.len() as u32));
                    polygons.push(p);
                }
            }
        }
        let trees = entries.map(RTree::bulk_load);
        Placer {
            nodes,
            by_id,
            polygons,
            arena,
            trees,
        }
    }

    /// The locality of `level` containing the point; the smallest code among several.
    fn hit(&self, level: usize, x: f64, y: f64) -> Option<u32> {
        let mut best: Option<u32> = None;
        let _ = self.trees[level].locate_all_at_point_int(&[x, y], |e| {
            let p = &self.polygons[e.data as usize];
            let improves =
                best.is_none_or(|b| self.nodes[p.node as usize].rank < self.nodes[b as usize].rank);
            if improves && p.contains(&self.arena, x, y) {
                best = Some(p.node);
            }
            ControlFlow::<()>::Continue(())
        });
        best
    }

    /// `n` or its nearest ancestor at level `max` or shallower.
    fn ancestor_within(&self, mut n: u32, max: usize) -> Option<u32> {
        while self.nodes[n as usize].level > max {
            n = self.nodes[n as usize].parent?;
        }
        Some(n)
    }

    fn path_of_node(&self, n: u32) -> LocalityPath {
        let mut path = LocalityPath::default();
        let mut cur = Some(n);
        while let Some(c) = cur {
            let node = &self.nodes[c as usize];
            path.0[node.level] = Some(node.id);
            cur = node.parent; // parents are strictly shallower, so this ends
        }
        path
    }

    /// The deepest locality containing the point, but never deeper than the precision
    /// allows ([`LocationPrecision::deepest_admin_level`]: where_prec 3 → at most adm2,
    /// 4 → adm1, 5 and beyond → adm0 only, found through the containing adm1's ancestor
    /// when countries have no geometry). Returns the full path through parent links, with
    /// levels that have no parent link filled by their own point-in-polygon test. A point
    /// on a shared border gets the candidate with the smallest code; a point outside every
    /// polygon gets an empty path.
    pub fn place(&self, point: GeoPoint, precision: Option<LocationPrecision>) -> LocalityPath {
        let max = precision.map_or(3, |p| usize::from(p.deepest_admin_level()).min(3));
        let (x, y) = (point.lon(), point.lat());
        let anchor = self
            .hit(max, x, y)
            .or_else(|| {
                (max + 1..4)
                    .find_map(|l| self.hit(l, x, y).and_then(|n| self.ancestor_within(n, max)))
            })
            .or_else(|| (0..max).rev().find_map(|l| self.hit(l, x, y)));
        let Some(anchor) = anchor else {
            return LocalityPath::default();
        };
        let mut path = self.path_of_node(anchor);
        for l in 0..self.nodes[anchor as usize].level {
            if path.0[l].is_none() {
                path.0[l] = self.hit(l, x, y).map(|n| self.nodes[n as usize].id);
            }
        }
        path
    }

    /// The path of a known locality (itself and its ancestors); empty when unknown.
    pub fn path_of(&self, id: LocalityId) -> LocalityPath {
        self.by_id
            .get(&id)
            .map(|&n| self.path_of_node(n))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coordinate_position::CoordPos, CoordinatePosition};
    use geo_types::{polygon, LineString, MultiPolygon};
    use usalama_domain::AdminLevel;
    use usalama_domain::LocalityCode;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)],
        ])
    }

    fn loc(
        code: &str,
        level: AdminLevel,
        parent: Option<&str>,
        g: Option<MultiPolygon<f64>>,
    ) -> Locality {
        let parent = parent.map(|p| Locality::id_for_code(&LocalityCode::new(p).unwrap()));
        Locality::new(
            LocalityCode::new(code).unwrap(),
            code,
            level,
            parent,
            g,
            None,
        )
        .unwrap()
    }

    fn id(code: &str) -> LocalityId {
        Locality::id_for_code(&LocalityCode::new(code).unwrap())
    }

    fn pt(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint::new(lat, lon).unwrap()
    }

    fn prec(code: u8) -> Option<LocationPrecision> {
        Some(LocationPrecision::new(code).unwrap())
    }

    /// Country C (no geometry); provinces P2 (x 0..2) and P1 (x 2..4); P2 has districts
    /// D2a (y 0..1) and D2b (y 1..2); D2a has commune K (x 0..1).
    fn world() -> Vec<Locality> {
        vec![
            loc("C", AdminLevel::Adm0, None, None),
            loc(
                "P2",
                AdminLevel::Adm1,
                Some("C"),
                Some(rect(0.0, 0.0, 2.0, 2.0)),
            ),
            loc(
                "P1",
                AdminLevel::Adm1,
                Some("C"),
                Some(rect(2.0, 0.0, 4.0, 2.0)),
            ),
            loc(
                "D2a",
                AdminLevel::Adm2,
                Some("P2"),
                Some(rect(0.0, 0.0, 2.0, 1.0)),
            ),
            loc(
                "D2b",
                AdminLevel::Adm2,
                Some("P2"),
                Some(rect(0.0, 1.0, 2.0, 2.0)),
            ),
            loc(
                "K",
                AdminLevel::Adm3,
                Some("D2a"),
                Some(rect(0.0, 0.0, 1.0, 1.0)),
            ),
        ]
    }

    #[test]
    fn places_deepest_with_full_path() {
        let placer = Placer::new(&world());
        let path = placer.place(pt(0.5, 0.5), None);
        assert_eq!(
            path.0,
            [
                Some(id("C")),
                Some(id("P2")),
                Some(id("D2a")),
                Some(id("K"))
            ]
        );
        assert_eq!(path.deepest(), Some(id("K")));
        // no commune there: stops at the district
        let path = placer.place(pt(0.5, 1.5), prec(1));
        assert_eq!(path.deepest(), Some(id("D2a")));
        assert_eq!(path.at(AdminLevel::Adm1), Some(id("P2")));
        assert!(placer.place(pt(10.0, 10.0), None).is_empty());
        assert_eq!(
            placer.path_of(id("D2b")).0,
            [Some(id("C")), Some(id("P2")), Some(id("D2b")), None]
        );
        assert!(placer.path_of(id("nowhere")).is_empty());
    }

    #[test]
    fn precision_limits_depth() {
        let placer = Placer::new(&world());
        let p = pt(0.5, 0.5);
        assert_eq!(placer.place(p, prec(2)).deepest(), Some(id("K")));
        assert_eq!(placer.place(p, prec(3)).deepest(), Some(id("D2a")));
        let path = placer.place(p, prec(4));
        assert_eq!(path.0, [Some(id("C")), Some(id("P2")), None, None]);
        // the country has no geometry: found through the province's parent
        for code in [5, 6, 7] {
            assert_eq!(
                placer.place(p, prec(code)).0,
                [Some(id("C")), None, None, None]
            );
        }
    }

    #[test]
    fn shared_border_is_deterministic_and_smallest_code() {
        let mut localities = world();
        let a = Placer::new(&localities);
        localities.reverse();
        let b = Placer::new(&localities);
        let on_border = pt(0.5, 2.0); // x = 2 is the border of P2 and P1
        for placer in [&a, &b] {
            let first = placer.place(on_border, prec(4));
            assert_eq!(first, placer.place(on_border, prec(4)));
            assert_eq!(first.at(AdminLevel::Adm1), Some(id("P1")));
        }
        // the corner shared by D2a, D2b, K and P1's edge
        assert_eq!(
            a.place(pt(1.0, 0.0), prec(3)).deepest(),
            b.place(pt(1.0, 0.0), prec(3)).deepest()
        );
        assert_eq!(a.place(pt(1.0, 0.0), prec(3)).deepest(), Some(id("D2a")));
    }

    #[test]
    fn missing_parent_links_are_filled_spatially() {
        let localities = vec![
            loc("P", AdminLevel::Adm1, None, Some(rect(0.0, 0.0, 2.0, 2.0))),
            loc("D", AdminLevel::Adm2, None, Some(rect(0.0, 0.0, 1.0, 1.0))),
        ];
        let placer = Placer::new(&localities);
        assert_eq!(
            placer.place(pt(0.5, 0.5), None).0,
            [None, Some(id("P")), Some(id("D")), None]
        );
    }

    #[test]
    fn holes_are_outside() {
        let ring = |pts: &[(f64, f64)]| LineString::from(pts.to_vec());
        let donut = Polygon::new(
            ring(&[
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]),
            vec![ring(&[
                (4.0, 4.0),
                (6.0, 4.0),
                (6.0, 6.0),
                (4.0, 6.0),
                (4.0, 4.0),
            ])],
        );
        let l = loc("R", AdminLevel::Adm1, None, Some(MultiPolygon(vec![donut])));
        let placer = Placer::new(&[l]);
        assert!(placer.place(pt(5.0, 5.0), None).is_empty());
        assert_eq!(
            placer.place(pt(4.0, 5.0), None).deepest(),
            Some(id("R")),
            "hole edge is boundary"
        );
        assert_eq!(placer.place(pt(2.0, 2.0), None).deepest(), Some(id("R")));
    }

    /// A deterministic pseudo-random generator for the agreement test.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn agrees_with_geo_coordinate_position() {
        // A spiky star with a hole, many edges per band.
        let mut rng = Lcg(7);
        let n = 400;
        let outer: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = 5.0 + 4.0 * rng.next();
                (10.0 + r * a.cos(), 10.0 + r * a.sin())
            })
            .collect();
        let hole: Vec<(f64, f64)> = (0..12)
            .map(|i| {
                let a = -(i as f64) / 12.0 * std::f64::consts::TAU;
                (10.0 + 0.8 * a.cos(), 10.0 + 0.8 * a.sin())
            })
            .collect();
        let poly = Polygon::new(
            LineString::from(outer.clone()),
            vec![LineString::from(hole)],
        );
        let mut arena = Arena::default();
        let prepared = Prepared::new(0, &poly, &mut arena).unwrap();
        let mut checked = 0;
        let mut inside = 0;
        let mut probes: Vec<(f64, f64)> = (0..20_000)
            .map(|_| (rng.next() * 20.0, rng.next() * 20.0))
            .collect();
        probes.extend(outer.iter().copied()); // vertices: on the boundary
        probes.extend(outer.windows(2).map(|w| (w[0].0, w[1].1))); // awkward spots near edges
        for (x, y) in probes {
            let want = matches!(
                poly.coordinate_position(&Coord { x, y }),
                CoordPos::Inside | CoordPos::OnBoundary
            );
            assert_eq!(prepared.contains(&arena, x, y), want, "({x}, {y})");
            checked += 1;
            inside += usize::from(want);
        }
        assert!(checked > 20_000 && inside > 5_000, "{inside} of {checked}");
    }
}
