-- The domain model of DESIGN.md section 2. Ids are UUIDs as text, instants are
-- UTC TIMESTAMPs, dates are DATEs, enums are text with CHECKs, JSON is text
-- (multilingual text is one JSON object: {"en": "...", "ru": "..."}).
-- migrations/postgres holds the same schema in PostgreSQL's dialect.

CREATE TABLE parties (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    parent_id TEXT REFERENCES parties(id),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX parties_parent ON parties(parent_id);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    party_id TEXT NOT NULL REFERENCES parties(id),
    parent_id TEXT REFERENCES organisations(id),
    kind TEXT NOT NULL CHECK (kind IN ('ministry','department','agency','theatre','museum','library','film_studio','university','concert_agency','embassy','cultural_centre','other')),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    email TEXT,
    website TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_party ON organisations(party_id);
CREATE INDEX organisations_parent ON organisations(parent_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    language TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('focal_point','deputy','secretariat','other')),
    notifications TEXT NOT NULL CHECK (notifications IN ('immediate','daily_digest','weekly_digest')),
    active BOOLEAN NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, email)
);
CREATE INDEX contacts_email ON contacts(email);

CREATE TABLE agreements (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('agreement','treaty','memorandum','protocol','roadmap')),
    level TEXT NOT NULL CHECK (level IN ('intergovernmental','interministerial','regional','municipal','institutional')),
    title TEXT NOT NULL,
    signed_kind TEXT,
    signed_text TEXT,
    signed_earliest DATE,
    signed_latest DATE,
    place TEXT,
    in_force_on DATE,
    term_months INTEGER CHECK (term_months > 0),
    renewal_months INTEGER CHECK (renewal_months > 0),
    notice_months INTEGER CHECK (notice_months >= 0),
    valid_until DATE,
    source TEXT,
    note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((signed_kind IS NULL AND signed_earliest IS NULL) OR signed_kind IS NOT NULL)
);
CREATE INDEX agreements_signed ON agreements(signed_earliest);

CREATE TABLE agreement_parties (
    agreement_id TEXT NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    party_id TEXT NOT NULL REFERENCES parties(id),
    PRIMARY KEY (agreement_id, party_id)
);
CREATE INDEX agreement_parties_party ON agreement_parties(party_id);

CREATE TABLE agreement_signatories (
    agreement_id TEXT NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (agreement_id, organisation_id)
);

CREATE TABLE bodies (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('commission','sub_commission','working_group','board')),
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES bodies(id),
    agreement_id TEXT REFERENCES agreements(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE body_parties (
    body_id TEXT NOT NULL REFERENCES bodies(id) ON DELETE CASCADE,
    party_id TEXT NOT NULL REFERENCES parties(id),
    co_chair TEXT,
    PRIMARY KEY (body_id, party_id)
);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    body_id TEXT NOT NULL REFERENCES bodies(id),
    number INTEGER NOT NULL CHECK (number > 0),
    title TEXT NOT NULL,
    held_on DATE NOT NULL,
    start_local TIMESTAMP,
    time_zone TEXT NOT NULL,
    starts_at TIMESTAMP,
    tzdata_version TEXT,
    city TEXT,
    status TEXT NOT NULL CHECK (status IN ('planned','held','postponed','cancelled')),
    source TEXT,
    note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (body_id, number),
    CHECK ((start_local IS NULL) = (starts_at IS NULL))
);
CREATE INDEX meetings_held_on ON meetings(held_on);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('create','amend','postpone','cancel','supersede','close','note')),
    text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (meeting_id, number)
);

CREATE TABLE programmes (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    agreement_id TEXT REFERENCES agreements(id),
    body_id TEXT REFERENCES bodies(id),
    period_text TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    public BOOLEAN NOT NULL DEFAULT 0,
    illustrative BOOLEAN NOT NULL DEFAULT 0,
    source TEXT,
    note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (period_start <= period_end)
);
CREATE INDEX programmes_agreement ON programmes(agreement_id);
CREATE INDEX programmes_body ON programmes(body_id);

CREATE TABLE programme_parties (
    programme_id TEXT NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    party_id TEXT NOT NULL REFERENCES parties(id),
    PRIMARY KEY (programme_id, party_id)
);
CREATE INDEX programme_parties_party ON programme_parties(party_id);

CREATE TABLE programme_signatories (
    programme_id TEXT NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (programme_id, organisation_id)
);

CREATE TABLE sections (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    position INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (programme_id, code)
);

