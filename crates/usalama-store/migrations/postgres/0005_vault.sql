-- Usalama schema version 5 (PostgreSQL): encryption at rest, the hash-chained audit log and
-- erasure. Append-only: never edit a released migration.

-- Per-record data keys (256-bit, random), each wrapped (XChaCha20-Poly1305) by the
-- installation's master key of `master_version`. The master key itself is never stored
-- here. Erasure (crypto-shredding) clears `wrapped_key` and sets `destroyed_at`.
CREATE TABLE data_keys (
    id              UUID PRIMARY KEY,
    purpose         TEXT NOT NULL,
    wrapped_key     BYTEA,
    master_version  INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    destroyed_at    TEXT,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);

-- The sealed (encrypted) personal fields of a report, under the data key `key_id`:
-- people, the reporter's contact, a description or an exact point marked sensitive, and the
-- SMS as received. `contact_index` is a keyed blind index (HMAC-SHA256) of the normalised
-- contact for exact search.
CREATE TABLE event_sealed (
    event_id          UUID PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    key_id            UUID NOT NULL REFERENCES data_keys(id),
    people            BYTEA,
    reporter_contact  BYTEA,
    description       BYTEA,
    point             BYTEA,
    raw_text          BYTEA,
    contact_index     BYTEA
);
CREATE INDEX event_sealed_contact ON event_sealed(contact_index);
CREATE INDEX event_sealed_key ON event_sealed(key_id);

-- Attachments are stored encrypted, each under its own data key.
ALTER TABLE report_attachments ADD COLUMN key_id UUID REFERENCES data_keys(id);

-- The audit log: each entry commits to the previous one (hash chain). `details` is JSON
-- text hashed exactly as stored. Actors are account names or `token:label`, never network
-- details.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    details      TEXT NOT NULL,
    prev_hash    BYTEA NOT NULL,
    hash         BYTEA NOT NULL
);

-- The head of the chain (one row): appends lock it, so the chain never forks, and a log
-- cut short behind the head's back is detected.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
