-- Time done right (issue 4): recurrence exceptions, per-year occurrences of
-- yearly obligations, lead-time rules, and calendar feed tokens.

-- Occurrences removed from a recurring event's series (RFC 5545 EXDATE), as a
-- JSON array of the occurrences' original local starts ("2025-07-01T10:00",
-- or "2025-07-01" for an all-day series).
ALTER TABLE events ADD COLUMN exdates TEXT;

-- One occurrence of a recurring event moved or cancelled (RFC 5545
-- RECURRENCE-ID): keyed by the occurrence's original local start.
CREATE TABLE event_occurrences (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    -- the original start, local wall time in the event's zone (midnight for all-day)
    recurrence_local TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('tentative','confirmed','postponed','cancelled','held')),
    start_local TIMESTAMP NOT NULL,
    end_local TIMESTAMP,
    -- derived instants (timed series only) and the tzdata that derived them
    starts_at TIMESTAMP,
    ends_at TIMESTAMP,
    tzdata_version TEXT,
    note TEXT,
    sequence INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, recurrence_local),
    CHECK (end_local IS NULL OR end_local >= start_local)
);
CREATE INDEX event_occurrences_starts_at ON event_occurrences(starts_at);

-- A yearly obligation is tracked once per year of its programme: its dates
-- that year. Kept by the application whenever the obligation is written.
CREATE TABLE obligation_occurrences (
    obligation_id TEXT NOT NULL REFERENCES obligations(id) ON DELETE CASCADE,
    year INTEGER NOT NULL,
    earliest DATE NOT NULL,
    latest DATE NOT NULL,
    PRIMARY KEY (obligation_id, year),
    CHECK (earliest <= latest)
);
CREATE INDEX obligation_occurrences_latest ON obligation_occurrences(latest);

-- Which year's occurrence a report on a yearly obligation is about.
ALTER TABLE status_reports ADD COLUMN occurrence_year INTEGER;

-- Lead-time rules: a deadline derived from an anchor's date ("delegation
-- list 60 days before the start"). The due date is computed from the anchor,
-- so it moves when the anchor moves.
CREATE TABLE lead_times (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT REFERENCES events(id) ON DELETE CASCADE,
    obligation_id TEXT REFERENCES obligations(id) ON DELETE CASCADE,
    meeting_id TEXT REFERENCES meetings(id) ON DELETE CASCADE,
    -- start: first day of the event, earliest date of the obligation, the meeting's date;
    -- end: last day of the event, latest date of the obligation
    anchor TEXT NOT NULL CHECK (anchor IN ('start','end')),
    days_before INTEGER NOT NULL CHECK (days_before BETWEEN 0 AND 3660),
    title TEXT NOT NULL,
    party_id TEXT REFERENCES parties(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((CASE WHEN event_id IS NULL THEN 0 ELSE 1 END)
         + (CASE WHEN obligation_id IS NULL THEN 0 ELSE 1 END)
         + (CASE WHEN meeting_id IS NULL THEN 0 ELSE 1 END) = 1)
);
CREATE INDEX lead_times_event ON lead_times(event_id);
CREATE INDEX lead_times_obligation ON lead_times(obligation_id);
CREATE INDEX lead_times_meeting ON lead_times(meeting_id);

-- Secret calendar feed URLs (/calendar/<token>.ics), one scope each; the
-- token is stored as its SHA-256 only.
CREATE TABLE calendar_feeds (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    organisation_id TEXT REFERENCES organisations(id) ON DELETE CASCADE,
    contact_id TEXT REFERENCES contacts(id) ON DELETE CASCADE,
    programme_id TEXT REFERENCES programmes(id) ON DELETE CASCADE,
    party_id TEXT REFERENCES parties(id) ON DELETE CASCADE,
    language TEXT,
    label TEXT,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    CHECK ((CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END)
         + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END)
         + (CASE WHEN programme_id IS NULL THEN 0 ELSE 1 END)
         + (CASE WHEN party_id IS NULL THEN 0 ELSE 1 END) = 1)
);
CREATE INDEX calendar_feeds_created_by ON calendar_feeds(created_by);

-- Feeds ask "when was the last deletion of anything they might show".
CREATE INDEX audit_log_action_entity_at ON audit_log(action, entity, at);
