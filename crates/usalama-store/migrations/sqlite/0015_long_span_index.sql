-- Usalama schema version 15 (SQLite): events that last more than a week, by category.
-- Append-only: never edit a released migration.

-- The pool of possible duplicates of a record holds the events of its category whose
-- dates overlap a window around its own. Read through `events_category` as "ending on or
-- after the window's start", it walked every event of the category up to the newest:
-- 10-25 s for a page of the verification queue 11 months deep in a store of 1,150,000
-- events. The pool now reads events ending within the window or up to a week after it
-- (a range of `events_category`), and the events lasting longer (3.5 % of the 1,000-row
-- GED sample, 10 % of the CAR events) through this index, whose `occurred_start` lets
-- SQLite leave out those that began after the window without reading their rows. The
-- condition must stay word for word `verification::long_span_sql`'s, or SQLite will not
-- use the index.
CREATE INDEX events_long_span ON events(category, occurred_end, occurred_start)
    WHERE julianday(occurred_end) - julianday(occurred_start) > 7;
