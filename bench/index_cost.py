#!/usr/bin/env python3
"""SQLite's own cost of each secondary index of `events` when a batch of reports is
inserted into a grown store, without any of Usalama's code: what batch intake pays per
index (issue 3's 20,000 reports/s).

It copies STORE's database to a scratch file, picks 10,000 events of SOURCE at random into
a temporary table (outside the timing), then times `INSERT INTO events SELECT ... FROM
pick` with fresh random ids, in a transaction that is rolled back: with every index, then
without each secondary index in turn (dropped inside the same transaction), then without
any. Each figure is the median of RUNS inserts.

Usage: python3 bench/index_cost.py STORE_DB SCRATCH_DB [--cache-kib N] [--source api]
       [--runs 5] [--all-only]
STORE_DB is a store's `usalama.sqlite3` (stopped server), for example the one
`bench/measure.py sealed-batch` leaves after its batches.
"""
import argparse
import shutil
import sqlite3
import statistics
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("scratch")
    ap.add_argument("--cache-kib", type=int, default=2000, help="PRAGMA cache_size = -N")
    ap.add_argument("--source", default="api")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--all-only", action="store_true", help="only with every index and with none")
    a = ap.parse_args()

    shutil.copy(a.store, a.scratch)
    c = sqlite3.connect(a.scratch, isolation_level=None)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = NORMAL")
    c.execute(f"PRAGMA cache_size = -{a.cache_kib}")
    cols = [r[1] for r in c.execute("PRAGMA table_info(events)")]
    fresh = ", ".join("randomblob(16)" if x == "id" else x for x in cols)
    c.execute("CREATE TEMP TABLE pick AS SELECT * FROM events WHERE source = ? ORDER BY random() LIMIT 10000",
              (a.source,))
    picked = c.execute("SELECT count(*) FROM temp.pick").fetchone()[0]
    insert = f"INSERT INTO events ({', '.join(cols)}) SELECT {fresh} FROM temp.pick"
    indexes = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name")]
    total = c.execute("SELECT count(*) FROM events").fetchone()[0]

    def timed(drop):
        ts = []
        for _ in range(a.runs):
            c.execute("BEGIN IMMEDIATE")
            for d in drop:
                c.execute(f'DROP INDEX "{d}"')
            s = time.perf_counter()
            c.execute(insert)
            ts.append(time.perf_counter() - s)
            c.execute("ROLLBACK")
        return statistics.median(ts)

    print(f"{picked:,} rows into {total:,} events, cache {a.cache_kib} KiB, SQLite {sqlite3.sqlite_version}, "
          f"median of {a.runs}")
    base = timed([])
    print(f"every index: {base * 1000:.0f} ms")
    for d in ([] if a.all_only else indexes):
        t = timed([d])
        print(f"without {d}: {t * 1000:.0f} ms ({(t / base - 1) * 100:+.0f} %)")
    t = timed(indexes)
    print(f"without any secondary index: {t * 1000:.0f} ms ({(t / base - 1) * 100:+.0f} %)")


if __name__ == "__main__":
    main()
