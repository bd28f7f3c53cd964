#!/usr/bin/env python3
"""Measurements for bench/run (see there). Prints progress, writes <mode>.json and <mode>.md."""

import argparse
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


def bench_aggregate(a, res):
    print("== per-locality-month aggregation (peers)", flush=True)
    ged = os.path.join(a.data, "ged.csv")
    code = f"""
import time, duckdb, pandas as pd
con = duckdb.connect()
con.execute("CREATE TABLE t AS SELECT adm_1, date_end, best FROM read_csv('{ged}')")
df = con.execute("SELECT * FROM t").df()
df['date_end'] = pd.to_datetime(df['date_end'])
ts = []
for _ in range({a.runs}):
    s = time.perf_counter()
    con.execute("SELECT adm_1, date_trunc('month', date_end) m, count(*), sum(best) FROM t GROUP BY 1, 2").fetchall()
    ts.append(time.perf_counter() - s)
ps = []
for _ in range({a.runs}):
    s = time.perf_counter()
    df.groupby(['adm_1', df['date_end'].dt.to_period('M')])['best'].agg(['count', 'sum'])
    ps.append(time.perf_counter() - s)
ts.sort(); ps.sort()
print(ts[len(ts)//2], ps[len(ps)//2])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    res["aggregate"] = {"duckdb_s": float(out[0]), "pandas_s": float(out[1]),
                        "usalama_s": None, "note": "Usalama's indicator/index recompute is not built yet (issue 4)"}
    print(f"  duckdb {float(out[0]):.3f}s, pandas {float(out[1]):.3f}s; usalama: not built yet", flush=True)


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

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=30)


def wrk(url, secs, headers):
    cmd = ["wrk", "-t2", "-c50", f"-d{secs}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
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


def login_cookie(base, password):
    """Logs in through the form and returns the session cookie header."""
    with urllib.request.urlopen(base + "/login") as r:
        csrf = re.search(r"usalama_csrf=([^;]+)", r.headers.get("Set-Cookie")).group(1)
    body = urllib.parse.urlencode({"username": "bench", "password": password, "csrf": csrf, "next": "/"}).encode()
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
    store = os.path.join(a.work, "store")
    token = subprocess.run([a.bin, "token", "create", "--role", "analyst", "--label", "bench", "--data-dir", store],
                           capture_output=True, text=True, check=True).stdout.strip()
    out = subprocess.run([a.bin, "user", "add", "bench", "--role", "analyst", "--data-dir", store],
                         capture_output=True, text=True, check=True).stdout
    password = out.strip().split()[-1]
    srv = Server(a, store)
    try:
        cookie = login_cookie(srv.base, password)
        adm1 = json.load(urllib.request.urlopen(urllib.request.Request(
            srv.base + "/api/v1/localities?level=adm1&limit=1", headers={"Authorization": f"Bearer {token}"})))
        code = adm1["items"][0]["code"]
        routes = [
            ("GET /api/v1/events?limit=50", "/api/v1/events?limit=50", [f"Authorization: Bearer {token}"]),
            ("GET /api/v1/events (locality+dates)", f"/api/v1/events?locality={code}&from=2010-01-01&to=2015-12-31&limit=50",
             [f"Authorization: Bearer {token}"]),
            ("GET /events (page)", "/events", [f"Cookie: {cookie}"]),
            ("GET /map (page)", "/map", []),
            ("GET / (dashboard)", "/", []),
        ]
        res["load"] = {"connections": 50, "seconds": a.load_secs, "routes": {}}
        for name, path, headers in routes:
            r = wrk(srv.base + path, a.load_secs, headers)
            res["load"]["routes"][name] = r
            print(f"  {name}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}", flush=True)
        res["load"]["server_peak_rss_mib"] = srv.peak_rss_mib()
        bench_pages(a, res, srv, cookie)
        bench_batch(a, res, srv, token)
        bench_batch_sealed(a, res, srv, token)
    finally:
        srv.stop()


def bench_batch(a, res, srv, token):
    """POST /api/v1/reports:batch with 10,000 reports, all or nothing, several times."""
    print("== batch report intake", flush=True)
    import random
    rnd = random.Random(7)
    n = 10_000
    cats = ["armed_violence", "violence_against_civilians", "abduction", "displacement", "food_insecurity"]
    ts = []
    for r in range(a.runs):
        batch = [{
            "category": cats[i % len(cats)],
            "occurred_start": f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "latitude": round(rnd.uniform(2.5, 9.5), 5),
            "longitude": round(rnd.uniform(14.5, 23.5), 5),
            "killed": i % 4, "injured": i % 3,
            "description": f"Benchmark report {r}-{i} near the market",
            "people": [{"name": f"Person {i}", "age": 30, "sex": "female", "role": "witness"}],
            "reporter_contact": f"+23670{i:06d}",
        } for i in range(n)]
        body = json.dumps(batch).encode()
        req = urllib.request.Request(srv.base + "/api/v1/reports:batch", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        s = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            resp.read()
            status = resp.status
        t = time.perf_counter() - s
        ts.append(t)
        print(f"  run {r + 1}: {n} reports in {t:.2f}s = {n / t:,.0f} reports/s (HTTP {status})", flush=True)
    res["batch"] = {"reports": n, "s": median(ts), "reports_per_s": n / median(ts)}


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


def bench_batch_sealed(a, res, srv, token):
    """Encryption cost through HTTP: POST /api/v1/reports:batch of 10,000 reports with people
    and a contact (sealed: a data key, sealed fields and a blind index per report) beside the
    same reports without them (nothing to seal), alternated in one run; medians and ratio."""
    print("== batch intake: sealed vs plain", flush=True)
    import random
    n = 10_000
    cats = ["armed_violence", "violence_against_civilians", "abduction", "displacement", "food_insecurity"]

    def body(r, sealed):
        rnd = random.Random(r)
        batch = []
        for i in range(n):
            item = {
                "category": cats[i % len(cats)],
                "occurred_start": f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "latitude": round(rnd.uniform(2.5, 9.5), 5),
                "longitude": round(rnd.uniform(14.5, 23.5), 5),
                "killed": i % 4, "injured": i % 3,
                "description": f"Sealed benchmark {r}-{i} near the market",
            }
            if sealed:
                item["people"] = [{"name": f"Person {r}-{i}", "age": 30, "sex": "female", "role": "witness"}]
                item["reporter_contact"] = f"+2367{r:02d}{i:06d}"
            batch.append(item)
        return json.dumps(batch).encode()

    times = {"plain": [], "sealed": []}
    for r in range(a.runs):
        # Alternate which goes first so a growing store does not favour one side.
        order = ("plain", "sealed") if r % 2 == 0 else ("sealed", "plain")
        for kind in order:
            data = body(100 + 2 * r + (kind == "sealed"), kind == "sealed")
            req = urllib.request.Request(srv.base + "/api/v1/reports:batch", data=data, method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            s = time.perf_counter()
            with urllib.request.urlopen(req, timeout=600) as resp:
                resp.read()
                status = resp.status
            t = time.perf_counter() - s
            times[kind].append(t)
            print(f"  run {r + 1} {kind}: {n} reports in {t:.2f}s (HTTP {status})", flush=True)
    p, e = median(times["plain"]), median(times["sealed"])
    res["batch_sealed"] = {"reports": n, "runs": a.runs, "plain_s": p, "sealed_s": e, "ratio": e / p}
    print(f"  median plain {p:.2f}s, sealed {e:.2f}s, ratio sealed/plain {e / p:.3f}", flush=True)


def sealed_batch_main():
    """`measure.py sealed-batch --bin BIN --work DIR [--runs N]`: only the sealed/plain batch
    figure, on a fresh store with the demo boundaries."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5)
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


