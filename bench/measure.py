#!/usr/bin/env python3
"""Measurements for bench/run (see there). Prints progress, writes <mode>.json and <mode>.md."""

import argparse
import csv
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

TIME = "/usr/bin/time"


def timed(cmd, **kw):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS MiB, stdout)."""
    out = subprocess.run([TIME, "-f", "__TIME__ %e %M"] + cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    m = re.search(r"__TIME__ ([\d.]+) (\d+)", out.stderr)
    return float(m.group(1)), int(m.group(2)) / 1024.0, out.stdout


def timed_cpu(cmd, **kw):
    """Like timed, also returning the process's CPU seconds (user + system): on a shared
    2-core machine wall time includes waiting for a core, CPU time does not."""
    out = subprocess.run([TIME, "-f", "__TIME__ %e %M %U %S"] + cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    m = re.search(r"__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)", out.stderr)
    return float(m.group(1)), int(m.group(2)) / 1024.0, float(m.group(3)) + float(m.group(4)), out.stdout


def median(xs):
    return statistics.median(xs) if xs else None


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


def bench_import(a, res):
    print("== import", flush=True)
    ged = os.path.join(a.data, "ged.csv")
    ours, rss, lite, duck = [], [], [], []
    for r in range(a.runs):
        d = fresh(os.path.join(a.work, "store"))
        for lvl in ("adm1", "adm2"):
            timed([a.bin, "import", "boundaries", os.path.join(a.data, f"{lvl}.geojson"), "--level", lvl, "--data-dir", d])
        t, m, out = timed([a.bin, "import", "ucdp", ged, "--data-dir", d])
        ours.append(t)
        rss.append(m)
        db = os.path.join(a.work, "peer.sqlite3")
        if os.path.exists(db):
            os.remove(db)
        t2, _, _ = timed(["sqlite3", db, ".import --csv " + ged + " t"])
        lite.append(t2)
        ddb = os.path.join(a.work, "peer.duckdb")
        if os.path.exists(ddb):
            os.remove(ddb)
        t3, _, _ = timed([sys.executable, "-c",
                          f"import duckdb; duckdb.connect({ddb!r}).execute(\"CREATE TABLE t AS SELECT * FROM read_csv('{ged}')\")"])
        duck.append(t3)
        print(f"  run {r + 1}: usalama {t:.2f}s ({a.events / t:,.0f}/s, {m:.0f} MiB) | sqlite3 .import {t2:.2f}s | duckdb {t3:.2f}s | {out.strip().splitlines()[-1]}", flush=True)
    res["import"] = {
        "events": a.events, "usalama_s": median(ours), "usalama_events_per_s": a.events / median(ours),
        "usalama_peak_rss_mib": median(rss), "sqlite3_import_s": median(lite), "duckdb_read_csv_s": median(duck),
        "ratio_to_sqlite3": median(lite) / median(ours), "ratio_to_duckdb": median(duck) / median(ours),
    }


def bench_pg_import(a, res):
    """`usalama import ucdp` into PostgreSQL (`--pg-url`, a database whose user may create
    databases): each run into a new database holding only the boundaries, beside psql's
    `\\copy` of the same CSV into a plain table of text columns in another new database."""
    print("== import into PostgreSQL", flush=True)
    if not a.pg_url:
        sys.exit("--only pg-import needs --pg-url postgres://user:password@host/db")
    ged = os.path.join(a.data, "ged.csv")
    url = urllib.parse.urlsplit(a.pg_url)

    def db_url(name):
        return urllib.parse.urlunsplit(url._replace(path="/" + name))

    def new_db(name):
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", "-q", a.pg_url, "-c", sql], check=True, capture_output=True)
        return db_url(name)

    with open(ged, newline="") as f:
        header = next(csv.reader(f))
    table = ", ".join(f'"{c}" text' for c in header)
    key = os.path.join(a.work, "pg-master.key")
    ours, again, peer = [], [], []
    for r in range(a.runs):
        d = new_db("usalama_bench_import")
        env = dict(os.environ, USALAMA_DATABASE_URL=d, USALAMA_KEY_FILE=key)
        for lvl in ("adm1", "adm2"):
            timed([a.bin, "import", "boundaries", os.path.join(a.data, f"{lvl}.geojson"), "--level", lvl], env=env)
        t, m, out = timed([a.bin, "import", "ucdp", ged], env=env)
        t1, _, out1 = timed([a.bin, "import", "ucdp", ged], env=env)
        ours.append(t)
        again.append(t1)
        p = new_db("usalama_bench_peer")
        subprocess.run(["psql", "-q", p, "-c", f"CREATE TABLE t ({table})"], check=True, capture_output=True)
        t2, _, _ = timed(["psql", "-q", p, "-c", f"\\copy t FROM '{ged}' CSV HEADER"])
        peer.append(t2)
        print(f"  run {r + 1}: usalama {t:.2f}s ({a.events / t:,.0f}/s, {m:.0f} MiB) | again {t1:.2f}s | psql \\copy {t2:.2f}s"
              f" | {out.strip().splitlines()[-1]} | {out1.strip().splitlines()[-1]}", flush=True)
    for name in ("usalama_bench_import", "usalama_bench_peer"):
        subprocess.run(["psql", "-q", a.pg_url, "-c", f"DROP DATABASE IF EXISTS {name}"], capture_output=True)
    res["pg_import"] = {
        "events": a.events, "usalama_s": median(ours), "usalama_events_per_s": a.events / median(ours),
        "reimport_s": median(again), "psql_copy_s": median(peer), "ratio_to_psql_copy": median(peer) / median(ours),
    }


def bench_recompute(a, res):
    """The full recompute of the ADM2 level (panel, index, both detectors) beside DuckDB's
    and pandas' per-locality-month counts and fatalities of the same events.

    Usalama: `usalama index recompute --level adm2 --format json` on the store the import
    left, as a process; its own stage timings separate reading the store (one narrow scan,
    each event reduced to locality, month and counts) from the in-memory panel, index and
    detectors. Peers: the same countable events of the same source, read from the same
    SQLite file with Python's sqlite3 (adm2 locality, end date, best fatality estimate)
    and loaded BEFORE timing into a DuckDB table (date as DATE) and a pandas DataFrame
    (locality as a category, date as datetime64); only the aggregation is timed: DuckDB
    `CREATE TEMP TABLE .. AS SELECT adm2, date_trunc('month', d), count(*), sum(best) ..
    GROUP BY 1, 2` (materialised, no transfer to Python), pandas `groupby([adm2,
    d.dt.to_period('M')], observed=True)['best'].agg(['count', 'sum'])`. Their results are
    sparse (only locality-months with events); Usalama's panel is dense (every locality x
    every month, explicit zeros) and adds the index and the detectors."""
    print("== recompute (adm2) and per-locality-month aggregation (peers)", flush=True)
    store = store_dir(a)
    runs = []
    for r in range(a.runs):
        t, m, cpu, out = timed_cpu([a.bin, "index", "recompute", "--level", "adm2", "--format", "json", "--threads", "1",
                                    "--data-dir", store])
        j = json.loads(out)
        j["wall_s"], j["peak_rss_mib"], j["cpu_s"] = t, m, cpu
        runs.append(j)
        st = j["timings_s"]
        print(f"  run {r + 1}: total {j['total_s']:.3f}s (read {st['read']:.3f}, panel {st['panel']:.3f}, index {st['index']:.3f}, "
              f"detect {st['detect']:.3f}) wall {t:.2f}s, CPU {cpu:.2f}s, {m:.0f} MiB; {j['localities']} x {j['periods']} cells", flush=True)
    db = os.path.join(store, "usalama.sqlite3")
    source = runs[0]["source"]
    code = f"""
