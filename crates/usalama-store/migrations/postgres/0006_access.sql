-- Usalama schema version 6 (PostgreSQL): organisations, sharing between them, record
-- ownership and account hardening. Append-only: never edit a released migration.

-- Organisations. Every installation starts with `default`, which owns the accounts, tokens
-- and reports made before organisations existed.
CREATE TABLE organisations (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);
INSERT INTO organisations (id, name, created_at)
    VALUES ('5a1a4d3e-0004-4000-8000-000000000001', 'default', '1970-01-01T00:00:00Z');

-- What an organisation shares with another: `all` its records or only the `verified` ones.
CREATE TABLE org_shares (
    from_org    UUID NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    to_org      UUID NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    scope       TEXT NOT NULL CHECK (scope IN ('all', 'verified')),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (from_org, to_org),
    CHECK (from_org <> to_org)
);
CREATE INDEX org_shares_to ON org_shares(to_org);

-- The organisation owning each event; NULL for public open data (UCDP, ACLED and other
-- imports by the operator), which every authorised reader sees. Reports received before
-- organisations existed go to `default`.
ALTER TABLE events ADD COLUMN owner_org UUID REFERENCES organisations(id);
UPDATE events SET owner_org = '5a1a4d3e-0004-4000-8000-000000000001' WHERE channel <> 'import';
CREATE INDEX events_owner ON events(owner_org, occurred_end) WHERE owner_org IS NOT NULL;

-- Accounts: their organisation, failed log-ins and lock, and the optional TOTP secret.
ALTER TABLE users ADD COLUMN org_id UUID REFERENCES organisations(id);
UPDATE users SET org_id = '5a1a4d3e-0004-4000-8000-000000000001';
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN totp_secret BYTEA;

-- Tokens: their organisation and optional expiry.
ALTER TABLE api_tokens ADD COLUMN org_id UUID REFERENCES organisations(id);
UPDATE api_tokens SET org_id = '5a1a4d3e-0004-4000-8000-000000000001';
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
