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
        version: 11,
        sql: include_str!("../migrations/sqlite/0011_sealed_on_events.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/sqlite/0012_placed_locality_indexes.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../migrations/sqlite/0013_droppable_actor_key.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/sqlite/0014_queue_index.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../migrations/sqlite/0015_long_span_index.sql"),
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
        version: 11,
        sql: include_str!("../migrations/postgres/0011_sealed_on_events.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/postgres/0012_placed_locality_indexes.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../migrations/postgres/0013_droppable_actor_key.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../migrations/postgres/0014_queue_index.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../migrations/postgres/0015_long_span_index.sql"),
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
}
