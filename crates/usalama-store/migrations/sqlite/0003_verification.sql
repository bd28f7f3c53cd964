-- Usalama schema version 3 (SQLite): verification. Append-only: never edit a released migration.
-- (Version 2 belongs to the importers; the runner applies every version above the
-- database's, in order, so the numbers need not be contiguous.)

-- A version counter per event, for optimistic concurrency (`If-Match`): the store bumps it
-- on every analyst change, and this trigger bumps it on every content change, whatever
-- code writes the new content (re-imports, report updates).
ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER events_content_version AFTER UPDATE OF content_hash ON events
    WHEN NEW.content_hash IS NOT OLD.content_hash
BEGIN
    UPDATE events SET version = version + 1 WHERE id = NEW.id;
END;

-- What each history entry records: `content_update` (the default, written by upserts),
-- `decision`, `merged_into`, `duplicate_added`, `unmerged`, `duplicate_removed`; the
-- analyst's reason; the other event of a merge or un-merge.
ALTER TABLE event_history ADD COLUMN kind TEXT NOT NULL DEFAULT 'content_update';
ALTER TABLE event_history ADD COLUMN reason TEXT;
ALTER TABLE event_history ADD COLUMN related_event BLOB REFERENCES events(id);
