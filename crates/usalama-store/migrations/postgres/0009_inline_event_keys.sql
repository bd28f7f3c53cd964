-- Usalama schema version 9 (PostgreSQL): a report's data key kept on its `event_sealed`
-- row. Append-only: never edit a released migration.
--
-- A report sealed from now on has its own data key, as before, whose id is the event's id,
-- wrapped by the master key and stored on the report's `event_sealed` row
-- (`wrapped_key`, `master_version`, `key_created_at`, `key_destroyed_at`) instead of a
-- `data_keys` row: one row and two index entries fewer per report. `key_id` is then NULL.
-- Rows written before keep `key_id` pointing at `data_keys` and are read as they were.
-- Erasure clears `wrapped_key` and sets `key_destroyed_at`, as it does in `data_keys`.
ALTER TABLE event_sealed ALTER COLUMN key_id DROP NOT NULL;
ALTER TABLE event_sealed ADD COLUMN wrapped_key BYTEA;
ALTER TABLE event_sealed ADD COLUMN master_version INTEGER;
ALTER TABLE event_sealed ADD COLUMN key_created_at TEXT;
ALTER TABLE event_sealed ADD COLUMN key_destroyed_at TEXT;
ALTER TABLE event_sealed ADD CONSTRAINT event_sealed_inline_key CHECK (
    ((key_id IS NULL) = (master_version IS NOT NULL))
    AND ((key_id IS NULL) = (key_created_at IS NOT NULL))
    AND (key_id IS NOT NULL OR (wrapped_key IS NULL) = (key_destroyed_at IS NOT NULL))
    AND (key_id IS NULL OR (wrapped_key IS NULL AND key_destroyed_at IS NULL))
);
DROP INDEX event_sealed_key;
-- Only rows written before version 9 name a key in `data_keys`.
CREATE INDEX event_sealed_key ON event_sealed(key_id) WHERE key_id IS NOT NULL;
