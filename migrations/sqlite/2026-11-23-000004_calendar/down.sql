DROP INDEX audit_log_action_entity_at;
DROP TABLE calendar_feeds;
DROP TABLE lead_times;
ALTER TABLE status_reports DROP COLUMN occurrence_year;
DROP TABLE obligation_occurrences;
DROP TABLE event_occurrences;
ALTER TABLE events DROP COLUMN exdates;
