-- 0001: the first irtui schema.
--
-- Times are TEXT in UTC, RFC 3339 with nine fractional digits
-- (2006-01-02T15:04:05.000000000Z), so they sort as strings.
-- JSON columns hold text written by encoding/json.

-- irtui_meta marks the file as irtui's (besides PRAGMA application_id).
CREATE TABLE irtui_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO irtui_meta (key, value) VALUES ('application', 'irtui');

-- incidents holds incidents and assessed-and-dismissed events (kind = 'event',
-- recorded closed with the reason they were dismissed).
CREATE TABLE incidents (
    num              INTEGER PRIMARY KEY,          -- the number in the id
    id               TEXT    NOT NULL UNIQUE,      -- INC-0001
    kind             TEXT    NOT NULL CHECK (kind IN ('incident', 'event')),
    status           TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    runbook_id       TEXT    NOT NULL,
    runbook_version  TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    summary          TEXT    NOT NULL DEFAULT '',
    category         TEXT    NOT NULL DEFAULT '',
    attack_vector    TEXT    NOT NULL DEFAULT '',
    severity         TEXT    NOT NULL CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    flags            TEXT    NOT NULL DEFAULT '[]',  -- JSON array of flag names
    answers          TEXT    NOT NULL DEFAULT '{}',  -- JSON object: question id -> answer
    facts            TEXT    NOT NULL DEFAULT '{}',  -- JSON object: fact -> number
    rationale        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of lines
    roles            TEXT    NOT NULL DEFAULT '[]',  -- JSON array: the runbook's role ids
    dismissed_reason TEXT    NOT NULL DEFAULT '',
    aware_at         TEXT    NOT NULL,
    declared_at      TEXT    NOT NULL,
    closed_at        TEXT,
    updated_at       TEXT    NOT NULL,
    drill            INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1)),
    created_by       TEXT    NOT NULL
) STRICT;
-- Lists walk one of these backwards in num order and stop after LIMIT rows.
CREATE INDEX incidents_by_status ON incidents (status, num);
CREATE INDEX incidents_by_drill ON incidents (drill, num);

-- customers are the tenants whose data an incident may affect.
CREATE TABLE customers (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    language     TEXT NOT NULL DEFAULT 'en',
    region       TEXT NOT NULL DEFAULT '',
    contact_kind TEXT NOT NULL CHECK (contact_kind IN ('slack', 'email')),
    contact      TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

CREATE TABLE incident_customers (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    added_at    TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    PRIMARY KEY (incident_id, customer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX incident_customers_by_customer ON incident_customers (customer_id);

-- people are the responders who may hold roles.
CREATE TABLE people (
    id            TEXT PRIMARY KEY,           -- handle; the name used with --as
    name          TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    slack_user_id TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT '[]', -- JSON array: roles they may hold
    updated_at    TEXT NOT NULL
) STRICT;

-- role_assignments keeps every assignment; the current holder of a role is
-- the one row with ended_at IS NULL.
CREATE TABLE role_assignments (
    id              INTEGER PRIMARY KEY,
    incident_id     TEXT NOT NULL REFERENCES incidents (id),
    role            TEXT NOT NULL,
    person_id       TEXT NOT NULL REFERENCES people (id),
    assigned_at     TEXT NOT NULL,
    assigned_by     TEXT NOT NULL,
    acknowledged_at TEXT,
    ended_at        TEXT,
    handed_over_to  TEXT
) STRICT;
CREATE INDEX role_assignments_by_incident ON role_assignments (incident_id, role, id);
CREATE UNIQUE INDEX role_assignments_current ON role_assignments (incident_id, role)
    WHERE ended_at IS NULL;

-- step_state holds the incident's checklist: the runbook steps that apply,
-- copied at declaration, and what became of each.
CREATE TABLE step_state (
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    step_id     TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    phase       TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL DEFAULT '',
    role        TEXT    NOT NULL DEFAULT '',
    required    INTEGER NOT NULL DEFAULT 1 CHECK (required IN (0, 1)),
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'skipped')),
    note        TEXT    NOT NULL DEFAULT '', -- completion note or skip reason
    actor       TEXT    NOT NULL DEFAULT '',
    at          TEXT,
    PRIMARY KEY (incident_id, step_id)
) STRICT, WITHOUT ROWID;

-- obligation_events: submissions and pauses of regulatory clocks. Later
-- clocks start from earlier submissions, so they are kept as events.
CREATE TABLE obligation_events (
    id            INTEGER PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    obligation_id TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('submitted', 'pause_start', 'pause_end')),
    at            TEXT NOT NULL, -- when it happened (may be earlier than recorded_at)
    actor         TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    recorded_at   TEXT NOT NULL
) STRICT;
CREATE INDEX obligation_events_by_incident ON obligation_events (incident_id, obligation_id, id);

-- timeline: append-only, one hash chain across all incidents in id order.
CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL, -- 1, 2, ... within the incident
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    data        TEXT    NOT NULL DEFAULT '{}',
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    UNIQUE (incident_id, seq)
) STRICT;

-- audit: append-only, its own hash chain. Every action and every read of an
-- incident, whether it succeeded, was refused or failed.
CREATE TABLE audit (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    incident_id   TEXT,          -- no foreign key: refusals name ids that do not exist
    outcome       TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    detail        TEXT NOT NULL DEFAULT '',
    timeline_id   INTEGER,       -- the timeline entry written in the same transaction
    timeline_hash TEXT NOT NULL DEFAULT '',
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_incident ON audit (incident_id, id);

CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