def netlog_external(url, base):
    """Requests a page in headless Chromium causes outside `base`, from its net log."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "net.json")
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/p", f"--log-net-log={log}", "--dump-dom", url],
                       capture_output=True, timeout=60)
        d = json.load(open(log))
        t = d["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        jobs = [e["params"] for e in d["events"] if e.get("type") == t and "url" in e.get("params", {})]
        return sum(1 for j in jobs if j.get("initiator") == base and not j["url"].startswith(base))


def bench_pages(a, res, srv, cookie):
    print("== page weight", flush=True)
    res["pages"] = {}
    for path in ["/", "/events", "/map", "/login", "/report", "/verify", "/report/status?ref=AAAAA-AAAAA"]:
        req = urllib.request.Request(srv.base + path, headers={"Cookie": cookie})
        try:
            body = urllib.request.urlopen(req).read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                continue
            body = e.read()
        ext = netlog_external(srv.base + path, srv.base) if path in ("/", "/map", "/login") else None
        res["pages"][path] = {"bytes": len(body), "external_requests": ext}
        print(f"  {path}: {len(body):,} bytes, external requests: {ext}", flush=True)


def bench_export(a, res):
    print("== export", flush=True)
    store = os.path.join(a.work, "store")
    if subprocess.run([a.bin, "export", "--help"], capture_output=True).returncode != 0:
        res["export"] = {"note": "usalama export is not built yet"}
        print("  not built yet", flush=True)
        return
    res["export"] = {}
    for fmt in ("hxl", "geojson"):
        ts, ms = [], []
        for _ in range(a.runs):
            outf = os.path.join(a.work, f"export.{fmt}")
            t, m, _ = timed([a.bin, "export", fmt, "--output", outf, "--data-dir", store])
            ts.append(t)
            ms.append(m)
        res["export"][fmt] = {"s": median(ts), "peak_rss_mib": median(ms)}
        print(f"  {fmt}: {median(ts):.2f}s, {median(ms):.0f} MiB", flush=True)


def write_md(a, res, path):
    L = [f"Mode `{a.mode}`, {a.events:,} events, median of {a.runs} runs, {res['machine']}, {res['date']}.", ""]
    i = res.get("import")
    if i:
        L += ["| import | value |", "| --- | --- |",
              f"| `usalama import ucdp` | {i['usalama_s']:.2f} s = **{i['usalama_events_per_s']:,.0f} events/s**, peak {i['usalama_peak_rss_mib']:.0f} MiB |",
              f"| sqlite3 `.import` (no validation, no index) | {i['sqlite3_import_s']:.2f} s; Usalama runs at **{i['ratio_to_sqlite3']:.2f}×** its rate |",
              f"| DuckDB `read_csv` into a table | {i['duckdb_read_csv_s']:.2f} s; ratio {i['ratio_to_duckdb']:.2f}× |", ""]
    g = res.get("aggregate")
    if g:
        L += [f"Per-locality-month counts and fatalities: DuckDB {g['duckdb_s']*1000:.0f} ms, pandas {g['pandas_s']*1000:.0f} ms; Usalama: {g['note']}.", ""]
    ld = res.get("load")
    if ld:
        L += [f"| load (wrk, {ld['connections']} connections, {ld['seconds']} s) | req/s | p50 ms | p99 ms | errors |", "| --- | --- | --- | --- | --- |"]
        for k, r in ld["routes"].items():
            L.append(f"| {k} | {r['rps']:,.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} |")
        L += ["", f"Server peak resident memory: {ld['server_peak_rss_mib']:.0f} MiB.", ""]
    b = res.get("batch")
    if b:
        L += [f"Batch intake: `POST /api/v1/reports:batch` of {b['reports']:,} reports (all or nothing, validated, placed, stored with their receipts) in {b['s']:.2f} s = **{b['reports_per_s']:,.0f} reports/s**.", ""]
    bs = res.get("batch_sealed")
    if bs:
        L += [f"Encryption cost through HTTP: the same batch of {bs['reports']:,} reports with people and a contact (sealed) {bs['sealed_s']:.2f} s, without them {bs['plain_s']:.2f} s (medians of {bs['runs']}, alternated): **ratio {bs['ratio']:.2f}**.", ""]
    e = res.get("export")
    if e:
        if "note" in e:
            L += [f"Export: {e['note']}.", ""]
        else:
            L += ["| export | time | peak memory |", "| --- | --- | --- |"] + [
                f"| {k} | {v['s']:.2f} s | {v['peak_rss_mib']:.0f} MiB |" for k, v in e.items()] + [""]
    p = res.get("pages")
    if p:
        L += ["| page | bytes (uncompressed) | requests leaving the server |", "| --- | --- | --- |"] + [
            f"| `{k}` | {v['bytes']:,} | {'-' if v['external_requests'] is None else v['external_requests']} |" for k, v in p.items()] + [""]
    open(path, "w").write("\n".join(L))


def main():
    ap = argparse.ArgumentParser()
    for k in ("bin", "data", "work", "mode", "out"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--load-secs", type=int, required=True)
    ap.add_argument("--only", default="", choices=["", "import", "batch"])
    a = ap.parse_args()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    res = {"mode": a.mode, "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores, {mem:.0f} GiB"}
    name = a.mode
    if a.only:
        name = f"{a.mode}-{a.only}"
        {"import": bench_import, "batch": bench_batch_only}[a.only](a, res)
    else:
        bench_import(a, res)
        bench_aggregate(a, res)
        bench_load(a, res)
        bench_export(a, res)
    json.dump(res, open(os.path.join(a.out, f"{name}.json"), "w"), indent=1)
    write_md(a, res, os.path.join(a.out, f"{name}.md"))
    print(open(os.path.join(a.out, f"{name}.md")).read())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "sealed-batch":
        sealed_batch_main()
    else:
        main()
