-- Usalama schema version 14 (PostgreSQL): no change.
-- Append-only: never edit a released migration.
--
-- On SQLite, version 14 keeps `event_sealed` in the B-tree of its key (WITHOUT ROWID).
-- A PostgreSQL table is a heap with a primary-key index either way, so nothing changes
-- here; the version is recorded so both backends stay at the same schema version.
SELECT 1;
