DROP INDEX IF EXISTS assignments_obligation;
CREATE INDEX IF NOT EXISTS status_reports_current ON status_reports (obligation_id, party_id, as_of, reported_at);
DROP INDEX IF EXISTS status_reports_assessment;
DROP INDEX IF EXISTS obligations_programme_lifecycle;
