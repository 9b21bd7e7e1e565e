-- 0002: the notification outbox.
--
-- A notification is written here in the same transaction as the incident
-- change that triggers it (a transactional outbox), and a delivery worker
-- sends it later. Tokens and webhook URLs are never stored.

-- outbox holds every notification and where it stands.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    incident_id      TEXT    NOT NULL REFERENCES incidents (id),
    rule_id          TEXT    NOT NULL,               -- the runbook's notification rule
    trigger_name     TEXT    NOT NULL,               -- declared, flag:NAME, deadline_80, ...
    audience         TEXT    NOT NULL CHECK (audience IN ('stakeholders', 'customers', 'regulator', 'internal')),
    -- Where it should go, decided when it was written: a Slack channel
    -- (slack), a mail address (email: exported as files), a file export for
    -- a regulator (file), or the console.
    dest_kind        TEXT    NOT NULL CHECK (dest_kind IN ('slack', 'email', 'file', 'console')),
    channel          TEXT    NOT NULL DEFAULT '',    -- Slack channel or mail address
    recipient        TEXT    NOT NULL DEFAULT '',    -- for people: "#sec-incidents", "Acme (acme)"
    customer_id      TEXT    REFERENCES customers (id),
    language         TEXT    NOT NULL DEFAULT 'en',
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,               -- plain text
    blocks           TEXT    NOT NULL DEFAULT '[]',  -- Slack Block Kit JSON
    template         TEXT    NOT NULL DEFAULT '{}',  -- JSON {subject, body}: the template used
    fields           TEXT    NOT NULL DEFAULT '[]',  -- JSON: the rule's content fields
    content          TEXT    NOT NULL DEFAULT '{}',  -- JSON: field id -> value
    content_by       TEXT    NOT NULL DEFAULT '{}',  -- JSON: field id -> who filled it in
    obligation_id    TEXT    NOT NULL DEFAULT '',
    due_at           TEXT,
    approver_role    TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL CHECK (status IN ('draft', 'approved', 'queued', 'sending', 'sent', 'failed', 'unknown')),
    via              TEXT    NOT NULL DEFAULT '',    -- how it went: slack, webhook, console, file
    attempts         INTEGER NOT NULL DEFAULT 0,     -- delivery attempts, rate-limited ones included
    failures         INTEGER NOT NULL DEFAULT 0,     -- attempts that failed (not rate limits)
    last_error       TEXT    NOT NULL DEFAULT '',
    next_attempt_at  TEXT,
    claimed_by       TEXT    NOT NULL DEFAULT '',    -- the worker sending it
    claimed_at       TEXT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    thread_ts        TEXT    NOT NULL DEFAULT '',    -- the Slack thread it was posted in
    slack_ts         TEXT    NOT NULL DEFAULT '',    -- the Slack message timestamp
    export_path      TEXT    NOT NULL DEFAULT '',    -- the .md file of a file export
    drafted_by       TEXT    NOT NULL,
    approved_by      TEXT    NOT NULL DEFAULT '',
    approved_at      TEXT,
    triggered_at     TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    sent_at          TEXT,
    drill            INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1))
) STRICT;
CREATE INDEX outbox_by_incident ON outbox (incident_id, id);
CREATE INDEX outbox_by_status ON outbox (status, next_attempt_at);

-- notify_fired records each notification rule that fired for an incident,
-- so a one-off trigger (declared, flag:NAME, a deadline crossing) fires
-- once, and a customer linked later still gets the notices that were
-- drafted for the others.
CREATE TABLE notify_fired (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    rule_id      TEXT NOT NULL,
    trigger_key  TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    audience     TEXT NOT NULL,
    fired_at     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    PRIMARY KEY (incident_id, rule_id, trigger_key)
) STRICT, WITHOUT ROWID;

-- notify_channels spaces sends per channel across every worker process:
-- nothing is sent to the channel before next_at.
CREATE TABLE notify_channels (
    channel TEXT PRIMARY KEY,
    next_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
