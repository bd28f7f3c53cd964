//! Bulk loading (`Store::begin_bulk_load` / `end_bulk_load`): the rows written and read are
//! the same as without it on every backend; on SQLite the secondary indexes come back
//! exactly as they were, after the load and after a crash in the middle of one.

use usalama_domain::{
    Actor, ActorId, ActorKind, ActorRole, AdminLevel, Dimension, EventActor, EventData,
    LocalityPath,
};
use usalama_store::sqlite::{SqliteStore, DB_FILE, DROPPED_INDEXES};
use usalama_store::{EventQuery, GroupBy, PageRequest, PlacedEvent, Store};
use usalama_test_support::{event, on_every_backend, square, t0, taxonomy};

/// `n` events from `from`, alternating between the two paths.
fn events(from: u32, n: u32, paths: &[LocalityPath; 2]) -> Vec<PlacedEvent> {
    events_with(from, n, paths, |_| {})
}

/// [`events`], each changed by `f` before it is validated.
fn events_with(
    from: u32,
    n: u32,
    paths: &[LocalityPath; 2],
    f: impl Fn(&mut EventData),
) -> Vec<PlacedEvent> {
    (from..from + n)
        .map(|i| {
            let path = paths[(i % 2) as usize];
            let mut d = event(i, "2022-03-04", "armed_violence", Dimension::Lives);
            d.locality = path.deepest();
            f(&mut d);
            PlacedEvent {
                event: d.validate(&taxonomy()).unwrap(),
                path,
            }
        })
        .collect()
}

/// Two provinces; the paths of events in each.
fn seed(store: &dyn Store) -> [LocalityPath; 2] {
    let p1 = square(
        "P1",
        "North",
        AdminLevel::Adm1,
        None,
        (0.0, 5.0, 10.0, 10.0),
    );
    let p2 = square("P2", "South", AdminLevel::Adm1, None, (0.0, 0.0, 10.0, 5.0));
    store.upsert_localities(&[p1.clone(), p2.clone()]).unwrap();
    [
        LocalityPath([None, Some(p1.id), None, None]),
        LocalityPath([None, Some(p2.id), None, None]),
    ]
}

fn in_province(store: &dyn Store, path: &LocalityPath) -> u64 {
    store
        .list_events(&EventQuery {
            locality: Some((path.0[1].unwrap(), AdminLevel::Adm1)),
            page: PageRequest {
                limit: 1,
                after: None,
            },
            ..Default::default()
        })
        .unwrap()
        .total
}

fn indexes(store: &SqliteStore) -> Vec<String> {
    store
        .schema_objects()
        .unwrap()
        .into_iter()
        .filter(|(t, _, _)| t == "index")
        .map(|(_, n, _)| n)
        .collect()
}

#[test]
fn a_bulk_load_writes_and_reads_like_a_normal_one() {
    on_every_backend(|s| {
        let paths = seed(&*s.store);
        s.store.upsert_events(&events(0, 10, &paths), t0()).unwrap();
        let before = in_province(&*s.store, &paths[0]);
        let on = s.store.begin_bulk_load(t0()).unwrap();
        assert_eq!(on, s.name == "sqlite", "{}", s.name);
        // A second bulk load while one is in progress changes nothing.
        assert!(!s.store.begin_bulk_load(t0()).unwrap(), "{}", s.name);
        let c = s
            .store
            .upsert_events(&events(10, 300, &paths), t0())
            .unwrap();
        assert_eq!(c.inserted, 300, "{}", s.name);
        // Other connections see the load's rows at its commits (every 100,000 rows on
        // SQLite, so not yet); re-imports are still recognised.
        let seen = if on { before } else { 155 };
        assert_eq!(in_province(&*s.store, &paths[0]), seen, "{}", s.name);
        let again = s.store.upsert_events(&events(0, 20, &paths), t0()).unwrap();
        assert_eq!((again.inserted, again.unchanged), (0, 20), "{}", s.name);
        s.store.end_bulk_load().unwrap();
        // Ending twice is harmless.
        s.store.end_bulk_load().unwrap();
        assert_eq!(in_province(&*s.store, &paths[1]), 155, "{}", s.name);
        let by_category = s
            .store
            .count_events(&EventQuery::default(), GroupBy::Category)
            .unwrap();
        assert_eq!(by_category.iter().map(|g| g.events).sum::<u64>(), 310);
    });
}

