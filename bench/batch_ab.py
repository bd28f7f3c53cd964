#!/usr/bin/env python3
"""Batch intake of two builds side by side on a large store: per round and build (the
order alternated), a fresh copy of STORE, a server, then BATCHES batches of 10,000 plain
reports (with --sealed, each with a person and a contact, as the harness sends them) dated
over 2022 through `POST /api/v1/reports:batch`, each sent once the server is idle (as
`measure.py` sends them). Prints every batch and each build's median.
Usage: python3 bench/batch_ab.py ROUNDS STORE_DIR BIN_A BIN_B [--work DIR] [--batches N] [--sealed]"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("rounds", type=int)
ap.add_argument("store")
ap.add_argument("bins", nargs=2)
ap.add_argument("--work", default="batch-ab-store")
ap.add_argument("--batches", type=int, default=3)
ap.add_argument("--sealed", action="store_true",
                help="each report with a person and a contact, as the harness sends them (plain by default)")
a = ap.parse_args()


def body(seed):
    return json.dumps(measure.report_batch(random.Random(seed), seed, people=a.sealed)).encode()


times = {b: [] for b in a.bins}
for r in range(a.rounds):
    for b in (a.bins if r % 2 == 0 else a.bins[::-1]):
        shutil.rmtree(a.work, ignore_errors=True)
        shutil.copytree(a.store, a.work)
        token = subprocess.run([b, "token", "create", "--role", "analyst", "--label", f"ab{r}",
                                "--data-dir", a.work], capture_output=True, text=True, check=True).stdout.strip()
        srv = measure.Server(types.SimpleNamespace(bin=b), a.work)
        try:
            for k in range(a.batches):
                t, cpu, status = measure.post_batch(srv, token, body(100 * r + k))
                times[b].append(t)
                print(f"round {r + 1} {b} batch {k + 1}: {t:.3f} s, server CPU {cpu:.2f} s (HTTP {status})",
                      flush=True)
        finally:
            srv.stop()
shutil.rmtree(a.work, ignore_errors=True)
for b, ts in times.items():
    m = statistics.median(ts)
    print(f"{b}: median {m:.3f} s ({10_000 / m:,.0f} reports/s), runs {[round(t, 3) for t in ts]}")
