//! Imports large enough to run as a bulk load (`Store::begin_bulk_load`): the same report,
//! the same stored events and, on SQLite, exactly the same schema as a normal import.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use usalama_app::{App, FixedClock, Principal};
use usalama_store::sqlite::SqliteStore;
use usalama_store::{EventQuery, Store};
use usalama_test_support::{on_every_backend, t0, DEMO_BOUNDARIES};

fn app(store: Arc<dyn Store>) -> App {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let app = App::new(store, taxonomy, Arc::new(FixedClock(t0())));
    for (level, json) in DEMO_BOUNDARIES {
        app.import_boundaries(
            &Principal::Operator,
            json.as_bytes(),
            level,
            &Default::default(),
        )
        .unwrap();
    }
    app
}

fn sample() -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../data/samples/ucdpged_sample1000.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Every stored event with its placement, oldest first.
fn stored(store: &dyn Store) -> Vec<usalama_store::StoredEvent> {
    let mut all = Vec::new();
    store
        .scan_events(&EventQuery::default(), 500, &mut |b| {
            all.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
    all
}

fn import(app: &App, progress: &mut dyn FnMut(u64)) -> String {
    let file = sample();
    app.import_ucdp_csv(&Principal::Operator, &mut &file[..], None, progress)
        .unwrap()
        .to_string()
}

#[test]
fn a_bulk_import_stores_what_a_normal_import_stores() {
    on_every_backend(|s| {
        let other = if s.name == "postgres" {
            usalama_test_support::postgres().unwrap()
        } else {
            usalama_test_support::sqlite()
        };
        let normal = import(&app(s.store.clone()), &mut |_| {});
        // Batches of 100: the bulk load starts with the second batch.
        let bulk = import(
            &app(other.store.clone()).with_import_batch(100),
            &mut |_| {},
        );
        assert_eq!(bulk, normal, "{}", s.name);
        assert_eq!(normal, "imported 1000, updated 0, unchanged 0, rejected 0");
        assert_eq!(stored(&*other.store), stored(&*s.store), "{}", s.name);
        // A re-import in small batches finds everything unchanged.
        let again = import(
            &app(other.store.clone()).with_import_batch(100),
            &mut |_| {},
        );
        assert!(again.contains("imported 0, updated 0"), "{again}");
    });
}

#[test]
fn a_bulk_import_leaves_exactly_the_schema_of_a_normal_import() {
    let (normal, bulk) = (
        usalama_test_support::sqlite(),
        usalama_test_support::sqlite(),
    );
    // A second handle on each file, to read its schema.
    let schema = |t: &usalama_test_support::TestStore| {
        let dir = t.dir.as_ref().unwrap().path().join("data");
        SqliteStore::open_dir(&dir)
            .unwrap()
            .schema_objects()
            .unwrap()
    };
    let before = schema(&bulk);
    import(&app(normal.store.clone()), &mut |_| {});
    // Seen from the progress callback, between batches: the secondary indexes are gone.
    let dropped = AtomicBool::new(false);
    import(&app(bulk.store.clone()).with_import_batch(100), &mut |_| {
        let objects = schema(&bulk);
        if !objects.iter().any(|(_, name, _)| name == "events_occurred") {
            dropped.store(true, Ordering::Relaxed);
        }
    });
    assert!(dropped.load(Ordering::Relaxed), "no bulk load happened");
    let after = schema(&bulk);
    assert_eq!(after, schema(&normal));
    assert_eq!(after, before);
}
