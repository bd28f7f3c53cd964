-- Usalama schema version 11 (SQLite): a new report's sealed personal fields kept on its
-- `events` row. Append-only: never edit a released migration.
--
-- A report sealed from now on keeps its data key (whose id is the event's id, wrapped by
-- the master key of `sealed_master`) and its sealed fields in these columns of its own
-- `events` row instead of an `event_sealed` row: one row, its primary-key index entry and
-- its foreign-key check fewer per report. The columns are added, not the table rebuilt:
-- events stored before (and imported events) keep them NULL and pay nothing; reports
-- sealed before keep their `event_sealed` row and are read, rotated and erased there.
-- `sealed_master IS NOT NULL` marks a row that holds sealed fields. Erasure clears
-- `sealed_key` and `contact_index` and sets `sealed_key_destroyed_at`.
-- `contact_index` holds the first 16 bytes of the contact's keyed blind index.
ALTER TABLE events ADD COLUMN sealed_key BLOB;
ALTER TABLE events ADD COLUMN sealed_master INTEGER;
ALTER TABLE events ADD COLUMN sealed_key_created_at TEXT;
ALTER TABLE events ADD COLUMN sealed_key_destroyed_at TEXT;
ALTER TABLE events ADD COLUMN sealed_people BLOB;
ALTER TABLE events ADD COLUMN sealed_contact BLOB;
ALTER TABLE events ADD COLUMN sealed_description BLOB;
ALTER TABLE events ADD COLUMN sealed_point BLOB;
ALTER TABLE events ADD COLUMN sealed_raw_text BLOB;
ALTER TABLE events ADD COLUMN sealed_client BLOB;
ALTER TABLE events ADD COLUMN contact_index BLOB;
-- One entry per sealed report: exact search by contact (`contact_index = ?` with the
-- same condition) and the list of inline keys for rotation, erasure and retention.
CREATE INDEX events_sealed ON events(contact_index) WHERE sealed_master IS NOT NULL;
