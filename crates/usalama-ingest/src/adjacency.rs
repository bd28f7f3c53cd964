//! Which boundaries touch: two localities are neighbours when a vertex of one lies within
//! a small tolerance of a vertex of the other (queen contiguity, as polygons cut from one
//! boundary dataset share the vertices of their common border). Linear in the number of
//! vertices: vertices are hashed into cells of the tolerance's size.

use geo_types::MultiPolygon;
use std::collections::{BTreeSet, HashMap};

/// A vertex of a polygon: the polygon's position and the vertex's x and y.
type Vertex = (usize, f64, f64);

/// Default tolerance in degrees (about 11 m at the equator).
pub const DEFAULT_TOLERANCE: f64 = 1e-4;

/// The pairs `(i, j)` with `i < j` of polygons that touch, sorted.
pub fn touching(polygons: &[&MultiPolygon<f64>], tolerance: f64) -> Vec<(usize, usize)> {
    let tol = if tolerance.is_finite() && tolerance > 0.0 {
        tolerance
    } else {
        DEFAULT_TOLERANCE
    };
    let key = |x: f64, y: f64| ((x / tol).floor() as i64, (y / tol).floor() as i64);
    // Cell → (polygon, x, y) of the vertices in it, one entry per polygon and cell.
    let mut cells: HashMap<(i64, i64), Vec<Vertex>> = HashMap::new();
    for (i, mp) in polygons.iter().enumerate() {
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for c in &ring.0 {
                    let v = cells.entry(key(c.x, c.y)).or_default();
                    if !v.iter().any(|&(j, x, y)| j == i && x == c.x && y == c.y) {
                        v.push((i, c.x, c.y));
                    }
                }
            }
        }
    }
    let mut pairs = BTreeSet::new();
    for (&(cx, cy), here) in &cells {
        for dx in -1..=1 {
            for dy in -1..=1 {
                let Some(there) = cells.get(&(cx + dx, cy + dy)) else {
                    continue;
                };
                for &(i, x1, y1) in here {
                    for &(j, x2, y2) in there {
                        if i < j && (x1 - x2).abs() <= tol && (y1 - y2).abs() <= tol {
                            pairs.insert((i, j));
                        }
                    }
                }
            }
        }
    }
    pairs.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, MultiPolygon};

    fn square(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y),
            (x: x + 1.0, y: y),
            (x: x + 1.0, y: y + 1.0),
            (x: x, y: y + 1.0),
            (x: x, y: y),
        ]])
    }

    #[test]
    fn shared_edges_and_corners_touch_gaps_do_not() {
        let a = square(0.0, 0.0);
        let b = square(1.0, 0.0); // shares an edge with a
        let c = square(1.0, 1.0); // shares a corner with a, an edge with b
        let d = square(3.0, 0.0); // alone
        let e = square(2.00005, 0.0); // within the tolerance of b's right edge
        let got = touching(&[&a, &b, &c, &d, &e], DEFAULT_TOLERANCE);
        // e also meets c at (2, 1) and d along x = 3.
        assert_eq!(got, vec![(0, 1), (0, 2), (1, 2), (1, 4), (2, 4), (3, 4)]);
    }
}
