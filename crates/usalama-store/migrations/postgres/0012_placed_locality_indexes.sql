-- Usalama schema version 12 (PostgreSQL): the locality indexes hold placed events only.
-- Append-only: never edit a released migration.

-- Events are found by locality with `admN_id = ?` (lists, counts, exports, the map of a
-- province), which an index on `admN_id IS NOT NULL` serves as well as a full one. An
-- event not placed at a level no longer takes an entry there: a store without ADM3
-- boundaries held one entry per event in events_adm3, all NULL, which no query reads and
-- which a bulk import of 1,000,000 events rebuilt by a sort of its own.
DROP INDEX events_adm1;
DROP INDEX events_adm2;
DROP INDEX events_adm3;
CREATE INDEX events_adm1 ON events(adm1_id, occurred_end) WHERE adm1_id IS NOT NULL;
CREATE INDEX events_adm2 ON events(adm2_id, occurred_end) WHERE adm2_id IS NOT NULL;
CREATE INDEX events_adm3 ON events(adm3_id, occurred_end) WHERE adm3_id IS NOT NULL;
