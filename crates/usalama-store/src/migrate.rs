//! Versioned, append-only migrations, one tree per backend, embedded in the binary.
//!
//! Versions must increase but need not be contiguous: branches developed side by side each
//! take their own number, and the runner applies, in order, every version above the
//! database's.

/// A migration: its version and SQL.
pub(crate) struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

/// SQLite migrations in order.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/sqlite/0002_channels.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/sqlite/0003_verification.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/sqlite/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/sqlite/0005_vault.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/sqlite/0006_access.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/sqlite/0007_sealed_secrets.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/sqlite/0008_client_device.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/sqlite/0009_inline_event_keys.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/sqlite/0010_events_by_source.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/sqlite/0014_sealed_without_rowid.sql"),
    },
];

/// PostgreSQL migrations in order.
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/postgres/0002_channels.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/postgres/0003_verification.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/postgres/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/postgres/0005_vault.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/postgres/0006_access.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/postgres/0007_sealed_secrets.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/postgres/0008_client_device.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/postgres/0009_inline_event_keys.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/postgres/0010_events_by_source.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/postgres/0014_sealed_without_rowid.sql"),
    },
];

/// The newest version a migration list reaches.
pub(crate) fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_both_backends_have_the_same() {
        for list in [SQLITE, POSTGRES] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        }
        let v = |l: &[Migration]| l.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(v(SQLITE), v(POSTGRES));
    }

    #[test]
    fn sqlite_14_keeps_every_sealed_row_as_it_was_in_the_b_tree_of_its_key() {
        use rusqlite::types::Value;
        let c = rusqlite::Connection::open_in_memory().unwrap();
        // Sealed rows without their events: the rows, not the events, are under test.
        c.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        for m in SQLITE.iter().filter(|m| m.version <= 10) {
            c.execute_batch(m.sql).unwrap();
        }
        // A key on its row (0009), a key in `data_keys` (before 0009), an erased key.
        c.execute_batch(
            "INSERT INTO data_keys (id, purpose, wrapped_key, master_version, created_at)
                 VALUES (X'03', 'event', X'0a0b', 2, '2023-05-01T00:00:00Z');
             INSERT INTO event_sealed (event_id, key_id, wrapped_key, master_version,
                 key_created_at, key_destroyed_at, people, reporter_contact, description,
                 point, raw_text, contact_index, client)
             VALUES (X'01', NULL, X'aa', 1, '2024-01-01T00:00:00Z', NULL, X'b1', X'b2',
                     X'b3', X'b4', X'b5', X'c1', X'b6'),
                    (X'02', X'03', NULL, NULL, NULL, NULL, X'd1', NULL, NULL, NULL, X'd5',
                     NULL, NULL),
                    (X'04', NULL, NULL, 1, '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z',
                     X'e1', X'e2', NULL, NULL, NULL, NULL, NULL);",
        )
        .unwrap();
        let rows = |c: &rusqlite::Connection| -> Vec<Vec<Value>> {
            let mut st = c
                .prepare("SELECT * FROM event_sealed ORDER BY event_id")
                .unwrap();
            let n = st.column_count();
            st.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = rows(&c);
        assert_eq!(before.len(), 3);
        for m in SQLITE.iter().filter(|m| m.version > 10) {
            c.execute_batch(m.sql).unwrap();
        }
        assert_eq!(rows(&c), before, "every row and column kept");
        let sql: String = c
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'event_sealed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.ends_with("WITHOUT ROWID"), "{sql}");
        let plan: String = c
            .query_row(
                "EXPLAIN QUERY PLAN SELECT event_id FROM event_sealed WHERE contact_index = X'c1'",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("event_sealed_contact"), "{plan}");
        // The checks hold: a row's key is on the row or in `data_keys`, never both.
        let both = c.execute(
            "INSERT INTO event_sealed (event_id, key_id, wrapped_key, master_version, key_created_at)
             VALUES (X'05', X'03', X'aa', 1, '2024-01-01T00:00:00Z')",
            [],
        );
        assert!(both.is_err());
        let dup = c.execute(
            "INSERT INTO event_sealed (event_id, key_id) VALUES (X'02', X'03')",
            [],
        );
        assert!(dup.is_err(), "one row per event");
    }
}
