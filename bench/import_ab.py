#!/usr/bin/env python3
"""One import by two builds side by side: per round and build (the order alternated), a
fresh copy of STORE_DIR, then `BIN import KIND FILE [ARGS…] --data-dir COPY` under
/usr/bin/time. Prints every run (wall seconds, user and system CPU, peak resident memory)
and each build's medians.
Usage: python3 bench/import_ab.py ROUNDS STORE_DIR BIN_A BIN_B [--work DIR] -- KIND FILE
       [ARGS…]"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile

if "--" not in sys.argv:
    sys.exit(__doc__)
cut = sys.argv.index("--")
ap = argparse.ArgumentParser()
ap.add_argument("rounds", type=int)
ap.add_argument("store")
ap.add_argument("bins", nargs=2)
ap.add_argument("--work", default="import-ab-store")
a = ap.parse_args(sys.argv[1:cut])
args = sys.argv[cut + 1:]
if len(args) < 2:
    sys.exit("say what to import after --: KIND FILE [ARGS…]")

runs = {b: [] for b in a.bins}
for r in range(a.rounds):
    for b in (a.bins if r % 2 == 0 else a.bins[::-1]):
        shutil.rmtree(a.work, ignore_errors=True)
        shutil.copytree(a.store, a.work)
        with tempfile.NamedTemporaryFile("r") as t:
            done = subprocess.run(
                ["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name, b, "import", *args,
                 "--data-dir", a.work],
                capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{b} failed:\n{done.stderr}")
            wall, user, sys_cpu, peak = t.read().split()
        said = [line for line in done.stdout.splitlines() if line.startswith("imported")]
        runs[b].append((float(wall), float(user), float(sys_cpu), int(peak)))
        print(f"round {r + 1} {b}: {wall} s (user {user}, sys {sys_cpu}), peak {peak} KB;"
              f" {said[0] if said else done.stdout.strip()}", flush=True)
shutil.rmtree(a.work, ignore_errors=True)
for b, rs in runs.items():
    print(f"{b}: median {statistics.median(x[0] for x in rs):.2f} s, "
          f"peak {min(x[3] for x in rs)}-{max(x[3] for x in rs)} KB")
