-- Usalama schema version 14 (SQLite): the verification queue in its own order.
-- Append-only: never edit a released migration.

-- The queue lists unverified reports most severe first (killed, otherwise harmed,
-- civilians targeted), then newest (`verification::queue_order_sql`). Without an index in
-- that order every page sorted every unverified report: 1.3-1.8 s a page with 150,000 of
-- them. The leading `status` lets the planner take this index for `status = 'unverified'`
-- rather than `events_status` and a sort. Only unverified events have an entry, so
-- imports (verified) add nothing to it. The expressions are `verification::SEVERITY_SQL`'s.
CREATE INDEX events_queue ON events(
    status,
    COALESCE(killed_best, 0) DESC,
    (CAST(COALESCE(injured, 0) AS BIGINT) + COALESCE(abducted, 0) + COALESCE(displaced, 0)) DESC,
    (CASE WHEN civilians_targeted THEN 1 ELSE 0 END) DESC,
    occurred_end DESC,
    id DESC
) WHERE status = 'unverified';
