#!/usr/bin/env python3
"""SQLite's own cost for N event rows shaped like Usalama's `events` and `event_actors` rows
(same columns and key types, the bulk-load pragmas, 10,000-row batches sorted by id, the
secondary indexes built at the end), through the sqlite3 shell, without any of Usalama's
code: the floor an import cannot go under. Variants (comma-separated):
  compact  the source codes' values with one separator each, about 50 bytes shorter than
           the form of `crates/usalama-store/src/codes.rs` (default: their JSON, ~530 bytes)
  seqid    ids in increasing order (default: random 16-byte ids, as UUIDv5 are)
  c100k    commit every 100,000 rows; bigtx: one commit (default: one per batch)
  wr       event_actors WITHOUT ROWID;  noidx: no secondary indexes at the end
  late     no key on the tables while loading: the unique indexes on the id, on
           (source, external_id) and on the event-actor key are built at the end too
  latex    like late, but the id keeps its primary key (other tables' foreign keys point at
           it); only (source, external_id) and the event-actor key are built at the end
  latea    only the event-actor key built at the end (the id and (source, external_id) keep
           their keys);  latek: only (source, external_id) built at the end
  extord   each batch written in the order of its external ids (default: of its ids)
  w100k    batches of 100,000 rows, each sorted by id (default: 10,000)
  secure   PRAGMA secure_delete = ON, as the store sets on every connection (default: off)
Usage: python3 bench/sqlite_floor.py N VARIANT   (run in a scratch directory; prints wall,
user and system seconds of the sqlite3 process and the database size)."""
import sys, os, subprocess, time, resource
N = int(sys.argv[1]); variant = sys.argv[2]
opts = set(variant.split(','))
db = f"v-{variant}.db"
for s in ("", "-wal", "-shm"):
    if os.path.exists(db + s): os.remove(db + s)