#[test]
fn a_bulk_load_leaves_the_sqlite_schema_exactly_as_it_found_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let paths = seed(&store);
    let before = store.schema_objects().unwrap();
    assert!(store.begin_bulk_load(t0()).unwrap());
    let during = indexes(&store);
    for gone in ["events_adm1", "events_occurred", "event_actors_actor"] {
        assert!(!during.iter().any(|n| n == gone), "{gone} still there");
    }
    // The keys upserts find records by stay: the events' primary key and (source,
    // external_id). The event-actor key is dropped: the load keeps its links unique itself.
    let kept = during
        .iter()
        .filter(|n| n.starts_with("sqlite_autoindex_events_"))
        .count();
    assert_eq!(kept, 2, "{during:?}");
    assert!(!during.iter().any(|n| n == "event_actors_key"));
    store.upsert_events(&events(0, 50, &paths), t0()).unwrap();
    let c = end_and_reopen(store, dir.path(), &before);
    // The plans use the rebuilt index again, and the partial ADM3 index (which holds
    // placed events only) serves a lookup by locality.
    for level in [1, 3] {
        let plan: String = c
            .query_row(
                &format!("EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE adm{level}_id = ?1"),
                [vec![0u8; 16]],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains(&format!("events_adm{level}")), "{plan}");
    }
    let notes: i64 = c
        .query_row(
            "SELECT count(*) FROM settings WHERE key = ?1",
            [DROPPED_INDEXES],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notes, 0);
}

#[test]
fn a_bulk_load_keeps_the_partial_indexes_its_rows_skip() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let paths = seed(&store);
    let before = store.schema_objects().unwrap();
    // Every row so far is unverified: the status index holds all of them.
    let first = events_with(0, 40, &paths, |d| {
        d.status = usalama_domain::VerificationStatus::Unverified;
    });
    store.upsert_events(&first, t0()).unwrap();
    assert!(store.begin_bulk_load(t0()).unwrap());
    let during = indexes(&store);
    // No row is a duplicate, owned by an organisation or placed in an ADM3 locality:
    // those indexes stay.
    for kept in ["events_duplicate_of", "events_owner", "events_adm3"] {
        assert!(during.iter().any(|n| n == kept), "{kept} was dropped");
    }
    for gone in ["events_status", "events_adm1"] {
        assert!(!during.iter().any(|n| n == gone), "{gone} still there");
    }
    // A kept index is kept up to date through the load.
    let org = usalama_domain::OrgId::derived("org");
    store
        .insert_org(
            &usalama_domain::Organisation {
                id: org,
                name: "org".into(),
            },
            t0(),
        )
        .unwrap();
    let owned = events_with(40, 2, &paths, |d| d.meta.owner_org = Some(org));
    store.upsert_events(&owned, t0()).unwrap();
    let c = end_and_reopen(store, dir.path(), &before);
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM events INDEXED BY events_owner WHERE owner_org IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
    assert_intact(&c);
}

/// Ends the load, checks the schema is `before` again, closes the store and opens its
/// database file directly.
fn end_and_reopen(
    store: SqliteStore,
    dir: &std::path::Path,
    before: &[(String, String, Option<String>)],
) -> rusqlite::Connection {
    store.end_bulk_load().unwrap();
    assert_eq!(store.schema_objects().unwrap(), before);
    drop(store);
    rusqlite::Connection::open(dir.join(DB_FILE)).unwrap()
}

/// The database passes SQLite's integrity check, and its rows satisfy their foreign keys,
/// which a bulk load does not check while it writes.
fn assert_intact(c: &rusqlite::Connection) {
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let broken: i64 = c
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(broken, 0);
}

