-- 0003: table-top drills.
--
-- A drill run replays a scenario on its own clock ("drill time"); the team
-- works a drill-flagged incident whose timeline is the evidence the run is
-- scored on. drill_events is the run's own append-only log: injects
-- delivered, clock changes, observations, marks and ratings. The hot wash
-- and the improvement plan's action items are kept per run.

CREATE TABLE drill_runs (
    num              INTEGER PRIMARY KEY,           -- the number in the id
    id               TEXT    NOT NULL UNIQUE,       -- DR-0001
    scenario_id      TEXT    NOT NULL,
    scenario_title   TEXT    NOT NULL,
    scenario_version TEXT    NOT NULL DEFAULT '',
    scenario_hash    TEXT    NOT NULL DEFAULT '',   -- SHA-256 of the scenario file
    scenario         TEXT    NOT NULL,              -- JSON: the scenario as played
    runbook_id       TEXT    NOT NULL,
    incident_id      TEXT    REFERENCES incidents (id), -- the drill incident, once declared
    status           TEXT    NOT NULL CHECK (status IN ('running', 'paused', 'finished', 'abandoned')),
    mode             TEXT    NOT NULL CHECK (mode IN ('realtime', 'manual', 'headless')),
    speed            REAL    NOT NULL,              -- drill seconds per real second
    epoch            TEXT    NOT NULL,              -- drill time at T+0
    position         TEXT    NOT NULL,              -- drill time of the last recorded change
    started_at       TEXT    NOT NULL,              -- wall clock
    updated_at       TEXT    NOT NULL,              -- wall clock
    ended_at         TEXT,                          -- wall clock, when finished or abandoned
    end_reason       TEXT    NOT NULL DEFAULT '',
    created_by       TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX drill_runs_by_incident ON drill_runs (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX drill_runs_by_status ON drill_runs (status, num);

CREATE TABLE drill_events (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT    NOT NULL REFERENCES drill_runs (id),
    seq      INTEGER NOT NULL,           -- 1, 2, ... within the run
    kind     TEXT    NOT NULL,           -- started, inject, paused, resumed, ...
    drill_at TEXT    NOT NULL,
    real_at  TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    ref      TEXT    NOT NULL DEFAULT '', -- inject, expectation or objective id
    value    TEXT    NOT NULL DEFAULT '', -- met/late/missed, P/S/M/U, a speed, ...
    text     TEXT    NOT NULL DEFAULT '',
    UNIQUE (run_id, seq)
) STRICT;

CREATE TABLE drill_hotwash (
    id           INTEGER PRIMARY KEY,
    run_id       TEXT NOT NULL REFERENCES drill_runs (id),
    kind         TEXT NOT NULL CHECK (kind IN ('strength', 'improvement')),
    text         TEXT NOT NULL,
    objective_id TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    at           TEXT NOT NULL              -- wall clock
) STRICT;
CREATE INDEX drill_hotwash_by_run ON drill_hotwash (run_id, id);

-- drill_action_items: the improvement plan. Open items are listed across
-- all drills until closed with a note.
CREATE TABLE drill_action_items (
    id           INTEGER PRIMARY KEY,
    run_id       TEXT NOT NULL REFERENCES drill_runs (id),
    text         TEXT NOT NULL,              -- the corrective action
    improvement  TEXT NOT NULL DEFAULT '',   -- the area for improvement
    objective_id TEXT NOT NULL DEFAULT '',
    capability   TEXT NOT NULL DEFAULT '',
    element      TEXT NOT NULL DEFAULT '' CHECK (element IN ('', 'planning', 'organization', 'equipment', 'training', 'exercise')),
    owner        TEXT NOT NULL,
    due          TEXT NOT NULL,              -- YYYY-MM-DD
    status       TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    closed_at    TEXT,
    closed_by    TEXT NOT NULL DEFAULT '',
    close_note   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX drill_action_items_by_status ON drill_action_items (status, due, id);
CREATE INDEX drill_action_items_by_run ON drill_action_items (run_id, id);

CREATE TRIGGER drill_events_no_update BEFORE UPDATE ON drill_events
BEGIN SELECT RAISE(ABORT, 'the drill log is append-only'); END;
CREATE TRIGGER drill_events_no_delete BEFORE DELETE ON drill_events
BEGIN SELECT RAISE(ABORT, 'the drill log is append-only'); END;
