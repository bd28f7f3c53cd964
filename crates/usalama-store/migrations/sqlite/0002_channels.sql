-- Usalama schema version 2 (SQLite): what the channels monitors report through need
-- beside the events. Append-only: never edit a released migration.

-- Installation settings, such as the random key that hashes SMS senders' numbers.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

-- One receipt per report received through a channel: the reference the reporter was
-- given, and what the channel carried that is not part of the event.
CREATE TABLE report_receipts (
    event_id     BLOB PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    reference    TEXT NOT NULL UNIQUE,
    channel      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    sender_hash  BLOB,
    raw_text     TEXT
);
CREATE INDEX report_receipts_sender ON report_receipts(sender_hash);

-- Files sent with a report (photos, audio from ODK Collect), kept as they came.
CREATE TABLE report_attachments (
    id            INTEGER PRIMARY KEY,
    event_id      BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        BLOB NOT NULL,
    bytes         BLOB NOT NULL,
    received_at   TEXT NOT NULL,
    UNIQUE (event_id, file_name)
);
