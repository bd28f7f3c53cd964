-- Usalama schema version 14 (SQLite): `event_sealed` kept in the B-tree of its key.
-- Append-only: never edit a released migration.
--
-- The table was a rowid table with a separate unique index on `event_id`: every sealed
-- report wrote two B-trees for it (the rows by rowid, and the index by event id) besides
-- the blind index. As a WITHOUT ROWID table the row lives in the B-tree of `event_id`:
-- one B-tree and one index entry fewer per sealed report. Columns, checks and the other
-- indexes are as in version 9; every row is copied as it was (keys, sealed fields, blind
-- index), so old rows read, rotate and erase as before. PostgreSQL keeps its layout (a
-- heap with a primary-key index has no such choice), so its migration 14 changes nothing.
CREATE TABLE event_sealed_v14 (
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
) WITHOUT ROWID;
INSERT INTO event_sealed_v14 (event_id, key_id, wrapped_key, master_version, key_created_at,
                              key_destroyed_at, people, reporter_contact, description, point,
                              raw_text, contact_index, client)
    SELECT event_id, key_id, wrapped_key, master_version, key_created_at, key_destroyed_at,
           people, reporter_contact, description, point, raw_text, contact_index, client
    FROM event_sealed;
DROP TABLE event_sealed;
ALTER TABLE event_sealed_v14 RENAME TO event_sealed;
CREATE INDEX event_sealed_contact ON event_sealed(contact_index);
CREATE INDEX event_sealed_key ON event_sealed(key_id) WHERE key_id IS NOT NULL;
