-- Usalama schema version 8 (SQLite): the client's network details, sealed, for channels
-- configured to keep them, and OpenRosa device passwords for HTTP Digest.
-- Append-only: never edit a released migration.

-- The client address and user agent a report came with (sealed JSON under the event's
-- data key), only when `[privacy.client_address]` says "sealed" for its channel.
ALTER TABLE event_sealed ADD COLUMN client BLOB;

-- One OpenRosa device password per account, kept as the HTTP Digest HA1 values of the
-- realm (MD5 and SHA-256, sealed JSON under the data key `key_id`): Digest needs them,
-- and the Argon2id hash of the account's password cannot give them.
CREATE TABLE device_passwords (
    user_id     BLOB PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    key_id      BLOB NOT NULL REFERENCES data_keys(id),
    sealed      BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
