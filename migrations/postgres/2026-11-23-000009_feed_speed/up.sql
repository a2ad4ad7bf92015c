-- A change log for calendar feeds: every statement that writes a table whose
-- rows a feed shows adds one row (statement-level, from a sequence: writers
-- never wait on each other), so a feed's ETag comes from the newest rows of
-- this table instead of a render of its events. Reading the count of the last
-- 1,000 numbers as well as the highest catches a transaction that took its
-- number earlier but committed later.
CREATE SEQUENCE feed_changes_seq;
CREATE TABLE feed_changes (seq BIGINT PRIMARY KEY NOT NULL DEFAULT nextval('feed_changes_seq'));
ALTER SEQUENCE feed_changes_seq OWNED BY feed_changes.seq;

CREATE FUNCTION feed_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT;
BEGIN
    INSERT INTO feed_changes DEFAULT VALUES RETURNING seq INTO s;
    -- Keep the log short: numbers far below the window read are never needed.
    IF s % 10000 = 0 THEN
        DELETE FROM feed_changes WHERE seq < s - 100000;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER feed_changes_parties AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON parties FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_organisations AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organisations FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_contacts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contacts FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_agreements AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agreements FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_agreement_parties AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agreement_parties FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_agreement_signatories AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agreement_signatories FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_body_parties AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON body_parties FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_meetings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meetings FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_programmes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON programmes FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_obligations AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON obligations FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_assignments AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assignments FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_events AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_event_organisations AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_organisations FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_event_obligations AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_obligations FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_event_occurrences AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_occurrences FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_obligation_occurrences AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON obligation_occurrences FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
CREATE TRIGGER feed_changes_lead_times AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_times FOR EACH STATEMENT EXECUTE FUNCTION feed_changed();