import sqlite3, time, duckdb, pandas as pd
src = sqlite3.connect('file:{db}?mode=ro', uri=True)
rows = src.execute("SELECT lower(hex(adm2_id)), occurred_end, coalesce(killed_best, 0) FROM events "
                   "WHERE source = ? AND status NOT IN ('rejected', 'duplicate') AND adm2_id IS NOT NULL", ({source!r},)).fetchall()
df = pd.DataFrame(rows, columns=['adm2', 'd', 'best'])
del rows
df['adm2'] = df['adm2'].astype('category')
df['d'] = pd.to_datetime(df['d'])
con = duckdb.connect()
con.register('src_df', df)
con.execute("CREATE TABLE t AS SELECT adm2::VARCHAR adm2, d::DATE d, best::INTEGER best FROM src_df")
con.unregister('src_df')
ts, tc = [], []
for _ in range({a.runs}):
    s, c = time.perf_counter(), time.process_time()
    con.execute("CREATE OR REPLACE TEMP TABLE agg AS SELECT adm2, date_trunc('month', d) m, count(*) n, sum(best) f FROM t GROUP BY 1, 2")
    ts.append(time.perf_counter() - s); tc.append(time.process_time() - c)
cells = con.execute("SELECT count(*), sum(n), sum(f) FROM agg").fetchone()
ps, pc = [], []
for _ in range({a.runs}):
    s, c = time.perf_counter(), time.process_time()
    g = df.groupby([df['adm2'], df['d'].dt.to_period('M')], observed=True)['best'].agg(['count', 'sum'])
    ps.append(time.perf_counter() - s); pc.append(time.process_time() - c)
