#!/usr/bin/env python3
"""SQLite's own cost of writing one batch of 10,000 report-shaped rows into a copy of a
store, in three orders: by new event id (random), by date then id, by category then date.
No Usalama code runs: the rows are 10,000 stored events picked at random, given new random
ids, source `api` and status `unverified`, inserted with one `INSERT … SELECT … ORDER BY`
in an immediate transaction and rolled back, the orders alternated round by round.
Usage: python3 bench/batch_order.py ROUNDS STORE.sqlite3   (use a copy: it is written to,
then rolled back). Prints each insert's time and the medians."""
import os, sqlite3, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_rows  # noqa: E402

rounds, db = int(sys.argv[1]), sys.argv[2]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode = WAL")
c.execute("PRAGMA synchronous = NORMAL")
c.execute(f"PRAGMA cache_size = -{64 * 1024}")  # the store's page cache for a large batch
cols, values = report_rows.pick(c)
orders = {"id": "nid", "date": "occurred_end, nid", "category": "category, occurred_end, nid"}
insert = {k: f"INSERT INTO events ({cols}) SELECT {values} FROM temp.pick ORDER BY {o}"
          for k, o in orders.items()}
times = {k: [] for k in orders}
for r in range(rounds):
    for k in (list(orders) if r % 2 == 0 else list(orders)[::-1]):
        c.execute("UPDATE temp.pick SET nid = randomblob(16)")
        c.execute("BEGIN IMMEDIATE")
        start = time.perf_counter()
        c.execute(insert[k])
        times[k].append(time.perf_counter() - start)
        c.execute("ROLLBACK")
        print(f"round {r + 1} {k}: {times[k][-1] * 1000:.0f} ms", flush=True)
for k, ts in times.items():
    print(f"{k}: median {statistics.median(ts) * 1000:.0f} ms, runs {[round(t * 1000) for t in ts]}")
