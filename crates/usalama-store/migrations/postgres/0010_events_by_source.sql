-- Usalama schema version 10 (PostgreSQL): events of one source in date order.
-- Append-only: never edit a released migration.

-- Lists and scans of one source (`?source=`, the index, forecasts and public figures,
-- exports of a source) are ordered by (occurred_end, id). Without this index SQLite takes
-- the unique (source, external_id) index for the source and sorts every event of the
-- source for each page or batch: at 1,000,000 events of one source, a batched scan read
-- and sorted the whole source once per batch.
CREATE INDEX events_source_occurred ON events(source, occurred_end, id);
