-- Usalama schema version 6 (SQLite): organisations, sharing between them, record ownership
-- and account hardening. Append-only: never edit a released migration.

-- Organisations. Every installation starts with `default`, which owns the accounts, tokens
-- and reports made before organisations existed.
CREATE TABLE organisations (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
INSERT INTO organisations (id, name, created_at)
    VALUES (X'5a1a4d3e000440008000000000000001', 'default', '1970-01-01T00:00:00.000000Z');

-- What an organisation shares with another: `all` its records or only the `verified` ones.
CREATE TABLE org_shares (
    from_org    BLOB NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    to_org      BLOB NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    scope       TEXT NOT NULL CHECK (scope IN ('all', 'verified')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (from_org, to_org),
    CHECK (from_org <> to_org)
);
CREATE INDEX org_shares_to ON org_shares(to_org);

-- The organisation owning each event; NULL for public open data (UCDP, ACLED and other
-- imports by the operator), which every authorised reader sees. Reports received before
-- organisations existed go to `default`.
ALTER TABLE events ADD COLUMN owner_org BLOB REFERENCES organisations(id);
UPDATE events SET owner_org = X'5a1a4d3e000440008000000000000001' WHERE channel <> 'import';
CREATE INDEX events_owner ON events(owner_org, occurred_end) WHERE owner_org IS NOT NULL;

-- Accounts: their organisation, failed log-ins and lock, and the optional TOTP secret.
ALTER TABLE users ADD COLUMN org_id BLOB REFERENCES organisations(id);
UPDATE users SET org_id = X'5a1a4d3e000440008000000000000001';
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;
ALTER TABLE users ADD COLUMN totp_secret BLOB;

-- Tokens: their organisation and optional expiry.
ALTER TABLE api_tokens ADD COLUMN org_id BLOB REFERENCES organisations(id);
UPDATE api_tokens SET org_id = X'5a1a4d3e000440008000000000000001';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