/// A store with `n` events, event `i` linked as side A to actor `i % actors`.
fn store_with_links(dir: &std::path::Path, n: u32, actors: u32) -> (SqliteStore, Vec<PlacedEvent>) {
    let (store, make) = store_with_actors(dir, actors);
    let linked = make(n, &|_, _| vec![]);
    (store, linked)
}

/// Makes `n` events, event `i` linked as side A to actor `i % actors` and to
/// `more(i, actors)`.
type LinkedEvents =
    Box<dyn Fn(u32, &dyn Fn(usize, &[ActorId]) -> Vec<EventActor>) -> Vec<PlacedEvent>>;

/// A store with two provinces and `actors` actors, and a maker of events linked to them.
fn store_with_actors(dir: &std::path::Path, actors: u32) -> (SqliteStore, LinkedEvents) {
    let store = SqliteStore::open_dir(dir).unwrap();
    let paths = seed(&store);
    let ids: Vec<ActorId> = (0..actors)
        .map(|a| ActorId::derived(&format!("ucdp:{a}")))
        .collect();
    let all: Vec<Actor> = ids
        .iter()
        .enumerate()
        .map(|(a, id)| {
            Actor::new(
                *id,
                &format!("Group {a}"),
                ActorKind::Militia,
                Default::default(),
            )
            .unwrap()
        })
        .collect();
    store.upsert_actors(&all).unwrap();
    let make = move |n: u32, more: &dyn Fn(usize, &[ActorId]) -> Vec<EventActor>| {
        events_with(0, n, &paths, |d| {
            let i: usize = d.external_id.as_deref().unwrap().parse().unwrap();
            d.actors = vec![EventActor {
                actor: ids[i % ids.len()],
                role: ActorRole::SideA,
            }];
            d.actors.extend(more(i, &ids));
        })
    };
    (store, Box::new(make))
}

#[test]
fn a_bulk_load_keeps_a_one_column_index_of_few_values_and_fills_it() {
    // 300 links to 2 actors before the load: the actor index takes the load's links by appends.
    let dir = tempfile::tempdir().unwrap();
    let (store, linked) = store_with_links(dir.path(), 400, 2);
    let before = store.schema_objects().unwrap();
    store.upsert_events(&linked[..300], t0()).unwrap();
    assert!(store.begin_bulk_load(t0()).unwrap());
    let during = indexes(&store);
    assert!(
        during.iter().any(|n| n == "event_actors_actor"),
        "{during:?}"
    );
    assert!(!during.iter().any(|n| n == "events_adm1"), "{during:?}");
    store.upsert_events(&linked[300..], t0()).unwrap();
    let c = end_and_reopen(store, dir.path(), &before);
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM event_actors INDEXED BY event_actors_actor WHERE actor_id = ?1",
            [ActorId::derived("ucdp:1").as_uuid().as_bytes().to_vec()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 200);
    assert_intact(&c);

    // 300 links to 300 actors: rebuilt by a sort at the end, as every full index.
    let dir = tempfile::tempdir().unwrap();
    let (store, linked) = store_with_links(dir.path(), 300, 300);
    store.upsert_events(&linked, t0()).unwrap();
    assert!(store.begin_bulk_load(t0()).unwrap());
    assert!(!indexes(&store).iter().any(|n| n == "event_actors_actor"));
    store.end_bulk_load().unwrap();
}

#[test]
fn a_crash_in_bulk_mode_is_repaired_when_the_store_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path())
        .unwrap()
        .with_bulk_commit_rows(30);
    let paths = seed(&store);
    let before = store.schema_objects().unwrap();
    assert!(store.begin_bulk_load(t0()).unwrap());
    // 30 rows reach the commit size: committed. The next 10 stay in the open transaction.
    store.upsert_events(&events(0, 30, &paths), t0()).unwrap();
    assert_eq!(in_province(&store, &paths[0]), 15);
    store.upsert_events(&events(30, 10, &paths), t0()).unwrap();
    assert_eq!(in_province(&store, &paths[0]), 15);
    assert_ne!(store.schema_objects().unwrap(), before);
    // The process dies: the load never ends.
    drop(store);
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(store.schema_objects().unwrap(), before);
    // What was committed survives; the open transaction's rows are gone, whole.
    assert_eq!(in_province(&store, &paths[0]), 15);
    let all = store
        .count_events(&EventQuery::default(), GroupBy::Category)
        .unwrap();
    assert_eq!(all.iter().map(|g| g.events).sum::<u64>(), 30);
    // Nothing is left to do, and a new bulk load can start.
    assert!(store.begin_bulk_load(t0()).unwrap());
    store.end_bulk_load().unwrap();
    assert_eq!(store.schema_objects().unwrap(), before);
}

