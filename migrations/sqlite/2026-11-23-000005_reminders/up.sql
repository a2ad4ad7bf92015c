-- Reminders (issue 5): policies, and the outbox of notifications that the
-- planner fills and the worker drains.

-- How and when to remind: the global policy (programme_id NULL) and
-- per-programme ones that replace it.
CREATE TABLE reminder_policies (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT UNIQUE REFERENCES programmes(id) ON DELETE CASCADE,
    -- JSON array of whole days before the due date, e.g. [30, 7, 1, 0]
    offsets TEXT NOT NULL,
    -- which dated fields are reminded of: JSON array of
    -- obligation_due, obligation_earliest, event_start, lead_time, agreement_notice, meeting
    fields TEXT NOT NULL,
    -- overdue items: remind again every N days (0: never again)
    overdue_every_days INTEGER NOT NULL CHECK (overdue_every_days >= 0),
    -- escalation chain: deputies after N days overdue, the secretariat after M
    deputies_after_days INTEGER NOT NULL CHECK (deputies_after_days >= 0),
    secretariat_after_days INTEGER NOT NULL CHECK (secretariat_after_days >= 0),
    -- local hour (0-23) in the recipient's zone at which reminders go out
    send_hour INTEGER NOT NULL CHECK (send_hour BETWEEN 0 AND 23),
    skip_weekends BOOLEAN NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The outbox: one email to one recipient about one thing (or a digest of
-- several). Rows move pending -> sending (leased) -> sent / retry / failed /
-- dead; cancelled when their item changed before they were sent.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    -- policy x item x occurrence x offset x recipient: written once, whoever plans
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('reminder','overdue','escalation','digest','event_invitation','event_change','event_cancellation')),
    contact_id TEXT REFERENCES contacts(id) ON DELETE SET NULL,
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    programme_id TEXT REFERENCES programmes(id) ON DELETE CASCADE,
    -- what it is about: obligation, event, lead_time, agreement, meeting (NULL for a digest)
    item_kind TEXT,
    item_id TEXT,
    -- the occurrence (a year of a yearly item, a recurrence id) or ''
    occurrence TEXT NOT NULL DEFAULT '',
    due_on DATE,
    -- days before the due date (negative: overdue by)
    offset_days INTEGER,
    -- what the template needs, as JSON, fixed when queued
    payload TEXT NOT NULL,
    -- earliest instant (UTC) to send
    send_after TIMESTAMP NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','sending','sent','retry','failed','dead','cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    claimed_by TEXT,
    last_error TEXT,
    -- fixed when queued, the same on every retry
    message_id TEXT NOT NULL UNIQUE,
    -- a row gathered into a digest points at the digest's row
    digest_id TEXT REFERENCES notifications(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
-- The worker's claim: due rows by state and time.
CREATE INDEX notifications_claim ON notifications(state, send_after);
-- Re-planning an item cancels its pending rows.
CREATE INDEX notifications_item ON notifications(item_kind, item_id, state);
CREATE INDEX notifications_contact ON notifications(contact_id);
CREATE INDEX notifications_digest ON notifications(digest_id);

-- The contacts who form a body's secretariat: where escalations go.
CREATE TABLE body_secretariats (
    body_id TEXT NOT NULL REFERENCES bodies(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (body_id, contact_id)
);
CREATE INDEX body_secretariats_contact ON body_secretariats(contact_id);

-- The planner selects items whose reminders fall in a window by their dates:
-- "prepare" reminders count from the earliest date.
CREATE INDEX obligations_earliest ON obligations(earliest);
CREATE INDEX obligation_occurrences_earliest ON obligation_occurrences(earliest);
