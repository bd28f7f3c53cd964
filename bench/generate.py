#!/usr/bin/env python3
"""Synthetic data shaped like UCDP GED, for Usalama's benchmarks.

Writes, deterministically from --seed:
  ged.csv        N events in the full 49-column GED CSV layout (the layout of
                 ../data/samples/ucdpged_sample1000.csv), clustered in space and time and
                 heavy-tailed in fatalities like the real CAR data;
  adm1.geojson   ADM1-like polygons (default 200) with shared, wiggly borders;
  adm2.geojson   ADM2-like polygons (default 5,000; each ADM1 split into equal parts),
                 with COD-AB style properties (admN_pcode, admN_name, parent p-codes).

The country is a fictitious 'XB' on a 10 x 8 degree box; nothing here is real.
Events end between 1989-01-01 and 2022-12-31 (408 months), or in the last --months months
up to 2022-12 (e.g. --months 240: 2003-01 to 2022-12, end dates kept inside the span).
Usage: generate.py --events 1000000 --out DIR [--adm1 200] [--adm2 5000] [--months M] [--seed 7]
"""

import argparse
import csv
import json
import math
import os

import numpy as np

COLUMNS = (
    "id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,"
    "conflict_name,dyad_dset_id,dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,"
    "side_b_dset_id,side_b_new_id,side_b,number_of_sources,source_article,source_office,"
    "source_date,source_headline,source_original,where_prec,where_coordinates,"
    "where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,"
    "country_id,region,event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,"
    "deaths_civilians,deaths_unknown,best,high,low,gwnoa,gwnob"
).split(",")

LON0, LAT0, WIDTH, HEIGHT = 14.0, 2.0, 10.0, 8.0


def grid_shape(n):
    """Columns and rows of a grid of about n cells on the country's aspect ratio."""
    cols = max(1, round(math.sqrt(n * WIDTH / HEIGHT)))
    rows = max(1, math.ceil(n / cols))
    return cols, rows


def wiggle(x, y, seed):
    """A deterministic displacement of an interior grid vertex, shared by its neighbours."""
    h = (int(x * 1e6) * 73856093) ^ (int(y * 1e6) * 19349663) ^ seed
    rng = np.random.default_rng(h & 0xFFFFFFFF)
    return rng.uniform(-0.25, 0.25, 2)


def cell_ring(i, j, cols, rows, cw, ch, seed, steps):
    """A closed ring around grid cell (i, j), each side split into `steps` wiggly points."""
    pts = []
    corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)]
    for (a, b), (c, d) in zip(corners, corners[1:]):
        for s in range(steps):
            t = s / steps
            gx, gy = a + (c - a) * t, b + (d - b) * t
            x, y = LON0 + gx * cw, LAT0 + gy * ch
            on_edge = gx in (0, cols) or gy in (0, rows)
            if not on_edge:
                dx, dy = wiggle(gx, gy, seed)
                x += dx * cw * 0.3
                y += dy * ch * 0.3
            pts.append([round(x, 6), round(y, 6)])
    pts.append(pts[0])
    return pts


