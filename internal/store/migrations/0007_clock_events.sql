-- 0007: anchors and risk decisions beside the obligation events.
--
-- The clocks run from moments people record: besides submissions and
-- pauses, obligation_events now holds
--   kind 'anchor':   a moment a rule's clock starts from, recorded by command
--                    (irtui incident anchor); obligation_id is the event name
--                    ("determined", "ransom_paid", ...), at is the moment;
--   kind 'decision': a DPO's decision on a shared assessment's conclusion
--                    (irtui incident risk); obligation_id is the conclusion's
--                    name ("breach_risk"), value the level decided.
-- A later row of the same kind and name replaces an earlier one; both stay.
-- SQLite cannot change a CHECK constraint in place, so the table is copied,
-- keeping every id (nothing refers to its rows).
CREATE TABLE obligation_events_new (
    id            INTEGER PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    obligation_id TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('submitted', 'pause_start', 'pause_end', 'anchor', 'decision')),
    at            TEXT NOT NULL, -- when it happened (may be earlier than recorded_at)
    actor         TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    value         TEXT NOT NULL DEFAULT '', -- a decision's level
    recorded_at   TEXT NOT NULL
) STRICT;
INSERT INTO obligation_events_new (id, incident_id, obligation_id, kind, at, actor, note, recorded_at)
    SELECT id, incident_id, obligation_id, kind, at, actor, note, recorded_at FROM obligation_events;
DROP TABLE obligation_events;
ALTER TABLE obligation_events_new RENAME TO obligation_events;
CREATE INDEX obligation_events_by_incident ON obligation_events (incident_id, obligation_id, id);
