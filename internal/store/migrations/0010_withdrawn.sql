-- 0010: drafts that no longer apply are withdrawn, not deleted.
--
-- After a re-assessment a notice's obligation or rule may no longer hold,
-- and a customer may be unlinked from an incident: its draft is then
-- "withdrawn", with the reason, and kept (the timeline says why). SQLite
-- cannot change a CHECK constraint in place, so the outbox is copied into a
-- new table with the wider status list, keeping every id and every value
-- (so the record's row hashes still hold).

CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    incident_id      TEXT    REFERENCES incidents (id), -- NULL: a notice about the record itself
    rule_id          TEXT    NOT NULL,
    trigger_name     TEXT    NOT NULL,
    audience         TEXT    NOT NULL CHECK (audience IN ('stakeholders', 'customers', 'regulator', 'internal')),
    dest_kind        TEXT    NOT NULL CHECK (dest_kind IN ('slack', 'email', 'file', 'console')),
    channel          TEXT    NOT NULL DEFAULT '',
    recipient        TEXT    NOT NULL DEFAULT '',
    customer_id      TEXT    REFERENCES customers (id),
    language         TEXT    NOT NULL DEFAULT 'en',
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    blocks           TEXT    NOT NULL DEFAULT '[]',  -- Slack Block Kit JSON of the first (or only) message
    more_blocks      TEXT    NOT NULL DEFAULT '[]',  -- JSON list: the blocks of each further part, in order
    template         TEXT    NOT NULL DEFAULT '{}',
    fields           TEXT    NOT NULL DEFAULT '[]',
    content          TEXT    NOT NULL DEFAULT '{}',
    content_by       TEXT    NOT NULL DEFAULT '{}',
    obligation_id    TEXT    NOT NULL DEFAULT '',
    due_at           TEXT,
    approver_role    TEXT    NOT NULL DEFAULT '',
    -- exported: written to files for a person to deliver; not delivered.
    -- withdrawn: a draft that no longer applies (its customer is no longer
    -- affected, its obligation or rule no longer holds); never sent.
    status           TEXT    NOT NULL CHECK (status IN ('draft', 'approved', 'queued', 'sending', 'sent', 'exported',
                                                        'failed', 'unknown', 'withdrawn')),
    via              TEXT    NOT NULL DEFAULT '',    -- slack, webhook, mail, console, file
    attempts         INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    next_attempt_at  TEXT,
    claimed_by       TEXT    NOT NULL DEFAULT '',
    claimed_at       TEXT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    thread_ts        TEXT    NOT NULL DEFAULT '',
    slack_ts         TEXT    NOT NULL DEFAULT '',    -- the first part's Slack timestamp
    parts_sent       INTEGER NOT NULL DEFAULT 0,     -- Slack parts posted so far
    part_ts          TEXT    NOT NULL DEFAULT '[]',  -- JSON list: timestamps of parts 2, 3, ...
    uncertain_at     TEXT,                           -- the first attempt at the part in flight that may have arrived
    verify_at        TEXT,                           -- when to look for a second copy of a re-posted part
    duplicate_ts     TEXT    NOT NULL DEFAULT '',    -- a second copy that could not be deleted
    message_id       TEXT    NOT NULL DEFAULT '',    -- the Message-ID of mail
    confirmed_by     TEXT    NOT NULL DEFAULT '',    -- the person who recorded its delivery
    export_path      TEXT    NOT NULL DEFAULT '',
    drafted_by       TEXT    NOT NULL,
    approved_by      TEXT    NOT NULL DEFAULT '',
    approved_at      TEXT,
    triggered_at     TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    sent_at          TEXT,
    drill            INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1))
) STRICT;
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_incident ON outbox (incident_id, id);
CREATE INDEX outbox_by_status ON outbox (status, next_attempt_at);
CREATE INDEX outbox_to_verify ON outbox (verify_at) WHERE verify_at IS NOT NULL;