ts.sort(); ps.sort(); tc.sort(); pc.sort()
print(ts[len(ts)//2], ps[len(ps)//2], len(df), cells[0], cells[1], cells[2], len(g), int(g['count'].sum()), int(g['sum'].sum()),
      tc[len(tc)//2], pc[len(pc)//2])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"peer aggregation failed:\n{out.stderr[-3000:]}")
    o = out.stdout.split()
    duck, pandas_s, n_rows = float(o[0]), float(o[1]), int(o[2])
    duck_cells, duck_events, duck_fat = int(o[3]), int(o[4]), int(o[5])
    pd_cells, pd_events, pd_fat = int(o[6]), int(o[7]), int(o[8])
    duck_cpu, pandas_cpu = float(o[9]), float(o[10])
    med = lambda f: median([f(j) for j in runs])
    st = lambda k: med(lambda j: j["timings_s"][k])
    in_memory = med(lambda j: j["timings_s"]["panel"] + j["timings_s"]["index"])
    res["recompute"] = {
        "level": "adm2", "localities": runs[0]["localities"], "periods": runs[0]["periods"],
        "range": runs[0]["range"], "events_read": runs[0]["events_read"], "events_counted": runs[0]["events_counted"],
        "usalama_total_s": med(lambda j: j["total_s"]), "usalama_wall_s": med(lambda j: j["wall_s"]),
        "usalama_peak_rss_mib": med(lambda j: j["peak_rss_mib"]), "usalama_cpu_s": med(lambda j: j["cpu_s"]),
        "stages_s": {k: st(k) for k in ("source", "localities", "read", "panel", "index", "detect") if k in runs[0]["timings_s"]},
        "usalama_panel_index_s": in_memory,
        "detectors": runs[0]["detectors"],
        "duckdb_s": duck, "pandas_s": pandas_s, "duckdb_cpu_s": duck_cpu, "pandas_cpu_s": pandas_cpu, "peer_rows": n_rows,
        "duckdb_cells": duck_cells, "pandas_cells": pd_cells,
        "peer_events": duck_events, "peer_fatalities": duck_fat, "pandas_events": pd_events, "pandas_fatalities": pd_fat,
        "ratio_duckdb_to_panel_index": duck / in_memory, "ratio_pandas_to_panel_index": pandas_s / in_memory,
        "ratio_duckdb_to_total": duck / med(lambda j: j["total_s"]),
        "ratio_pandas_to_total": pandas_s / med(lambda j: j["total_s"]),
    }
    add_recompute_cpu(runs, res["recompute"])
    add_recompute_threads(a, store, runs, res["recompute"])
    g = res["recompute"]
    print(f"  usalama total {g['usalama_total_s']:.3f}s, panel+index {in_memory:.3f}s | duckdb {duck:.3f}s ({duck_cells:,} cells) | "
          f"pandas {pandas_s:.3f}s; duckdb/panel+index {g['ratio_duckdb_to_panel_index']:.2f}x, pandas/panel+index "
          f"{g['ratio_pandas_to_panel_index']:.2f}x; events {g['events_counted']:,} vs {duck_events:,}", flush=True)


def add_recompute_cpu(runs, g):
    """The CPU time of each of Usalama's stages (the calling thread's, from the binary's
    `cpu_timings_s`; medians over the runs) and the peers' CPU time against the panel +
    index stages: on a shared machine wall time includes waiting for a core, CPU time
    does not."""
    if not all(j.get("cpu_timings_s") for j in runs):
        return
    cpu = lambda k: median([j["cpu_timings_s"].get(k, 0.0) for j in runs])
    # The detectors run on their own thread(s): their CPU time is the process's less the
    # calling thread's other stages (so it also holds the process's start and exit).
    g["stages_cpu_s"] = {k: cpu(k) for k in g["stages_s"] if k != "detect"}
    g["stages_cpu_s"]["detect (process CPU less the other stages)"] = median(
        [j["cpu_s"] - sum(v for k, v in j["cpu_timings_s"].items() if k != "detect") for j in runs])
    pi = median([j["cpu_timings_s"]["panel"] + j["cpu_timings_s"]["index"] for j in runs])
    g["usalama_panel_index_cpu_s"] = pi
    g["ratio_duckdb_cpu_to_panel_index_cpu"] = g["duckdb_cpu_s"] / pi if pi > 0 else None
    g["ratio_pandas_cpu_to_panel_index_cpu"] = g["pandas_cpu_s"] / pi if pi > 0 else None
    print(f"  CPU: usalama stages {', '.join(f'{k} {v:.3f}' for k, v in g['stages_cpu_s'].items())}; "
          f"panel+index {pi:.3f}s | duckdb {g['duckdb_cpu_s']:.3f}s | pandas {g['pandas_cpu_s']:.3f}s; "
          f"duckdb/panel+index {g['ratio_duckdb_cpu_to_panel_index_cpu']:.2f}x, "
          f"pandas/panel+index {g['ratio_pandas_cpu_to_panel_index_cpu']:.2f}x", flush=True)


def add_recompute_threads(a, store, runs, g):
    """The same recompute with `--threads 2` (the detectors split over two threads), as
    many runs right after the single-thread ones: wall and CPU medians, and the detectors'
    summary checked equal to the single thread's."""
    two = []
    for r in range(a.runs):
        t, m, cpu, out = timed_cpu([a.bin, "index", "recompute", "--level", "adm2", "--format", "json",
                                    "--threads", "2", "--data-dir", store])
        j = json.loads(out)
        if j["detectors"] != runs[0]["detectors"] or j["latest_signals"] != runs[0]["latest_signals"]:
            sys.exit(f"--threads 2 changed the detectors: {j['detectors']} against {runs[0]['detectors']}")
        two.append((t, cpu, m))
        print(f"  threads 2, run {r + 1}: wall {t:.2f}s, CPU {cpu:.2f}s, {m:.0f} MiB", flush=True)
    g["threads2_wall_s"] = median([x[0] for x in two])
    g["threads2_cpu_s"] = median([x[1] for x in two])
    g["threads2_peak_rss_mib"] = median([x[2] for x in two])
    print(f"  threads 2: wall {g['threads2_wall_s']:.2f}s (1 thread {g['usalama_wall_s']:.2f}s), "
          f"CPU {g['threads2_cpu_s']:.2f}s (1 thread {g['usalama_cpu_s']:.2f}s)", flush=True)


class Server:
    def __init__(self, a, store):
        self.port = 18000 + os.getpid() % 1000
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, USALAMA_LOG="warn")
        self.p = subprocess.Popen([a.bin, "serve", "--data-dir", store, "--bind", f"127.0.0.1:{self.port}"], env=env)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/api/v1/health", timeout=1)
                return
            except Exception:
                time.sleep(0.1)
        sys.exit("server did not start")

    def peak_rss_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return None

    def cpu_s(self):
        """The server's CPU seconds so far (user + system, all threads)."""
        return proc_cpu_s(self.p.pid)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # A long alert evaluation under way does not end with the requests.
            self.p.kill()
            self.p.wait(timeout=30)


def wrk(url, secs, headers, script=None):
    cmd = ["wrk", "-t2", "-c50", f"-d{secs}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout

    def lat(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not m:
            return None
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "p50_ms": lat(50), "p99_ms": lat(99), "errors": errors}


def store_dir(a):
    """The store the import left, or the one given with --store."""
    return getattr(a, "store", None) or os.path.join(a.work, "store")


def login_cookie(base, password, user="bench"):
    """Logs in through the form and returns the session cookie header."""
    with urllib.request.urlopen(base + "/login") as r:
        csrf = re.search(r"usalama_csrf=([^;]+)", r.headers.get("Set-Cookie")).group(1)
    body = urllib.parse.urlencode({"username": user, "password": password, "csrf": csrf, "next": "/"}).encode()
    req = urllib.request.Request(base + "/login", data=body, headers={"Cookie": f"usalama_csrf={csrf}"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kw):
            return None
    try:
        urllib.request.build_opener(NoRedirect).open(req)
    except urllib.error.HTTPError as e:
        cookies = e.headers.get_all("Set-Cookie")
        sess = [c.split(";")[0] for c in cookies if c.startswith("usalama_session=")]
        return sess[0]
    sys.exit("login failed")


def bench_load(a, res):
    print("== API and pages under load", flush=True)
    store = store_dir(a)
    # A kept store (--store) is used again: each run adds its own account and token.
    user = "bench" if not getattr(a, "store", None) else f"bench{int(time.time())}"
    token = subprocess.run([a.bin, "token", "create", "--role", "analyst", "--label", user, "--data-dir", store],
                           capture_output=True, text=True, check=True).stdout.strip()
    out = subprocess.run([a.bin, "user", "add", user, "--role", "analyst", "--data-dir", store],
                         capture_output=True, text=True, check=True).stdout
    password = out.strip().split()[-1]
    # A system administrator for the page stage (the administration pages).
    out = subprocess.run([a.bin, "user", "add", f"{user}admin", "--role", "admin", "--data-dir", store],
                         capture_output=True, text=True, check=True).stdout
    admin = (f"{user}admin", out.strip().split()[-1])
    srv = Server(a, store)
    try:
        cookie = login_cookie(srv.base, password, user)
        adm1 = json.load(urllib.request.urlopen(urllib.request.Request(
            srv.base + "/api/v1/localities?level=adm1&limit=1", headers={"Authorization": f"Bearer {token}"})))
        code = adm1["items"][0]["code"]
        rotating = rotating_script(a, srv, token)
        routes = [
            ("GET /api/v1/events?limit=50", "/api/v1/events?limit=50", [f"Authorization: Bearer {token}"]),
            ("GET /api/v1/events (locality+dates)", f"/api/v1/events?locality={code}&from=2010-01-01&to=2015-12-31&limit=50",
             [f"Authorization: Bearer {token}"]),
            ("GET /api/v1/events (every ADM1 in turn, uncached)", ("/api/v1/events", rotating),
             [f"Authorization: Bearer {token}"]),
            ("GET /events (page)", "/events", [f"Cookie: {cookie}"]),
            ("GET /map (page)", "/map", []),
            ("GET / (dashboard)", "/", []),
        ]
        load_runs = a.load_runs
        res["load"] = {"connections": 50, "seconds": a.load_secs, "runs": load_runs, "routes": {}}
        # The server's start-up work (public figures, the alert worker's first full
        # evaluation: minutes of CPU at 1,000,000 events) is left to finish first, so that
        # the CPU per request is the routes' own.
        s0 = time.perf_counter()
        wait_idle(srv.p.pid, limit=float(getattr(a, "settle_secs", 900)))
        res["load"]["settled_s"] = round(time.perf_counter() - s0, 1)
        print(f"  server idle after {res['load']['settled_s']} s", flush=True)
        for name, path, headers in routes:
            path, script = path if isinstance(path, tuple) else (path, None)
            rs = []
            for i in range(load_runs):
                c0 = srv.cpu_s()
                r = wrk(srv.base + path, a.load_secs, headers, script)
                # Server CPU per request: what the route costs whatever else the shared
                # machine runs (it includes any background work of the server meanwhile).
                r["server_cpu_ms_per_req"] = (srv.cpu_s() - c0) * 1000 / max(1.0, r["rps"] * a.load_secs)
                rs.append(r)
                if load_runs > 1:
                    print(f"    {name} run {i + 1}: {r['rps']:,.0f} req/s, p99 {r['p99_ms']} ms, errors {r['errors']}, "
                          f"server CPU {r['server_cpu_ms_per_req']:.2f} ms/req", flush=True)
            r = load_median(rs)
            res["load"]["routes"][name] = r
            print(f"  {name}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}, "
                  f"server CPU {r['server_cpu_ms_per_req']:.2f} ms/req", flush=True)
        res["load"]["server_peak_rss_mib"] = srv.peak_rss_mib()
        bench_pages(a, res, srv, login_cookie(srv.base, admin[1], admin[0]), token, admin)
        if not getattr(a, "no_batch", False):
            bench_batch(a, res, srv, token)
            bench_batch_sealed(a, res, srv, token)
    finally:
        srv.stop()


def rotating_script(a, srv, token):
    """A wrk script asking for the locality + dates list of every ADM1 area in turn, so that
    nearly no request finds its page in the server's short-lived page cache (64 pages): the
    cost of a list computed from the store."""
    items, cursor = [], None
    while True:
        q = "/api/v1/localities?level=adm1&limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = json.load(urllib.request.urlopen(urllib.request.Request(
            srv.base + q, headers={"Authorization": f"Bearer {token}"})))
        items += [i["code"] for i in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    paths = ", ".join(f'"/api/v1/events?locality={c}&from=2010-01-01&to=2015-12-31&limit=50"' for c in items)
    path = os.path.join(a.work, "rotating.lua")
    with open(path, "w") as f:
        f.write(f"local paths = {{{paths}}}\nlocal i = math.random(#paths)\n"
                "request = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
    return path


def proc_cpu_s(pid):
    """CPU seconds (user + system, every thread) a live process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid, settle=3.0, quiet=0.03, limit=120.0):
    """Waits until the server has used under `quiet` CPU seconds in half a second (after at
    least `settle` seconds): its alert worker judges every rule soon after each write, and a
    batch sent meanwhile would share the two cores with it."""
    start = time.perf_counter()
    time.sleep(settle)
    while time.perf_counter() - start < limit:
        c = proc_cpu_s(pid)
        time.sleep(0.5)
        if proc_cpu_s(pid) - c < quiet:
            return


def load_median(rs):
    """The median of several wrk runs of one route: requests/s and latencies are each the
    median over the runs, errors the sum; the runs themselves are kept."""
    if len(rs) == 1:
        return rs[0]
    med = lambda k: median([r[k] for r in rs if r[k] is not None])
    return {"rps": med("rps"), "p50_ms": med("p50_ms"), "p99_ms": med("p99_ms"),
            "server_cpu_ms_per_req": med("server_cpu_ms_per_req"),
            "errors": sum(r["errors"] for r in rs), "runs": rs}


def post_batch(srv, token, body):
    """POSTs one JSON batch to /api/v1/reports:batch once the server is idle; returns the
    wall time, the server's CPU time for it and the HTTP status."""
    req = urllib.request.Request(srv.base + "/api/v1/reports:batch", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    wait_idle(srv.p.pid)
    c = srv.cpu_s()
    s = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as resp:
        resp.read()
        status = resp.status
    return time.perf_counter() - s, srv.cpu_s() - c, status


REPORT_CATEGORIES = ["armed_violence", "violence_against_civilians", "abduction", "displacement",
                     "food_insecurity"]


def report_batch(rnd, tag, people=True, n=10_000, occurred=None):
    """The harness's batch as a list: `n` reports at random points of the generated
    country, report `i` dated `occurred(i)` (by default spread over 2022), each with a person
    and a contact (sealed by the server) unless `people` is false; `tag` makes the
    descriptions differ from batch to batch."""
    batch = []
    for i in range(n):
        item = {
            "category": REPORT_CATEGORIES[i % len(REPORT_CATEGORIES)],
            "occurred_start": occurred(i) if occurred else f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "latitude": round(rnd.uniform(2.5, 9.5), 5),
            "longitude": round(rnd.uniform(14.5, 23.5), 5),
            "killed": i % 4, "injured": i % 3,
            "description": f"Benchmark report {tag}-{i} near the market",
        }
        if people:
            item["people"] = [{"name": f"Person {i}", "age": 30, "sex": "female", "role": "witness"}]
            item["reporter_contact"] = f"+23670{i:06d}"
        batch.append(item)
    return batch


def bench_batch(a, res, srv, token):
    """POST /api/v1/reports:batch with 10,000 reports, all or nothing, several times."""
    print("== batch report intake", flush=True)
    import random
    rnd = random.Random(7)
    n = 10_000
    ts, cs = [], []
    for r in range(a.runs):
        batch = report_batch(rnd, r, n=n)
        t, cpu, status = post_batch(srv, token, json.dumps(batch).encode())
        ts.append(t)
        cs.append(cpu)
        print(f"  run {r + 1}: {n} reports in {t:.2f}s = {n / t:,.0f} reports/s, server CPU {cpu:.2f}s (HTTP {status})",
              flush=True)
    res["batch"] = {"reports": n, "s": median(ts), "reports_per_s": n / median(ts), "server_cpu_s": median(cs),
                    "runs_s": ts, "runs_cpu_s": cs}


def bench_batch_only(a, res):
    """`--only batch`: the batch intake alone, on a store holding the boundaries only."""
    store = fresh(os.path.join(a.work, "store-batch"))
    for lvl in ("adm1", "adm2"):
        timed([a.bin, "import", "boundaries", os.path.join(a.data, f"{lvl}.geojson"), "--level", lvl, "--data-dir", store])
    token = subprocess.run([a.bin, "token", "create", "--role", "analyst", "--label", "bench", "--data-dir", store],
                           capture_output=True, text=True, check=True).stdout.strip()
    srv = Server(a, store)
    try:
        bench_batch(a, res, srv, token)
    finally:
        srv.stop()


def bench_pages_only(a, res):
    """`--only pages`: the page stage alone, on the store of `--store` (or the import's)."""
    store = store_dir(a)
    user = f"pages{int(time.time())}"
    token = subprocess.run([a.bin, "token", "create", "--role", "analyst", "--label", user, "--data-dir", store],
                           capture_output=True, text=True, check=True).stdout.strip()
    out = subprocess.run([a.bin, "user", "add", user, "--role", "admin", "--data-dir", store],
                         capture_output=True, text=True, check=True).stdout
    admin = (user, out.strip().split()[-1])
    srv = Server(a, store)
    try:
        bench_pages(a, res, srv, login_cookie(srv.base, admin[1], admin[0]), token, admin)
    finally:
        srv.stop()


def bench_batch_sealed(a, res, srv, token):
    """Encryption cost through HTTP: POST /api/v1/reports:batch of 10,000 reports with people
    and a contact (sealed: a data key, sealed fields and a blind index per report) beside the
    same reports without them (nothing to seal), alternated in one run; medians and ratio."""
    print("== batch intake: sealed vs plain", flush=True)
    import random
    n = 10_000

    # By default the reports' dates spread over a year inside the demo data's span, so
    # every (…, date) index takes them at places all over it; `--recent` dates them in the
    # last week, as monitors' reports of what just happened are.
    today = datetime.date.today()

    def occurred(i):
        if getattr(a, "recent", False):
            return (today - datetime.timedelta(days=i % 7)).isoformat()
        return f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}"

    def body(r, sealed):
        return json.dumps(report_batch(random.Random(r), r, people=sealed, n=n,
                                       occurred=occurred)).encode()

    times = {"plain": [], "sealed": []}
    cpus = {"plain": [], "sealed": []}
    for r in range(a.runs):
        # Alternate which goes first so a growing store does not favour one side.
        order = ("plain", "sealed") if r % 2 == 0 else ("sealed", "plain")
        for kind in order:
            data = body(100 + 2 * r + (kind == "sealed"), kind == "sealed")
            t, cpu, status = post_batch(srv, token, data)
            times[kind].append(t)
            cpus[kind].append(cpu)
            print(f"  run {r + 1} {kind}: {n} reports in {t:.2f}s = {n / t:,.0f}/s, server CPU {cpu:.2f}s (HTTP {status})",
                  flush=True)
    p, e = median(times["plain"]), median(times["sealed"])
    pc, ec = median(cpus["plain"]), median(cpus["sealed"])
    res["batch_sealed"] = {"reports": n, "runs": a.runs, "plain_s": p, "sealed_s": e, "ratio": e / p,
                           "plain_cpu_s": pc, "sealed_cpu_s": ec, "cpu_ratio": ec / pc,
                           "plain_runs_s": times["plain"], "sealed_runs_s": times["sealed"],
                           "plain_runs_cpu_s": cpus["plain"], "sealed_runs_cpu_s": cpus["sealed"]}
    print(f"  median plain {p:.2f}s ({n / p:,.0f}/s), sealed {e:.2f}s ({n / e:,.0f}/s), ratio sealed/plain {e / p:.3f}; "
          f"server CPU plain {pc:.2f}s, sealed {ec:.2f}s, ratio {ec / pc:.3f}", flush=True)


def sealed_batch_main():
    """`measure.py sealed-batch --bin BIN --work DIR [--runs N]`: only the sealed/plain batch
    figure, on a fresh store with the demo boundaries."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--recent", action="store_true", help="date the reports in the last week, not over 2022")
    a = ap.parse_args(sys.argv[2:])
    store = os.path.join(a.work, "store-sealed")
    fresh(store)
    subprocess.run([a.bin, "demo", "--no-serve", "--data-dir", store], check=True, capture_output=True)
    token = subprocess.run([a.bin, "token", "create", "--role", "analyst", "--label", "bench-sealed", "--data-dir", store],
                           capture_output=True, text=True, check=True).stdout.strip()
    srv = Server(a, store)
    try:
        res = {}
        bench_batch_sealed(a, res, srv, token)
        print(json.dumps(res))
    finally:
        srv.stop()


class WebDriver:
    """A minimal W3C WebDriver client for Debian's `chromedriver` (standard library only):
    headless Chromium at a phone's width, with its performance log, so that every request
    a page causes (and the bytes each transferred) can be read back."""

    def __init__(self):
        self.port = 19000 + os.getpid() % 1000
        self.p = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.mkdtemp(prefix="usalama-wd-")
        for _ in range(100):
            try:
                urllib.request.urlopen(self.base + "/status", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--window-size=360,800", f"--user-data-dir={self.tmp}/p"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"args": args, "binary": shutil.which("chromium")},
            "goog:loggingPrefs": {"performance": "ALL"}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]
        # The browser's own start page (chrome:// resources) is not a page of ours.
        self.get("about:blank")
        self.network()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=900) as r:
            return json.load(r)["value"]

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def get(self, url):
        self.s("POST", "/url", {"url": url})

    def find(self, css):
        el = self.s("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(el.values()))

    def type(self, css, text):
        self.s("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css):
        self.s("POST", f"/element/{self.find(css)}/click", {})

    def script(self, js):
        return self.s("POST", "/execute/sync", {"script": js, "args": []})

    def network(self):
        """The requests logged since the last call: {request id: [url, bytes]}."""
        seen = {}
        for entry in self.s("POST", "/se/log", {"type": "performance"}):
            m = json.loads(entry["message"])["message"]
            p = m.get("params", {})
            if m.get("method") == "Network.requestWillBeSent":
                seen.setdefault(p["requestId"], [p["request"]["url"], 0])
            elif m.get("method") == "Network.loadingFinished" and p.get("requestId") in seen:
                seen[p["requestId"]][1] = int(p.get("encodedDataLength", 0))
        return seen

    def quit(self):
        try:
            self.s("DELETE", "")
        finally:
            self.p.terminate()
            self.p.wait(timeout=30)
            shutil.rmtree(self.tmp, ignore_errors=True)


def site_pages(srv, token):
    """Every HTML page of the site, with real ids from the store: (path, needs a session)."""
    def api(path):
        req = urllib.request.Request(srv.base + path, headers={"Authorization": f"Bearer {token}"})
        return json.load(urllib.request.urlopen(req))
    code = api("/api/v1/localities?level=adm1&limit=1")["items"][0]["code"]
    ev = api("/api/v1/events?limit=1")["items"]
    month = ev[0]["occurred_end"][:7] if ev else "2020-01"
    pages = [("/", False), ("/dashboard", False), ("/map", False), ("/index", False), (f"/index/{code}", False),
             (f"/reports/sitrep/{month}", False), ("/login", False), ("/report", False),
             ("/report/status?ref=AAAAA-AAAAA", False), ("/events", True), (f"/events?locality={code}", True),
             ("/verify", True), ("/alerts", True), ("/admin/users", True), ("/admin/orgs", True)]
    if ev:
        pages.append((f"/events/{ev[0]['id']}", True))
    try:
        al = api("/api/v1/alerts?limit=1").get("items", [])
        if al:
            pages.append((f"/alerts/{al[0]['id']}", True))
    except urllib.error.HTTPError:
        pass
    return pages


def bench_pages(a, res, srv, cookie, token, admin=None):
    """Page weight and requests leaving the server, for every HTML page, in headless
    Chromium through chromedriver: public pages first with no session, then the pages
    behind a log-in after logging in through the form (as `admin`, a system
    administrator's (user, password), so the administration pages are included). For
    each page: the HTML's bytes (the document's body as the server sent it) and the bytes
    of everything the page loaded (from the browser's log, headers included), the number of
    requests and how many went to any other host."""
    print("== page weight and requests leaving the server (headless Chromium)", flush=True)
    res["pages"] = {}
    pages = site_pages(srv, token)
    wd = WebDriver()
    try:
        # Negative control: a page that asks another host (TEST-NET-1, RFC 5737) for an
        # image must show up as a request leaving, or the counts below would prove nothing.
        wd.get("data:text/html,<img src='http://192.0.2.1/control.png'>")
        time.sleep(0.5)
        if not any(u.startswith("http://192.0.2.1/") for u, _ in wd.network().values()):
            sys.exit("the browser's log shows no request to another host for the control page: "
                     "requests leaving the server cannot be counted")
        logged_in = False
        for path, private in sorted(pages, key=lambda p: p[1]):
            if private and not logged_in:
                user, password = admin or ("", "")
                wd.get(srv.base + "/login")
                wd.type("#username", user)
                wd.type("#password", password)
                wd.click("form button[type=submit], form input[type=submit]")
                time.sleep(0.5)
                logged_in = True
                wd.network()
            req = urllib.request.Request(srv.base + path, headers={"Cookie": cookie} if private else {})
            t0 = time.time()
            try:
                body = urllib.request.urlopen(req).read()
            except urllib.error.HTTPError as e:
                body = e.read()
            first_s = time.time() - t0
            t0 = time.time()
            wd.get(srv.base + path)
            load_s = time.time() - t0
            reqs = wd.network()
            local = [r for r in reqs.values() if r[0].startswith(srv.base)]
            # Anything fetched over the network from elsewhere (data: and the browser's
            # own chrome: and about: pages are not network requests).
            external = [r[0] for r in reqs.values() if not r[0].startswith(srv.base)
                        and urllib.parse.urlsplit(r[0]).scheme in ("http", "https", "ws", "wss", "ftp")]
            final = wd.script("return location.pathname + location.search;")
            r = {"html_bytes": len(body), "transferred_bytes": sum(b for _, b in reqs.values()),
                 "requests": len(local), "external_requests": len(external), "external_urls": external[:5],
                 "ended_at": final, "first_s": round(first_s, 3), "load_s": round(load_s, 3)}
            res["pages"][path] = r
            print(f"  {path}: HTML {len(body):,} bytes, {r['requests']} requests, {r['transferred_bytes']:,} bytes "
                  f"transferred, external requests: {len(external)}; first answer {first_s:.2f} s, "
                  f"then loaded in the browser in {load_s:.2f} s" + (f" (ended at {final})" if final != path else ""),
                  flush=True)
    finally:
        wd.quit()


def bench_export(a, res):
    print("== export", flush=True)
    store = store_dir(a)
    if subprocess.run([a.bin, "export", "--help"], capture_output=True).returncode != 0:
        res["export"] = {"note": "usalama export is not built yet"}
        print("  not built yet", flush=True)
        return
    res["export"] = {}
    for fmt in ("hxl", "geojson"):
        ts, ms, cs = [], [], []
        for _ in range(a.runs):
            outf = os.path.join(a.work, f"export.{fmt}")
            t, m, c, _ = timed_cpu([a.bin, "export", fmt, "--output", outf, "--data-dir", store])
            ts.append(t)
            ms.append(m)
            cs.append(c)
            print(f"    {fmt}: {t:.2f}s wall, {c:.2f}s CPU, {m:.0f} MiB", flush=True)
        res["export"][fmt] = {"s": median(ts), "cpu_s": median(cs), "peak_rss_mib": median(ms),
                              "bytes": os.path.getsize(outf)}
        os.remove(outf)
        print(f"  {fmt}: {median(ts):.2f}s, CPU {median(cs):.2f}s, {median(ms):.0f} MiB", flush=True)


def write_md(a, res, path):
    L = [f"Mode `{a.mode}`, {a.events:,} events, median of {a.runs} runs, {res['machine']}, {res['date']}.", ""]
    i = res.get("import")
    if i:
        L += ["| import | value |", "| --- | --- |",
              f"| `usalama import ucdp` | {i['usalama_s']:.2f} s = **{i['usalama_events_per_s']:,.0f} events/s**, peak {i['usalama_peak_rss_mib']:.0f} MiB |",
              f"| sqlite3 `.import` (no validation, no index) | {i['sqlite3_import_s']:.2f} s; Usalama runs at **{i['ratio_to_sqlite3']:.2f}×** its rate |",
              f"| DuckDB `read_csv` into a table | {i['duckdb_read_csv_s']:.2f} s; ratio {i['ratio_to_duckdb']:.2f}× |", ""]
    pg = res.get("pg_import")
    if pg:
        L += ["| import into PostgreSQL | value |", "| --- | --- |",
              f"| `usalama import ucdp` | {pg['usalama_s']:.2f} s = **{pg['usalama_events_per_s']:,.0f} events/s** |",
              f"| the same file again (every event unchanged) | {pg['reimport_s']:.2f} s |",
              f"| psql `\\copy` into a plain table (no validation, no index) | {pg['psql_copy_s']:.2f} s; ratio {pg['ratio_to_psql_copy']:.2f}× |", ""]
    g = res.get("recompute")
    if g:
        st = g["stages_s"]
        L += [f"| recompute, {g['level']}: {g['localities']:,} localities x {g['periods']} months ({g['range']}), {g['events_counted']:,} events counted | seconds |",
              "| --- | --- |",
              f"| `usalama index recompute` total (in-process stages) | **{g['usalama_total_s']:.3f}** (process wall {g['usalama_wall_s']:.2f}, CPU {g['usalama_cpu_s']:.2f}, peak {g['usalama_peak_rss_mib']:.0f} MiB) |",
              "| stages: " + ", ".join(f"{k} {v:.3f}" for k, v in st.items()) + " | |",
              f"| Usalama panel + index (in memory) | {g['usalama_panel_index_s']:.3f} |",
              f"| DuckDB per-locality-month count + sum (table loaded) | {g['duckdb_s']:.3f} (CPU {g['duckdb_cpu_s']:.3f}); ratio to Usalama panel + index **{g['ratio_duckdb_to_panel_index']:.2f}x**, to the whole recompute {g['ratio_duckdb_to_total']:.2f}x |",
              f"| pandas groupby (DataFrame loaded) | {g['pandas_s']:.3f} (CPU {g['pandas_cpu_s']:.3f}); ratio to Usalama panel + index **{g['ratio_pandas_to_panel_index']:.2f}x**, to the whole recompute {g['ratio_pandas_to_total']:.2f}x |"]
        if "stages_cpu_s" in g:
            L += ["| stages, CPU time of the recomputing thread: " + ", ".join(f"{k} {v:.3f}" for k, v in g["stages_cpu_s"].items()) + " | |",
                  f"| CPU: Usalama panel + index {g['usalama_panel_index_cpu_s']:.3f}; DuckDB {g['duckdb_cpu_s']:.3f} (**{g['ratio_duckdb_cpu_to_panel_index_cpu']:.2f}x**), pandas {g['pandas_cpu_s']:.3f} (**{g['ratio_pandas_cpu_to_panel_index_cpu']:.2f}x**) | |"]
        if "threads2_wall_s" in g:
            L += [f"| `--threads 2` (detectors on two threads): process wall {g['threads2_wall_s']:.2f}, CPU {g['threads2_cpu_s']:.2f}, peak {g['threads2_peak_rss_mib']:.0f} MiB | |"]
        L += [""]
    ld = res.get("load")
    if ld:
        L += [f"| load (wrk, {ld['connections']} connections, {ld['seconds']} s, median of {ld.get('runs', 1)}) | req/s | p50 ms | p99 ms | errors | server CPU ms/req |",
              "| --- | --- | --- | --- | --- | --- |"]
        for k, r in ld["routes"].items():
            cpu = r.get("server_cpu_ms_per_req")
            L.append(f"| {k} | {r['rps']:,.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | {'-' if cpu is None else f'{cpu:.2f}'} |")
        L += ["", f"Server peak resident memory: {ld['server_peak_rss_mib']:.0f} MiB.", ""]
    b = res.get("batch")
    if b:
        L += [f"Batch intake: `POST /api/v1/reports:batch` of {b['reports']:,} reports (all or nothing, validated, placed, stored with their receipts) in {b['s']:.2f} s = **{b['reports_per_s']:,.0f} reports/s**.", ""]
    bs = res.get("batch_sealed")
    if bs:
        L += [f"Encryption cost through HTTP: the same batch of {bs['reports']:,} reports with people and a contact (sealed) {bs['sealed_s']:.2f} s, without them {bs['plain_s']:.2f} s (medians of {bs['runs']}, alternated): **ratio {bs['ratio']:.2f}**"
              + (f"; server CPU {bs['sealed_cpu_s']:.2f} s vs {bs['plain_cpu_s']:.2f} s, ratio {bs['cpu_ratio']:.2f}." if "cpu_ratio" in bs else "."), ""]
    e = res.get("export")
    if e:
        if "note" in e:
            L += [f"Export: {e['note']}.", ""]
        else:
            L += ["| export | time | CPU | peak memory |", "| --- | --- | --- | --- |"] + [
                f"| {k} | {v['s']:.2f} s | {v.get('cpu_s', float('nan')):.2f} s | {v['peak_rss_mib']:.0f} MiB |" for k, v in e.items()] + [""]
    p = res.get("pages")
    if p:
        L += ["| page (headless Chromium, 360 px wide) | HTML bytes | requests to the server | bytes transferred (all requests) | requests leaving the server | first answer s | browser load s |",
              "| --- | --- | --- | --- | --- | --- | --- |"] + [
            f"| `{k}` | {v['html_bytes']:,} | {v['requests']} | {v['transferred_bytes']:,} | **{v['external_requests']}** | {v['first_s']:.2f} | {v['load_s']:.2f} |"
            for k, v in p.items()] + [""]
    open(path, "w").write("\n".join(L))


def main():
    ap = argparse.ArgumentParser()
    for k in ("bin", "data", "work", "mode", "out"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--load-secs", type=int, required=True)
    ap.add_argument("--settle-secs", type=int, default=900,
                    help="load stage: wait at most this long for the server's start-up work to end")
    ap.add_argument("--load-runs", type=int,
                    help="wrk runs per route in the load stage, median reported (default: --runs in full "
                         "mode, one in quick mode)")
    ap.add_argument("--store", help="an existing store for recompute, load and export (default: the import's)")
    ap.add_argument("--no-batch", action="store_true",
                    help="the load stage without the batch intake (which writes to the store)")
    ap.add_argument("--only", default="all",
                    help="comma-separated: import, recompute, load, export, batch, pages, pg-import (default all: every part "
                         "but batch and pages, which load includes, and pg-import, which needs --pg-url)")
    ap.add_argument("--pg-url", help="pg-import: a PostgreSQL database whose user may create databases")
    a = ap.parse_args()
    if a.load_runs is None:
        a.load_runs = a.runs if a.mode == "full" else 1
    parts = {"import", "recompute", "load", "export"} if a.only == "all" else set(a.only.split(","))
    os.makedirs(a.work, exist_ok=True)
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    res = {"mode": a.mode, "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores, {mem:.0f} GiB"}
    for name, part in (("import", bench_import), ("recompute", bench_recompute), ("load", bench_load),
                       ("export", bench_export), ("batch", bench_batch_only), ("pages", bench_pages_only),
                       ("pg-import", bench_pg_import)):
        if name in parts:
            began = time.perf_counter()
            part(a, res)
            res.setdefault("stage_s", {})[name] = round(time.perf_counter() - began, 1)
            print(f"  ({name} took {res['stage_s'][name]:.0f} s)", flush=True)
    name = a.mode if a.only == "all" else f"{a.mode}-{a.only.replace(',', '-')}"
    os.makedirs(a.out, exist_ok=True)
    json.dump(res, open(os.path.join(a.out, f"{name}.json"), "w"), indent=1)
    write_md(a, res, os.path.join(a.out, f"{name}.md"))
    print(open(os.path.join(a.out, f"{name}.md")).read())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "sealed-batch":
        sealed_batch_main()
    else:
        main()
