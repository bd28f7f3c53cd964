-- Usalama schema version 4 (PostgreSQL): alerts, their status history, subscriptions and the
-- delivery outbox with every attempt. Append-only: never edit a released migration.

-- One alert per rule, locality and period (`dedupe_key`); the id is derived from that key.
CREATE TABLE alerts (
    id             UUID PRIMARY KEY,
    dedupe_key     TEXT NOT NULL UNIQUE,
    rule           TEXT NOT NULL,
    rule_kind      TEXT NOT NULL,
    locality_id    UUID,
    locality_code  TEXT,
    locality_name  TEXT,
    dimension      TEXT,
    period         TEXT NOT NULL,
    severity       TEXT NOT NULL,
    urgency        TEXT NOT NULL,
    certainty      TEXT NOT NULL,
    headline       TEXT NOT NULL,
    description    TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    status         TEXT NOT NULL,
    raised_at      TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX alerts_raised ON alerts(raised_at);

-- Every status change (the raising included), who made it and when.
CREATE TABLE alert_events (
    id           BIGSERIAL PRIMARY KEY,
    alert_id     UUID NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    note         TEXT,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX alert_events_alert ON alert_events(alert_id, id);

-- Who wants which alerts, and where (an e-mail address or a signed webhook).
CREATE TABLE alert_subscriptions (
    id            UUID PRIMARY KEY,
    label         TEXT NOT NULL,
    locality_id   UUID,
    dimension     TEXT,
    min_severity  TEXT NOT NULL,
    channel       TEXT NOT NULL,
    target        TEXT NOT NULL,
    secret        TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

-- The outbox: one row per alert and subscription, written with the alert, so nothing is
-- lost if the server stops before delivering. A worker claims due rows (a lease moves
-- `next_attempt_at` forward) and records each attempt.
CREATE TABLE alert_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    alert_id         UUID NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    subscription_id  UUID NOT NULL,
    channel          TEXT NOT NULL,
    target           TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ,
    last_error       TEXT,
    UNIQUE (alert_id, subscription_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(status, next_attempt_at);

-- Every delivery attempt: number, time, outcome and error.
CREATE TABLE alert_delivery_attempts (
    id           BIGSERIAL PRIMARY KEY,
    delivery_id  BIGINT NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    ok           BOOLEAN NOT NULL,
    error        TEXT
);
CREATE INDEX alert_delivery_attempts_delivery ON alert_delivery_attempts(delivery_id, attempt);
