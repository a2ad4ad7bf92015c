-- The item list filtered by programme and lifecycle (the secretariat's
-- "what is in progress in this programme"), and its total: one index range
-- in list order. Without it both backends read every item of that lifecycle
-- in the whole database (18,920 at full scale) to find a programme's few.
CREATE INDEX IF NOT EXISTS obligations_programme_lifecycle ON obligations (programme_id, lifecycle, position, id);

-- An item's status reads each of its reports: from this index alone, where
-- one item's reports lie together, instead of one table page per report (the
-- table keeps them in the order they were written). It has the columns of
-- status_reports_current first, so it replaces it.
CREATE INDEX IF NOT EXISTS status_reports_assessment ON status_reports (obligation_id, party_id, as_of, reported_at, lifecycle, completion, occurrence_year);
DROP INDEX IF EXISTS status_reports_current;

-- An item's assignments, with their party, from the index alone.
CREATE INDEX IF NOT EXISTS assignments_obligation ON assignments (obligation_id, organisation_id, role, party_id);