#[test]
fn indexes_noted_and_dropped_by_hand_are_recreated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let before = store.schema_objects().unwrap();
    drop(store);
    // What a crash leaves: the note and the drops, committed together.
    let mut c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let tx = c.transaction().unwrap();
    let defs: Vec<(String, String)> = {
        let mut st = tx
            .prepare("SELECT name, sql FROM sqlite_master WHERE name IN ('events_category', 'event_actors_actor') ORDER BY name")
            .unwrap();
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(defs.len(), 2);
    tx.execute(
        "INSERT INTO settings (key, value, created_at) VALUES (?1, ?2, '2026-01-01T00:00:00Z')",
        rusqlite::params![DROPPED_INDEXES, serde_json::to_vec(&defs).unwrap()],
    )
    .unwrap();
    for (name, _) in &defs {
        tx.execute_batch(&format!("DROP INDEX {name}")).unwrap();
    }
    tx.commit().unwrap();
    drop(c);
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(store.schema_objects().unwrap(), before);
}

/// A store left with its event-actor key dropped and links repeated (not expected: a load
/// writes each link once) still opens: the copies go and the key is built again.
#[test]
fn repeated_links_left_by_a_crash_do_not_keep_the_store_from_opening() {
    let dir = tempfile::tempdir().unwrap();
    let (store, linked) = store_with_links(dir.path(), 3, 2);
    store.upsert_events(&linked, t0()).unwrap();
    let before = store.schema_objects().unwrap();
    drop(store);
    let mut c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let tx = c.transaction().unwrap();
    let def: (String, String) = tx
        .query_row(
            "SELECT name, sql FROM sqlite_master WHERE name = 'event_actors_key'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    tx.execute(
        "INSERT INTO settings (key, value, created_at) VALUES (?1, ?2, '2026-01-01T00:00:00Z')",
        rusqlite::params![DROPPED_INDEXES, serde_json::to_vec(&[def]).unwrap()],
    )
    .unwrap();
    tx.execute_batch(
        "DROP INDEX event_actors_key;
         INSERT INTO event_actors SELECT event_id, actor_id, role FROM event_actors;",
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(repeated_links(&c), 3);
    drop(c);
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(store.schema_objects().unwrap(), before);
    drop(store);
    let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    assert_eq!(repeated_links(&c), 0);
    let links: i64 = c
        .query_row("SELECT count(*) FROM event_actors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(links, 3);
}

#[test]
fn opening_the_store_beside_a_live_bulk_load_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let importer = SqliteStore::open_dir(dir.path()).unwrap();
    let before = importer.schema_objects().unwrap();
    assert!(importer.begin_bulk_load(t0()).unwrap());
    let during = importer.schema_objects().unwrap();
    // A server or another command opens the same database meanwhile.
    let beside = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(beside.schema_objects().unwrap(), during);
    // It cannot start a second bulk load either.
    assert!(!beside.begin_bulk_load(t0()).unwrap());
    importer.end_bulk_load().unwrap();
    assert_eq!(beside.schema_objects().unwrap(), before);
    assert!(!dir.path().join(format!("{DB_FILE}-bulk")).exists());
}

/// Links that appear more than once, by (event, actor, role).
fn repeated_links(c: &rusqlite::Connection) -> i64 {
    c.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM event_actors GROUP BY event_id, actor_id, role HAVING count(*) > 1)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// The event-actor key is dropped for the load and built again at its end; meanwhile the
/// load writes each link once, even one a row names twice, and builds the key again as soon
/// as it changes a stored event's links (an event met again with other actors), which it
/// would otherwise find by reading every link. The key is built at the end without a
/// conflict and every event has exactly its own links.
#[test]
fn the_event_actor_key_is_built_at_the_end_of_a_load_and_stays_unique() {
    let dir = tempfile::tempdir().unwrap();
    let (store, make) = store_with_actors(dir.path(), 3);
    // A commit after every write, so that other connections see the schema as it goes.
    let store = store.with_bulk_commit_rows(1);
    let linked = make(400, &|_, _| vec![]);
    store.upsert_events(&linked[..100], t0()).unwrap();
    let before = store.schema_objects().unwrap();
    assert!(store.begin_bulk_load(t0()).unwrap());
    assert!(!indexes(&store).iter().any(|n| n == "event_actors_key"));
    // New events, event 100 naming its side A twice.
    let side_a_twice = make(300, &|i, ids| {
        let again = EventActor {
            actor: ids[i % ids.len()],
            role: ActorRole::SideA,
        };
        if i == 100 {
            vec![again]
        } else {
            vec![]
        }
    });
    let c = store.upsert_events(&side_a_twice[100..], t0()).unwrap();
    assert_eq!(c.inserted, 200);
    assert!(!indexes(&store).iter().any(|n| n == "event_actors_key"));
    // Written once already, not only after the load's end removes repeats.
    let during = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    assert_eq!(repeated_links(&during), 0);
    drop(during);
    // Stored events again, two of them with another actor as side B: their links change,
    // and the key is back before they do.
    let side_b = make(4, &|i, ids| {
        let b = EventActor {
            actor: ids[2],
            role: ActorRole::SideB,
        };
        if i < 2 {
            vec![b]
        } else {
            vec![]
        }
    });
    let c = store.upsert_events(&side_b, t0()).unwrap();
    assert_eq!((c.updated, c.unchanged), (2, 2));
    assert!(indexes(&store).iter().any(|n| n == "event_actors_key"));
    store.upsert_events(&linked[300..], t0()).unwrap();
    let c = end_and_reopen(store, dir.path(), &before);
    assert_intact(&c);
    assert_eq!(repeated_links(&c), 0);
    let links: i64 = c
        .query_row("SELECT count(*) FROM event_actors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(links, 400 + 2);
}

/// One event `i` with its best fatality estimate and a UCDP-like source code.
fn changed(i: u32, killed: u32, paths: &[LocalityPath; 2]) -> PlacedEvent {
    let path = paths[(i % 2) as usize];
    let mut d = event(i, "2022-03-04", "armed_violence", Dimension::Lives);
    d.locality = path.deepest();
    d.casualties.killed_best = Some(killed);
    d.source_codes.insert("relid", format!("R-{i}"));
    d.source_codes.insert("a custom key", "x");
    PlacedEvent {
        event: d.validate(&taxonomy()).unwrap(),
        path,
    }
}

/// In a bulk load, batches share a transaction until it holds 100,000 rows; an event met
/// again before that (in the same batch or a later one), changed or not, is recognised,
/// updated and given its history exactly as outside a load, and the source codes come back
/// as they were written.
#[test]
fn events_seen_twice_in_one_bulk_transaction_update_and_keep_their_history() {
    on_every_backend(|s| {
        let paths = seed(&*s.store);
        let on = s.store.begin_bulk_load(t0()).unwrap();
        assert_eq!(on, s.name == "sqlite", "{}", s.name);
        let first: Vec<PlacedEvent> = (0..6).map(|i| changed(i, 1, &paths)).collect();
        let c = s.store.upsert_events(&first, t0()).unwrap();
        assert_eq!(c.inserted, 6, "{}", s.name);
        // The same events again: two changed, one of them twice in the batch.
        let mut again: Vec<PlacedEvent> = (0..6)
            .map(|i| changed(i, if i == 1 || i == 4 { 9 } else { 1 }, &paths))
            .collect();
        again.push(changed(4, 11, &paths));
        let c = s.store.upsert_events(&again, t0()).unwrap();
        assert_eq!(
            (c.inserted, c.updated, c.unchanged),
            (0, 3, 4),
            "{}",
            s.name
        );
        // A new event and a repeat of it in one batch.
        let c = s
            .store
            .upsert_events(&[changed(6, 1, &paths), changed(6, 2, &paths)], t0())
            .unwrap();
        assert_eq!((c.inserted, c.updated), (1, 1), "{}", s.name);
        s.store.end_bulk_load().unwrap();
        let id = |i: usize| first[i].event.id;
        assert_eq!(s.store.event_history(id(1)).unwrap().len(), 1, "{}", s.name);
        assert_eq!(s.store.event_history(id(4)).unwrap().len(), 2, "{}", s.name);
        assert_eq!(s.store.event_history(id(2)).unwrap().len(), 0, "{}", s.name);
        let e4 = s.store.get_event(id(4)).unwrap().unwrap();
        assert_eq!(e4.event.casualties.killed_best, Some(11), "{}", s.name);
        // Compact on SQLite, jsonb on PostgreSQL: the same map comes back.
        let e0 = s.store.get_event(id(0)).unwrap().unwrap();
        assert_eq!(
            e0.event.source_codes, first[0].event.source_codes,
            "{}",
            s.name
        );
        let by_category = s
            .store
            .count_events(&EventQuery::default(), GroupBy::Category)
            .unwrap();
        assert_eq!(
            by_category.iter().map(|g| g.events).sum::<u64>(),
            7,
            "{}",
            s.name
        );
    });
}

/// A server writing beside a long bulk load gets its turn at one of the load's commits,
/// not after the whole load: each commit is followed by a pause longer than SQLite's
/// longest wait between two tries of a busy writer. (Without it, the load began its next
/// transaction within microseconds of each commit, and reports sent to a server during a
/// large import failed after the 30-second busy timeout.)
#[test]
fn a_writer_beside_a_bulk_load_gets_in_between_its_commits() {
    let dir = tempfile::tempdir().unwrap();
    let importer = SqliteStore::open_dir(dir.path())
        .unwrap()
        .with_bulk_commit_rows(5_000);
    let paths = seed(&importer);
    let server = SqliteStore::open_dir(dir.path()).unwrap();
    // 4 transactions of 5,000 rows in batches of 50.
    beside_a_load(&importer, &paths, 400, || {
        // A report arriving while the load runs.
        let c = server
            .upsert_events(&events(1_000_000, 1, &paths), t0())
            .unwrap();
        assert_eq!(c.inserted, 1);
    });
    let stored = in_province(&server, &paths[0]) + in_province(&server, &paths[1]);
    assert_eq!(stored, 20_001);
}

/// Bulk loads `batches` batches of 50 events into `importer` on a thread of its own and
/// runs `beside` once the load's first batch is written (its first transaction open);
/// asserts that `beside` ended before the load did, and returns what it returned.
fn beside_a_load<T>(
    importer: &SqliteStore,
    paths: &[LocalityPath; 2],
    batches: u32,
    beside: impl FnOnce() -> T,
) -> T {
    // Ready before the load, so that it writes back to back, as an import's writing
    // thread does.
    let batches: Vec<Vec<PlacedEvent>> = (0..batches).map(|b| events(b * 50, 50, paths)).collect();
    let (started, on_start) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let loading = scope.spawn(|| {
            assert!(importer.begin_bulk_load(t0()).unwrap());
            for (b, batch) in batches.iter().enumerate() {
                assert_eq!(importer.upsert_events(batch, t0()).unwrap().inserted, 50);
                if b == 0 {
                    started.send(()).unwrap();
                }
            }
            let ended = std::time::Instant::now();
            importer.end_bulk_load().unwrap();
            ended
        });
        on_start.recv().unwrap();
        let out = beside();
        let written = std::time::Instant::now();
        let load_ended = loading.join().unwrap();
        assert!(
            written < load_ended,
            "the writer waited for the whole load ({:?} after it)",
            written - load_ended
        );
        out
    })
}

