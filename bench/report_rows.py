"""Report-shaped rows for the measurements of SQLite alone (`batch_order.py`,
`batch_layouts.py`): stored events picked at random and written again as new reports."""


def pick(c, n=10_000):
    """Creates `temp.pick` on connection `c`: `n` stored events (not reports) picked at
    random, each with a new random id in the extra column `nid`. Returns the events' column
    list and the select list that turns a picked row into a new report (its new id, source
    and channel `api`, no external id, status `unverified`), for `INSERT INTO events
    (columns) SELECT select_list FROM temp.pick`."""
    cols = [r[1] for r in c.execute("PRAGMA table_info(events)")]
    fresh = {"id": "nid", "source": "'api'", "external_id": "NULL", "channel": "'api'",
             "status": "'unverified'"}
    c.execute("CREATE TEMP TABLE pick AS SELECT *, randomblob(16) AS nid FROM events "
              f"WHERE source <> 'api' ORDER BY random() LIMIT {int(n)}")
    return ", ".join(cols), ", ".join(fresh.get(x, x) for x in cols)
