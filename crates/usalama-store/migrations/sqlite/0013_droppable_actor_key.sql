-- Usalama schema version 13 (SQLite): the event-actor key becomes an index a bulk import
-- can drop. Append-only: never edit a released migration.

-- The key (event_id, actor_id, role) was the table's primary key, which SQLite keeps in an
-- index that cannot be dropped. A bulk import inserts its links at random places of it (the
-- event ids are random): measured in SQLite alone with rows shaped like ours
-- (`bench/sqlite_floor.py 1000000 compact,c100k,latea`), building it after the load
-- instead took 18 % less CPU for the whole load. The same key is now a unique index, which
-- a bulk load drops and builds again at its end like the secondary indexes; the load's own
-- rows keep it unique (see `crates/usalama-store/src/sqlite/bulk.rs`). No other table
-- refers to event_actors. The links are copied in key order.
CREATE TABLE event_actors_v13 (
    event_id    BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    actor_id    BLOB NOT NULL REFERENCES actors(id),
    role        TEXT NOT NULL
);
INSERT INTO event_actors_v13 (event_id, actor_id, role)
    SELECT event_id, actor_id, role FROM event_actors ORDER BY event_id, actor_id, role;
DROP TABLE event_actors;
ALTER TABLE event_actors_v13 RENAME TO event_actors;
CREATE UNIQUE INDEX event_actors_key ON event_actors(event_id, actor_id, role);
CREATE INDEX event_actors_actor ON event_actors(actor_id);