/// An import that has the store to itself writes through a rollback journal (each page
/// once); the next store opened on the file switches it back to the WAL and reads every
/// row.
#[test]
fn an_import_alone_writes_through_a_rollback_journal_and_the_next_open_restores_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let importer = SqliteStore::open_dir_for_import(dir.path())
        .unwrap()
        .with_bulk_commit_rows(100);
    assert_eq!(importer.journal_mode().unwrap(), "delete");
    let paths = seed(&importer);
    assert!(importer.begin_bulk_load(t0()).unwrap());
    for b in 0..10 {
        let c = importer
            .upsert_events(&events(b * 50, 50, &paths), t0())
            .unwrap();
        assert_eq!(c.inserted, 50);
    }
    importer.end_bulk_load().unwrap();
    assert!(!dir.path().join(format!("{DB_FILE}-wal")).exists());
    drop(importer);
    let server = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(server.journal_mode().unwrap(), "wal");
    assert_eq!(
        in_province(&server, &paths[0]) + in_province(&server, &paths[1]),
        500
    );
    let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    assert_intact(&c);
}

/// An import opened while another process has the store open keeps the WAL, at once.
#[test]
fn an_import_beside_an_open_store_keeps_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open_dir(dir.path()).unwrap();
    let began = std::time::Instant::now();
    let importer = SqliteStore::open_dir_for_import(dir.path()).unwrap();
    assert!(began.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(importer.journal_mode().unwrap(), "wal");
    assert_eq!(server.journal_mode().unwrap(), "wal");
}

