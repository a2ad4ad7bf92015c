DROP INDEX IF EXISTS audit_log_at_id;
DROP INDEX IF EXISTS notifications_send_after;
DROP INDEX IF EXISTS events_list_order;
