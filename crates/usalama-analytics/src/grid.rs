//! PRIO-GRID (version 2) cells: the global grid of 0.5° × 0.5° cells numbered from the
//! south-west corner, row by row, `gid = row × 720 + col + 1` with
//! `row = ⌊(lat + 90) / 0.5⌋` and `col = ⌊(lon + 180) / 0.5⌋` (Tollefsen, Strand and
//! Buhaug 2012). Events do not store their cell; it is derived from their point.

/// Cells per row (360° / 0.5°).
pub const COLUMNS: i64 = 720;
/// Rows (180° / 0.5°).
pub const ROWS: i64 = 360;

/// The cell holding the point (`lat`, `lon`) in degrees; `None` outside the valid range
/// or for a non-finite coordinate. The north pole and the antimeridian at +180° fall in
/// the last row and column.
pub fn gid(lat: f64, lon: f64) -> Option<i64> {
    if !lat.is_finite() || !lon.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return None;
    }
    if !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let row = (((lat + 90.0) / 0.5).floor() as i64).min(ROWS - 1);
    let col = (((lon + 180.0) / 0.5).floor() as i64).min(COLUMNS - 1);
    Some(row * COLUMNS + col + 1)
}

/// The row and column (both from 0) of a cell; `None` for a gid outside the grid.
pub fn row_col(gid: i64) -> Option<(i64, i64)> {
    if !(1..=ROWS * COLUMNS).contains(&gid) {
        return None;
    }
    Some(((gid - 1) / COLUMNS, (gid - 1) % COLUMNS))
}

/// The (up to 8) cells around a cell — the queen neighbourhood. Columns wrap around the
/// antimeridian; rows stop at the poles.
pub fn neighbours(gid: i64) -> Vec<i64> {
    let Some((row, col)) = row_col(gid) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(8);
    for dr in -1..=1 {
        for dc in -1..=1 {
            if dr == 0 && dc == 0 {
                continue;
            }
            let r = row + dr;
            if !(0..ROWS).contains(&r) {
                continue;
            }
            let c = (col + dc).rem_euclid(COLUMNS);
            out.push(r * COLUMNS + c + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_and_known_cells() {
        assert_eq!(gid(-90.0, -180.0), Some(1));
        assert_eq!(gid(-89.9, -179.6), Some(1));
        assert_eq!(gid(-89.9, -179.4), Some(2));
        assert_eq!(gid(-89.4, -180.0), Some(721));
        assert_eq!(gid(90.0, 180.0), Some(ROWS * COLUMNS));
        // Syria, UCDP GED event 300380: 35.763369 N, 36.558974 E, priogrid_gid 181154.
        assert_eq!(gid(35.763369, 36.558974), Some(181154));
        assert_eq!(gid(91.0, 0.0), None);
        assert_eq!(gid(0.0, f64::NAN), None);
    }

    #[test]
    fn row_col_inverts_gid() {
        for g in [1, 720, 721, 181154, ROWS * COLUMNS] {
            let (r, c) = row_col(g).unwrap();
            let lat = -90.0 + 0.5 * r as f64 + 0.25;
            let lon = -180.0 + 0.5 * c as f64 + 0.25;
            assert_eq!(gid(lat, lon), Some(g));
        }
        assert_eq!(row_col(0), None);
    }

    #[test]
    fn eight_neighbours_wrapping_the_antimeridian() {
        let mut n = neighbours(181154);
        n.sort_unstable();
        assert_eq!(
            n,
            vec![
                181154 - 721,
                181154 - 720,
                181154 - 719,
                181153,
                181155,
                181154 + 719,
                181154 + 720,
                181154 + 721
            ]
        );
        // The first cell of a row touches the last cell of the same row.
        let west = gid(0.25, -179.75).unwrap();
        assert!(neighbours(west).contains(&gid(0.25, 179.75).unwrap()));
        // The bottom row has 5 neighbours.
        assert_eq!(neighbours(1).len(), 5);
    }
}
