-- Usalama schema version 9 (SQLite): a report's data key kept on its `event_sealed` row.
-- Append-only: never edit a released migration.
--
-- A report sealed from now on has its own data key, as before, whose id is the event's id,
-- wrapped by the master key and stored on the report's `event_sealed` row
-- (`wrapped_key`, `master_version`, `key_created_at`, `key_destroyed_at`) instead of a
-- `data_keys` row: one row and two index entries fewer per report. `key_id` is then NULL.
-- Rows written before keep `key_id` pointing at `data_keys` and are read as they were.
-- Erasure clears `wrapped_key` and sets `key_destroyed_at`, as it does in `data_keys`.
-- SQLite cannot drop NOT NULL from a column: the table is rebuilt.
CREATE TABLE event_sealed_v10 (
    event_id          BLOB PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    key_id            BLOB REFERENCES data_keys(id),
    wrapped_key       BLOB,
    master_version    INTEGER,
    key_created_at    TEXT,
    key_destroyed_at  TEXT,
    people            BLOB,
    reporter_contact  BLOB,
    description       BLOB,
    point             BLOB,
    raw_text          BLOB,
    contact_index     BLOB,
    client            BLOB,
    CHECK ((key_id IS NULL) = (master_version IS NOT NULL)),
    CHECK ((key_id IS NULL) = (key_created_at IS NOT NULL)),
    CHECK (key_id IS NOT NULL OR (wrapped_key IS NULL) = (key_destroyed_at IS NOT NULL)),
    CHECK (key_id IS NULL OR (wrapped_key IS NULL AND key_destroyed_at IS NULL))
);
INSERT INTO event_sealed_v10 (event_id, key_id, people, reporter_contact, description, point,
                              raw_text, contact_index, client)
    SELECT event_id, key_id, people, reporter_contact, description, point, raw_text,
           contact_index, client
    FROM event_sealed;
DROP TABLE event_sealed;
ALTER TABLE event_sealed_v10 RENAME TO event_sealed;
CREATE INDEX event_sealed_contact ON event_sealed(contact_index);
-- Only rows written before version 9 name a key in `data_keys`.
CREATE INDEX event_sealed_key ON event_sealed(key_id) WHERE key_id IS NOT NULL;
