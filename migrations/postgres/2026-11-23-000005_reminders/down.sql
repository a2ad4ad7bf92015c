DROP INDEX IF EXISTS obligation_occurrences_earliest;
DROP INDEX IF EXISTS obligations_earliest;
DROP TABLE body_secretariats;
DROP TABLE notifications;
DROP TABLE reminder_policies;
