-- Usalama schema version 13 (PostgreSQL): nothing to change.
-- Append-only: never edit a released migration.

-- On SQLite this version turns the event-actor key from the table's primary key into a
-- unique index that a bulk import can drop and build again at its end. PostgreSQL has no
-- bulk mode (dropping an index would lock a shared server's readers out), so its
-- event_actors keeps its primary key; this file keeps both backends' versions aligned.
SELECT 1;