SC_FULL = "'{\"adm_1\":\"Region 14 province\",\"code_status\":\"Clear\",\"conflict_dset_id\":\"103\",\"conflict_name\":\"Benchmarkland: conflict 3\",\"conflict_new_id\":\"103\",\"country\":\"Benchmarkland\",\"country_id\":\"999\",\"date_prec\":\"1\",\"deaths_a\":\"0\",\"deaths_b\":\"0\",\"deaths_civilians\":\"' || (value % 50) || '\",\"deaths_unknown\":\"0\",\"dyad_dset_id\":\"221\",\"dyad_name\":\"Front A - Civilians\",\"dyad_new_id\":\"221\",\"event_clarity\":\"1\",\"priogrid_gid\":\"' || (100000 + value) || '\",\"region\":\"Africa\",\"relid\":\"XB-2019-3-' || value || '\",\"side_a_new_id\":\"9002\",\"side_b_new_id\":\"1\",\"type_of_violence\":\"3\",\"where_prec\":\"2\"}'"
SC_COMPACT = "'k1\x1fRegion 14 province\x1fClear\x1f103\x1fBenchmarkland: conflict 3\x1f103\x1fBenchmarkland\x1f999\x1f1\x1f0\x1f0\x1f' || (value % 50) || '\x1f0\x1f221\x1fFront A - Civilians\x1f221\x1f1\x1f' || (100000 + value) || '\x1fAfrica\x1fXB-2019-3-' || value || '\x1f9002\x1f1\x1f3\x1f2'"
late = 'late' in opts
latex = late or 'latex' in opts
late_actors = latex or 'latea' in opts
late_key = latex or 'latek' in opts
sc = SC_COMPACT if 'compact' in opts else SC_FULL
order = "i" if 'extord' in opts else "id"
idexpr = "randomblob(16)" if 'seqid' not in opts else "(x'00000000' || printf('%024x', value))"
sql = [f"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-{256*1024}; PRAGMA wal_autocheckpoint=16384; PRAGMA threads=2;" + (" PRAGMA secure_delete=ON;" if 'secure' in opts else ""),
f"""CREATE TABLE localities(id BLOB PRIMARY KEY);
CREATE TABLE actors(id BLOB PRIMARY KEY);
CREATE TABLE events (
    id BLOB {"NOT NULL" if late else "PRIMARY KEY"}, source TEXT NOT NULL, external_id TEXT, channel TEXT NOT NULL,
    occurred_start TEXT NOT NULL, occurred_end TEXT NOT NULL, date_precision TEXT NOT NULL,
    reported_at TEXT, latitude REAL, longitude REAL, location_precision INTEGER, place_name TEXT,
    locality_id BLOB, adm0_id BLOB, adm1_id BLOB, adm2_id BLOB, adm3_id BLOB,
    dimension TEXT NOT NULL, category TEXT NOT NULL, source_codes TEXT NOT NULL DEFAULT '{{}}',
    killed_best INTEGER, killed_low INTEGER, killed_high INTEGER, injured INTEGER, abducted INTEGER, displaced INTEGER,
    civilians_targeted INTEGER NOT NULL, description TEXT, people TEXT NOT NULL DEFAULT '[]', reporter_contact TEXT,
    status TEXT NOT NULL, duplicate_of BLOB, reliability TEXT, credibility INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, created_by TEXT, content_hash BLOB NOT NULL, owner_org BLOB
    {"" if late_key else ", UNIQUE (source, external_id)"});
CREATE TABLE event_actors (event_id BLOB NOT NULL, actor_id BLOB NOT NULL, role TEXT NOT NULL{"" if late_actors else ", PRIMARY KEY (event_id, actor_id, role)"})""" + (" WITHOUT ROWID" if 'wr' in opts else "") + """;
CREATE TEMP TABLE ids(i INTEGER PRIMARY KEY, id BLOB);"""]
B = 100000 if 'w100k' in opts else 10000
EVERY = N if 'bigtx' in opts else (100000 if 'c100k' in opts else B)
for b in range(0, N, B):
    sql.append(("BEGIN;" if b % EVERY == 0 else "") + f"""
DELETE FROM temp.ids;
INSERT INTO temp.ids SELECT value, {idexpr} FROM generate_series({b},{b+B-1}) ORDER BY 2;
INSERT INTO events SELECT id, 'ucdp-ged', CAST(value AS TEXT), 'import', '2019-09-14', '2019-09-14', 'day', NULL,
  6.916885 + value * 1e-7, 18.920683, 2, 'Place 14', x'0123456789abcdef0123456789abcdef', x'0123456789abcdef0123456789abcdef', x'1123456789abcdef0123456789abcdef',
  x'2123456789abcdef0123456789abcdef', NULL, 'violence', 'one_sided', {sc}, value % 50, value % 40, value % 60, NULL, NULL, NULL, 1,
  'Front A - Civilians: near place 14', '[]', NULL, 'unverified', NULL, NULL, NULL, '2026-11-30T15:23:55.357278Z', '2026-11-30T15:23:55.357278Z', NULL,
  randomblob(32), x'3123456789abcdef0123456789abcdef'
  FROM temp.ids JOIN generate_series({b},{b+B-1}) g ON g.value = ids.i ORDER BY {order};
INSERT INTO event_actors SELECT id, x'4123456789abcdef0123456789abcdef', 'side_a' FROM temp.ids ORDER BY {order};
INSERT INTO event_actors SELECT id, x'5123456789abcdef0123456789abcdef', 'side_b' FROM temp.ids ORDER BY {order};
""" + ("COMMIT;" if (b + B) % EVERY == 0 or b + B >= N else ""))
if late:
    sql.append("CREATE UNIQUE INDEX events_id ON events(id);")
if late_key:
    sql.append("CREATE UNIQUE INDEX events_source_key ON events(source, external_id);")
if late_actors:
    sql.append("CREATE UNIQUE INDEX event_actors_key ON event_actors(event_id, actor_id, role);")
if 'noidx' not in opts:
    sql.append("""CREATE INDEX events_occurred ON events(occurred_end DESC, id DESC);
CREATE INDEX events_adm1 ON events(adm1_id, occurred_end);
CREATE INDEX events_adm2 ON events(adm2_id, occurred_end);
CREATE INDEX events_adm3 ON events(adm3_id, occurred_end);
CREATE INDEX events_category ON events(category, occurred_end);
CREATE INDEX events_status ON events(status, occurred_end) WHERE status <> 'verified';
CREATE INDEX events_duplicate_of ON events(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX events_source_occurred ON events(source, occurred_end, id);
CREATE INDEX event_actors_actor ON event_actors(actor_id);""")
sql.append("PRAGMA wal_checkpoint(TRUNCATE);")
open(f"v-{variant}.sql","w").write("\n".join(sql))
t = time.time(); r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
subprocess.run(["sqlite3", db], stdin=open(f"v-{variant}.sql"), check=True, stdout=subprocess.DEVNULL)
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{variant:30s} wall {time.time()-t:6.2f}  user {r1.ru_utime-r0.ru_utime:6.2f} sys {r1.ru_stime-r0.ru_stime:6.2f}  size {os.path.getsize(db)/1e6:7.1f} MB", flush=True)
os.remove(db)
