ALTER TABLE obligations DROP COLUMN search_text;
DROP INDEX IF EXISTS obligations_programme_position_id;
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE user_bodies;
DROP TABLE users;
