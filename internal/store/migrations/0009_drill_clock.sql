-- 0009: the drill clock lives in the database, and what the after-action
-- report needs.
--
-- A drill's clock is stored with its run, so every process (the app, the
-- console, the CLI, the delivery worker, irtui serve) reads the same
-- drill time and stamps a drill incident's actions, notices and deadlines
-- with it: it reads clock_base at the wall-clock time clock_anchor and,
-- while clock_running, moves speed drill seconds per second from there,
-- never past clock_limit (an inject-by-inject drill waits there for its
-- facilitator). A run recorded before has an empty clock_base: its clock
-- stands at its position, as of its updated_at (the rows are left as they
-- are, so the record's hashes of them still hold).
ALTER TABLE drill_runs ADD COLUMN clock_base TEXT NOT NULL DEFAULT '';
ALTER TABLE drill_runs ADD COLUMN clock_anchor TEXT NOT NULL DEFAULT '';
ALTER TABLE drill_runs ADD COLUMN clock_running INTEGER NOT NULL DEFAULT 0;
ALTER TABLE drill_runs ADD COLUMN clock_limit TEXT;

-- drill_heartbeats: when a process driving a run's clock last said it was
-- alive (every few seconds): a running drill whose driver is gone resumes
-- where its clock stood then. Liveness, not the record: the audit chain
-- leaves it out.
CREATE TABLE drill_heartbeats (
    run_id  TEXT NOT NULL PRIMARY KEY REFERENCES drill_runs (id),
    seen_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- A scenario's modules may each have their own drill incident (a stolen
-- laptop, then a phishing click, then ransomware): the run's incident
-- stays in drill_runs.incident_id, the others are here, by module.
CREATE TABLE drill_incidents (
    run_id      TEXT NOT NULL REFERENCES drill_runs (id),
    module      TEXT NOT NULL,
    incident_id TEXT NOT NULL UNIQUE REFERENCES incidents (id),
    PRIMARY KEY (run_id, module)
) STRICT;

-- The after-action report (HSEEP AAR/IP): an observation is a strength or
-- an area for improvement (drill_events.data holds what the log's other
-- columns do not); an area for improvement from the hot wash has its root
-- cause and the observations it rests on; an improvement-plan item has
-- the organisation responsible and a start date; participants give
-- feedback.
ALTER TABLE drill_events ADD COLUMN data TEXT NOT NULL DEFAULT '';
ALTER TABLE drill_hotwash ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';
ALTER TABLE drill_hotwash ADD COLUMN observations TEXT NOT NULL DEFAULT '[]'; -- the run's observations, 1 first
ALTER TABLE drill_action_items ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
ALTER TABLE drill_action_items ADD COLUMN start TEXT NOT NULL DEFAULT ''; -- YYYY-MM-DD

CREATE TABLE drill_feedback (
    id      INTEGER PRIMARY KEY,
    run_id  TEXT    NOT NULL REFERENCES drill_runs (id),
    person  TEXT    NOT NULL,              -- who gave it (a claim, in a drill)
    role    TEXT    NOT NULL DEFAULT '',
    rating  INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5), -- 0: none given
    text    TEXT    NOT NULL,
    at      TEXT    NOT NULL               -- wall clock
) STRICT;
CREATE INDEX drill_feedback_by_run ON drill_feedback (run_id, id);
