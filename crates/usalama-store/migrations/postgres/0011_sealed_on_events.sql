-- Usalama schema version 11 (PostgreSQL): a new report's sealed personal fields kept on its
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
ALTER TABLE events ADD COLUMN sealed_key BYTEA;
ALTER TABLE events ADD COLUMN sealed_master INTEGER;
ALTER TABLE events ADD COLUMN sealed_key_created_at TEXT;
ALTER TABLE events ADD COLUMN sealed_key_destroyed_at TEXT;
ALTER TABLE events ADD COLUMN sealed_people BYTEA;
ALTER TABLE events ADD COLUMN sealed_contact BYTEA;
ALTER TABLE events ADD COLUMN sealed_description BYTEA;
ALTER TABLE events ADD COLUMN sealed_point BYTEA;
ALTER TABLE events ADD COLUMN sealed_raw_text BYTEA;
ALTER TABLE events ADD COLUMN sealed_client BYTEA;
ALTER TABLE events ADD COLUMN contact_index BYTEA;
-- One entry per sealed report: exact search by contact (`contact_index = ?` with the
-- same condition) and the list of inline keys for rotation, erasure and retention.
CREATE INDEX events_sealed ON events(contact_index) WHERE sealed_master IS NOT NULL;