/// A server opened while an import writes through a rollback journal waits for one of the
/// import's commits (SQLite does not wait for that lock by itself), switches the store
/// back to the WAL, and writes; the import goes on through the WAL and loses nothing.
#[test]
fn a_store_opened_beside_an_import_alone_switches_it_back_to_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let importer = SqliteStore::open_dir_for_import(dir.path())
        .unwrap()
        .with_bulk_commit_rows(1_000);
    assert_eq!(importer.journal_mode().unwrap(), "delete");
    let paths = seed(&importer);
    // The server opens while the load's first transaction is open: it must wait for it.
    let server = beside_a_load(&importer, &paths, 100, || {
        let server = SqliteStore::open_dir(dir.path()).unwrap();
        assert_eq!(server.journal_mode().unwrap(), "wal");
        let c = server
            .upsert_events(&events(1_000_000, 1, &paths), t0())
            .unwrap();
        assert_eq!(c.inserted, 1);
        server
    });
    assert_eq!(importer.journal_mode().unwrap(), "wal");
    let stored = in_province(&server, &paths[0]) + in_province(&server, &paths[1]);
    assert_eq!(stored, 5_001);
    assert_eq!(indexes(&server), indexes(&importer));
    let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    assert_intact(&c);
}

/// A program other than Usalama (the sqlite3 shell, a dashboard) reading the file while an
/// import writes through a rollback journal does not switch it back to the WAL: the
/// import's commits wait for its read to end (within the busy wait) and go on; nothing is
/// lost. A read held past the busy wait would fail the import as busy (ARCHITECTURE.md).
#[test]
fn a_program_reading_beside_an_import_alone_delays_it_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let importer = SqliteStore::open_dir_for_import(dir.path())
        .unwrap()
        .with_bulk_commit_rows(1_000);
    let paths = seed(&importer);
    let seen = beside_a_load(&importer, &paths, 100, || {
        let reader = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        reader
            .busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_secs(1));
        reader.execute_batch("COMMIT").unwrap();
        n
    });
    assert!(seen < 5_000, "the reader saw {seen} events: the whole load");
    assert_eq!(importer.journal_mode().unwrap(), "delete");
    assert_eq!(
        in_province(&importer, &paths[0]) + in_province(&importer, &paths[1]),
        5_000
    );
    let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    assert_intact(&c);
}
