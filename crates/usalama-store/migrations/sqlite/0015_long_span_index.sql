-- Usalama schema version 15 (SQLite): events that last more than a month, by category.
-- Append-only: never edit a released migration.

-- The pool of possible duplicates of a record holds the events of its category whose
-- dates overlap a window around its own. Read through `events_category` as "ending on or
-- after the window's start", it walked every event of the category up to the newest:
-- 10-25 s for a page of the verification queue 11 months deep in a store of 1,150,000
-- events. The pool now reads events ending within the window or up to a month after it
-- (a range of `events_category`), and the few events lasting longer (0.8 % of the
-- 1,000-row GED sample) through this index. The condition must stay word for word the
-- one in `verification::LONG_SPAN_SQLITE`, or SQLite will not use the index.
CREATE INDEX events_long_span ON events(category, occurred_end)
    WHERE julianday(occurred_end) - julianday(occurred_start) > 31;