def polygons(n, prefix, name, parent_of, seed, steps):
    cols, rows = grid_shape(n)
    cw, ch = WIDTH / cols, HEIGHT / rows
    feats = []
    k = 0
    for j in range(rows):
        for i in range(cols):
            if k >= n:
                break
            k += 1
            ring = cell_ring(i, j, cols, rows, cw, ch, seed, steps)
            code = f"{prefix}{k:05d}"
            cx, cy = LON0 + (i + 0.5) * cw, LAT0 + (j + 0.5) * ch
            props = {f"{name}_pcode": code, f"{name}_name": f"{name.upper()} {k}", "adm0_pcode": "XB",
                     "adm0_name": "Benchmarkland"}
            parent = parent_of(cx, cy) if parent_of else None
            if parent:
                props["adm1_pcode"] = parent
            feats.append({"type": "Feature", "properties": props,
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": feats}, (cols, rows, cw, ch)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--adm1", type=int, default=200)
    ap.add_argument("--adm2", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--months", type=int, default=None,
                    help="events end in the last M months up to 2022-12 (default: 1989-01 on)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    adm1, (c1, r1, cw1, ch1) = polygons(a.adm1, "XB1", "adm1", None, a.seed, 4)

    def parent_of(x, y):
        i = min(c1 - 1, int((x - LON0) / cw1))
        j = min(r1 - 1, int((y - LAT0) / ch1))
        k = j * c1 + i + 1
        return f"XB1{k:05d}" if k <= a.adm1 else None

    adm2, _ = polygons(a.adm2, "XB2", "adm2", parent_of, a.seed + 1, 3)
    for name, fc in (("adm1", adm1), ("adm2", adm2)):
        with open(os.path.join(a.out, f"{name}.geojson"), "w") as f:
            json.dump(fc, f, separators=(",", ":"))

    rng = np.random.default_rng(a.seed)
    n = a.events
    # Space: 60 hotspots with Gaussian spread, plus 10 % scattered background.
    hot = rng.uniform([LON0 + 0.5, LAT0 + 0.5], [LON0 + WIDTH - 0.5, LAT0 + HEIGHT - 0.5], (60, 2))
    weights = rng.pareto(1.2, 60) + 1
    weights /= weights.sum()
    which = rng.choice(60, n, p=weights)
    pts = hot[which] + rng.normal(0, 0.35, (n, 2))
    bg = rng.random(n) < 0.1
    pts[bg] = rng.uniform([LON0, LAT0], [LON0 + WIDTH, LAT0 + HEIGHT], (bg.sum(), 2))
    pts[:, 0] = np.clip(pts[:, 0], LON0 + 1e-4, LON0 + WIDTH - 1e-4)
    pts[:, 1] = np.clip(pts[:, 1], LAT0 + 1e-4, LAT0 + HEIGHT - 1e-4)
    # Time: 1989-2022, bursts per hotspot (each hotspot active in a few random years).
    base = np.datetime64("1989-01-01")
    if a.months:
        base = np.datetime64("2023-01") - np.timedelta64(a.months, "M")
        base = base.astype("datetime64[D]")
    last_day = np.datetime64("2022-12-31")
    span = (last_day - base).astype(int)
    burst_centre = rng.integers(0, span, 60)
    days = (burst_centre[which] + rng.normal(0, 400, n)).astype(int) % span
    start = base + days.astype("timedelta64[D]")
    long = rng.random(n) < 0.15
    dur = np.where(long, rng.integers(1, 31, n), 0)
    end = start + dur.astype("timedelta64[D]")
    if a.months:
        end = np.minimum(end, last_day)
    date_prec = np.where(long, rng.choice([2, 3, 4, 5], n), 1)
    # Fatalities: heavy tail like the real data (many 0-3, a few hundreds).
    best = np.minimum(np.floor(rng.lognormal(0.9, 1.2, n)).astype(int), 3000)
    low = np.maximum(0, best - rng.integers(0, 3, n))
    high = best + np.floor(best * rng.random(n) * 0.5).astype(int)
    tov = rng.choice([1, 2, 3], n, p=[0.22, 0.2, 0.58])
    where_prec = rng.choice([1, 2, 3, 4, 5, 6, 7], n, p=[0.55, 0.2, 0.1, 0.08, 0.04, 0.02, 0.01])
    actors = [("Government of Benchmarkland", 9001), ("Front A", 9002), ("Militia B", 9003),
              ("Group C", 9004), ("Civilians", 1)]

    path = os.path.join(a.out, "ged.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for k in range(n):
            t = int(tov[k])
            sa = actors[0] if t == 1 else actors[1 + k % 3]
            sb = actors[4] if t == 3 else actors[1 + (k + 1) % 3]
            lon, lat = round(float(pts[k, 0]), 6), round(float(pts[k, 1]), 6)
            s, e = str(start[k]), str(end[k])
            b = int(best[k])
            w.writerow([
                1_000_000 + k, f"XB-{s[:4]}-{t}-{k}", s[:4], 1, "Clear", t, 100 + t, 100 + t,
                f"Benchmarkland: conflict {t}", 200 + k % 50, 200 + k % 50, f"{sa[0]} - {sb[0]}",
                sa[1], sa[1], sa[0], sb[1], sb[1], sb[0], 1, "Synthetic source", "", "", "",
                "", int(where_prec[k]), f"Place {which[k]}", f"near place {which[k]}",
                f"Region {which[k] % 20} province", "", lat, lon, f"POINT ({lon} {lat})",
                100000 + k % 9000, "Benchmarkland", 999, "Africa", 1, int(date_prec[k]), s, e,
                0, 0, b, 0, b, int(high[k]), int(low[k]), 999, "",
            ])
    print(f"wrote {n} events, {a.adm1} adm1 and {a.adm2} adm2 polygons to {a.out}")


if __name__ == "__main__":
    main()
