-- Snapshots (issue 6): a programme's roll-up and implementation table frozen
-- on a date (for a commission meeting), as JSON text. Immutable: the database
-- refuses UPDATE and DELETE, as for status reports and the audit log.
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes(id),
    -- the meeting it was taken for, if any
    meeting_id TEXT REFERENCES meetings(id),
    label TEXT,
    -- reports after this date were left out
    as_of DATE NOT NULL,
    taken_at TIMESTAMP NOT NULL,
    taken_by TEXT NOT NULL,
    -- JSON of report::rollup::Rollup and report::table::ImplementationTable
    rollup TEXT NOT NULL,
    implementation_table TEXT NOT NULL
);
CREATE INDEX snapshots_programme ON snapshots (programme_id, taken_at);

CREATE TRIGGER snapshots_append_only BEFORE UPDATE OR DELETE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION accord_append_only();
