-- Usalama schema version 1 (PostgreSQL). Append-only: never edit a released migration.
CREATE TABLE localities (
    id          UUID PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    alt_names   JSONB NOT NULL DEFAULT '[]',
    level       INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),
    parent_id   UUID REFERENCES localities(id),
    geometry    TEXT,
    centroid_lon DOUBLE PRECISION,
    centroid_lat DOUBLE PRECISION
);
CREATE INDEX localities_parent ON localities(parent_id);
CREATE INDEX localities_level ON localities(level, code);

CREATE TABLE actors (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    aliases     JSONB NOT NULL DEFAULT '[]',
    kind        TEXT NOT NULL,
    ucdp_id     BIGINT,
    acled_name  TEXT
);
CREATE INDEX actors_name ON actors(name);

CREATE TABLE events (
    id                  UUID PRIMARY KEY,
    source              TEXT NOT NULL,
    external_id         TEXT,
    channel             TEXT NOT NULL,
    occurred_start      DATE NOT NULL,
    occurred_end        DATE NOT NULL,
    date_precision      TEXT NOT NULL,
    reported_at         TIMESTAMPTZ,
    latitude            DOUBLE PRECISION,
    longitude           DOUBLE PRECISION,
    location_precision  INTEGER,
    place_name          TEXT,
    locality_id         UUID REFERENCES localities(id),
    adm0_id             UUID REFERENCES localities(id),
    adm1_id             UUID REFERENCES localities(id),
    adm2_id             UUID REFERENCES localities(id),
    adm3_id             UUID REFERENCES localities(id),
    dimension           TEXT NOT NULL,
    category            TEXT NOT NULL,
    source_codes        JSONB NOT NULL DEFAULT '{}',
    killed_best         INTEGER,
    killed_low          INTEGER,
    killed_high         INTEGER,
    injured             INTEGER,
    abducted            INTEGER,
    displaced           INTEGER,
    civilians_targeted  BOOLEAN NOT NULL,
    description         TEXT,
    people              TEXT NOT NULL DEFAULT '[]',
    reporter_contact    TEXT,
    status              TEXT NOT NULL,
    duplicate_of        UUID REFERENCES events(id),
    reliability         TEXT,
    credibility         INTEGER,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    created_by          TEXT,
    content_hash        BYTEA NOT NULL,
    UNIQUE (source, external_id)
);
-- Indexes kept few: each one slows every import. Filters by locality use the adm columns
-- (one per level, so a province includes its descendants); verification work lists use
-- the partial status index; duplicates are rare, so their index is partial too.
CREATE INDEX events_occurred ON events(occurred_end DESC, id DESC);
CREATE INDEX events_adm1 ON events(adm1_id, occurred_end);
CREATE INDEX events_adm2 ON events(adm2_id, occurred_end);
CREATE INDEX events_adm3 ON events(adm3_id, occurred_end);
CREATE INDEX events_category ON events(category, occurred_end);
CREATE INDEX events_status ON events(status, occurred_end) WHERE status <> 'verified';
CREATE INDEX events_duplicate_of ON events(duplicate_of) WHERE duplicate_of IS NOT NULL;

CREATE TABLE event_actors (
    event_id    UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    actor_id    UUID NOT NULL REFERENCES actors(id),
    role        TEXT NOT NULL,
    PRIMARY KEY (event_id, actor_id, role)
);
CREATE INDEX event_actors_actor ON event_actors(actor_id);

CREATE TABLE event_history (
    id          BIGSERIAL PRIMARY KEY,
    event_id    UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    changed_at  TIMESTAMPTZ NOT NULL,
    changed_by  TEXT,
    previous    JSONB NOT NULL
);
CREATE INDEX event_history_event ON event_history(event_id);

CREATE TABLE indicator_observations (
    locality_id  UUID NOT NULL REFERENCES localities(id),
    indicator    TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    unit         TEXT NOT NULL,
    source       TEXT NOT NULL,
    PRIMARY KEY (locality_id, indicator, period_start, source)
);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    disabled_at   TIMESTAMPTZ
);

CREATE TABLE api_tokens (
    id          UUID PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    label       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
