-- Usalama schema version 15 (PostgreSQL): events that last more than a week, by category.
-- Append-only: never edit a released migration.

-- The pool of possible duplicates of a record holds the events of its category whose
-- dates overlap a window around its own. Read as "ending on or after the window's start",
-- it read every event of the category up to the newest. The pool now reads events ending
-- within the window or up to a week after it (a range of `events_category`), and the
-- events lasting longer through this index. The condition must stay
-- `verification::long_span_sql`'s, or the planner cannot prove the index applies.
CREATE INDEX events_long_span ON events(category, occurred_end, occurred_start)
    WHERE occurred_end - occurred_start > 7;