CREATE TABLE obligations (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT REFERENCES programmes(id),
    section_id TEXT REFERENCES sections(id),
    meeting_id TEXT REFERENCES meetings(id),
    decision_id TEXT REFERENCES decisions(id),
    number TEXT NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('days_of_culture','tour','festival','exhibition','film_week','exchange_of_delegations','information_exchange','consultation','concert','conference','training','co_production','publication','other')),
    firmness TEXT NOT NULL CHECK (firmness IN ('binding','best_effort','to_be_agreed')),
    quantities TEXT,
    cost_terms TEXT,
    timeframe_kind TEXT NOT NULL CHECK (timeframe_kind IN ('date','month','quarter','year','range','programme_period','to_be_agreed')),
    timeframe_text TEXT NOT NULL,
    earliest DATE,
    latest DATE,
    recurrence TEXT CHECK (recurrence IN ('yearly')),
    lifecycle TEXT NOT NULL CHECK (lifecycle IN ('planned','scheduled','in_progress','completed','postponed','suspended','cancelled','superseded')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- an obligation is an item of a programme or of a meeting's protocol, never both
    CHECK ((programme_id IS NULL) <> (meeting_id IS NULL)),
    CHECK ((timeframe_kind = 'to_be_agreed' AND earliest IS NULL AND latest IS NULL)
        OR (timeframe_kind <> 'to_be_agreed' AND earliest IS NOT NULL AND latest IS NOT NULL AND earliest <= latest)),
    UNIQUE (programme_id, number),
    UNIQUE (meeting_id, number)
);
CREATE INDEX obligations_programme_order ON obligations(programme_id, position);
CREATE INDEX obligations_section ON obligations(section_id);
CREATE INDEX obligations_meeting ON obligations(meeting_id);
CREATE INDEX obligations_latest ON obligations(latest);
CREATE INDEX obligations_lifecycle ON obligations(lifecycle);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    obligation_id TEXT NOT NULL REFERENCES obligations(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    party_id TEXT NOT NULL REFERENCES parties(id),
    role TEXT NOT NULL CHECK (role IN ('lead','co_executor','sending','hosting','funding')),
    UNIQUE (obligation_id, organisation_id, role)
);
CREATE INDEX assignments_organisation ON assignments(organisation_id);
CREATE INDEX assignments_party ON assignments(party_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT UNIQUE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('days_of_culture','tour','premiere','exhibition','festival','concert','film_week','forum','opening','meeting','conference','other')),
    status TEXT NOT NULL CHECK (status IN ('tentative','confirmed','postponed','cancelled','held')),
    -- how precisely it is known: 'approximate' (a month or year), 'all_day' (dates), 'timed' (wall time + zone)
    schedule TEXT NOT NULL CHECK (schedule IN ('approximate','all_day','timed')),
    timeframe_kind TEXT NOT NULL CHECK (timeframe_kind IN ('date','month','quarter','year','range','programme_period','to_be_agreed')),
    timeframe_text TEXT NOT NULL,
    earliest DATE,
    latest DATE,
    start_local TIMESTAMP,
    end_local TIMESTAMP,
    time_zone TEXT,
    starts_at TIMESTAMP,
    ends_at TIMESTAMP,
    tzdata_version TEXT,
    recurrence TEXT,
    host_party_id TEXT REFERENCES parties(id),
    guest_party_id TEXT REFERENCES parties(id),
    city TEXT,
    venue TEXT,
    source TEXT,
    note TEXT,
    sequence INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (schedule <> 'timed' OR (start_local IS NOT NULL AND time_zone IS NOT NULL AND starts_at IS NOT NULL AND tzdata_version IS NOT NULL)),
    CHECK (end_local IS NULL OR end_local >= start_local),
    CHECK (earliest IS NULL OR latest IS NULL OR earliest <= latest)
);
CREATE INDEX events_starts_at ON events(starts_at);
CREATE INDEX events_dates ON events(earliest, latest);
CREATE INDEX events_host ON events(host_party_id);
CREATE INDEX events_guest ON events(guest_party_id);
CREATE INDEX events_status ON events(status);

CREATE TABLE event_organisations (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    role TEXT NOT NULL CHECK (role IN ('organiser','participant')),
    PRIMARY KEY (event_id, organisation_id)
);
CREATE INDEX event_organisations_organisation ON event_organisations(organisation_id);

CREATE TABLE event_obligations (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    obligation_id TEXT NOT NULL REFERENCES obligations(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, obligation_id)
);
CREATE INDEX event_obligations_obligation ON event_obligations(obligation_id);

CREATE TABLE status_reports (
    id TEXT PRIMARY KEY NOT NULL,
    obligation_id TEXT NOT NULL REFERENCES obligations(id),
    party_id TEXT NOT NULL REFERENCES parties(id),
    lifecycle TEXT NOT NULL CHECK (lifecycle IN ('planned','scheduled','in_progress','completed','postponed','suspended','cancelled','superseded')),
    completion TEXT NOT NULL CHECK (completion IN ('no_evidence','not_started','limited','substantial','complete')),
    narrative TEXT,
    as_of DATE NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    reporter TEXT NOT NULL,
    decision_id TEXT REFERENCES decisions(id)
);
CREATE INDEX status_reports_current ON status_reports(obligation_id, party_id, as_of, reported_at);
CREATE INDEX status_reports_as_of ON status_reports(as_of);

CREATE TABLE evidence (
    id TEXT PRIMARY KEY NOT NULL,
    status_report_id TEXT NOT NULL REFERENCES status_reports(id),
    kind TEXT NOT NULL CHECK (kind IN ('official_letter','protocol','press_release','poster','photo','url','file')),
    description TEXT,
    url TEXT,
    sha256 TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX evidence_report ON evidence(status_report_id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create','update','delete')),
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT,
    after TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor);

-- Status reports, their evidence and the audit log are append-only: history
-- ("the status on the day of the last meeting") depends on it.
CREATE TRIGGER status_reports_append_only_update BEFORE UPDATE ON status_reports
BEGIN SELECT RAISE(ABORT, 'status_reports is append-only'); END;
CREATE TRIGGER status_reports_append_only_delete BEFORE DELETE ON status_reports
BEGIN SELECT RAISE(ABORT, 'status_reports is append-only'); END;
CREATE TRIGGER evidence_append_only_update BEFORE UPDATE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_append_only_delete BEFORE DELETE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
