-- Usalama schema version 3 (PostgreSQL): verification. Append-only: never edit a released
-- migration. (Version 2 belongs to the importers; the runner applies every version above
-- the database's, in order, so the numbers need not be contiguous.)

-- A version counter per event, for optimistic concurrency (`If-Match`): the store bumps it
-- on every analyst change, and this trigger bumps it on every content change, whatever
-- code writes the new content (re-imports, report updates).
ALTER TABLE events ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE FUNCTION events_content_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.content_hash IS DISTINCT FROM OLD.content_hash THEN
        NEW.version := NEW.version + 1;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER events_content_version BEFORE UPDATE OF content_hash ON events
    FOR EACH ROW EXECUTE FUNCTION events_content_version();

-- What each history entry records: `content_update` (the default, written by upserts),
-- `decision`, `merged_into`, `duplicate_added`, `unmerged`, `duplicate_removed`; the
-- analyst's reason; the other event of a merge or un-merge.
ALTER TABLE event_history ADD COLUMN kind TEXT NOT NULL DEFAULT 'content_update';
ALTER TABLE event_history ADD COLUMN reason TEXT;
ALTER TABLE event_history ADD COLUMN related_event UUID REFERENCES events(id);
