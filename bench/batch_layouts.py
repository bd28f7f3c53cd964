#!/usr/bin/env python3
"""SQLite's own cost of one batch of 10,000 report-shaped rows under other layouts of the
same store: each layout is a copy of STORE rewritten by `VACUUM` (so that every copy is
equally compact), and each round inserts 10,000 stored events given new random ids,
source `api` and status `unverified`, in date order (as the store writes a batch), then
commits and checkpoints, the copies alternated. No Usalama code runs.

Layouts (any number, after the store):
  as-is          the store's own schema and page size
  page:N         pages of N bytes (`PRAGMA page_size = N` before the VACUUM)
  split          the five date-ordered indexes a report enters (by date; by source, category,
                 ADM1 or ADM2, then date) split in two partial indexes each: the records not
                 unverified, and the unverified ones (the reports waiting for an analyst)
  mmap           as-is, read through `PRAGMA mmap_size` of 4 GiB

Usage: python3 bench/batch_layouts.py ROUNDS STORE.sqlite3 WORKDIR LAYOUT...
Prints each round's insert and commit times and the WAL it wrote, then the medians."""
import os, shutil, sqlite3, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_rows  # noqa: E402

SPLIT = {
    "events_occurred": "(occurred_end DESC, id DESC)",
    "events_source_occurred": "(source, occurred_end, id)",
    "events_category": "(category, occurred_end)",
    "events_adm1": "(adm1_id, occurred_end)",
    "events_adm2": "(adm2_id, occurred_end)",
}


def prepare(store, work, layout):
    """Writes the copy of `store` for `layout` into `work` and returns its path."""
    path = os.path.join(work, layout.replace(":", "-") + ".sqlite3")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    # The store's WAL too, if one is left: it may hold committed pages.
    for suffix in ("", "-wal"):
        if os.path.exists(store + suffix):
            shutil.copyfile(store + suffix, path + suffix)
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode = DELETE")
    if layout.startswith("page:"):
        c.execute(f"PRAGMA page_size = {int(layout[5:])}")
    if layout == "split":
        c.execute("PRAGMA cache_size = -8192")
        for name, cols in SPLIT.items():
            c.execute(f"DROP INDEX {name}")
            placed = f"{cols.split(',')[0][1:]} IS NOT NULL AND " if name.startswith("events_adm") else ""
            c.execute(f"CREATE INDEX {name} ON events{cols} WHERE {placed}status <> 'unverified'")
            c.execute(f"CREATE INDEX {name}_unverified ON events{cols} WHERE {placed}status = 'unverified'")
    c.execute("VACUUM")
    c.execute("PRAGMA journal_mode = WAL")
    c.close()
    return path


def main():
    rounds, store, work, layouts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    os.makedirs(work, exist_ok=True)
    conns = {}
    for layout in layouts:
        path = prepare(store, work, layout)
        c = sqlite3.connect(path, isolation_level=None)
        c.execute("PRAGMA synchronous = NORMAL")
        c.execute(f"PRAGMA cache_size = -{64 * 1024}")  # the store's cache for a large batch
        if layout == "mmap":
            c.execute(f"PRAGMA mmap_size = {4 << 30}")
        cols, values = report_rows.pick(c)
        insert = f"INSERT INTO events ({cols}) SELECT {values} FROM temp.pick ORDER BY occurred_end, nid"
        conns[layout] = (c, path, insert)
    times = {k: ([], [], []) for k in layouts}
    for r in range(rounds):
        for k in (layouts if r % 2 == 0 else layouts[::-1]):
            c, path, insert = conns[k]
            c.execute("UPDATE temp.pick SET nid = randomblob(16)")
            c.execute("BEGIN IMMEDIATE")
            start = time.perf_counter()
            c.execute(insert)
            mid = time.perf_counter()
            c.execute("COMMIT")
            end = time.perf_counter()
            wal = os.path.getsize(path + "-wal") / 2**20
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            for t, v in zip(times[k], (mid - start, end - mid, wal)):
                t.append(v)
            print(f"round {r + 1} {k}: insert {(mid - start) * 1000:.0f} ms, commit "
                  f"{(end - mid) * 1000:.0f} ms, WAL {wal:.0f} MiB", flush=True)
    for k, (ins, com, wal) in times.items():
        both = [a + b for a, b in zip(ins, com)]
        print(f"{k}: insert + commit median {statistics.median(both) * 1000:.0f} ms (insert "
              f"{statistics.median(ins) * 1000:.0f}, commit {statistics.median(com) * 1000:.0f}), "
              f"WAL median {statistics.median(wal):.0f} MiB")


if __name__ == "__main__":
    main()
