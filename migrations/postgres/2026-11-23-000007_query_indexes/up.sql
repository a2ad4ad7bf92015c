-- Indexes for the list, feed and planner queries (issue 7): each list's
-- order, so that a page reads its rows in order and stops (checked with
-- EXPLAIN by tests/query_plans.rs).

-- GET /events: ORDER BY earliest IS NULL, earliest, id (undated last).
CREATE INDEX IF NOT EXISTS events_list_order ON events ((earliest IS NULL), earliest, id);

-- GET /notifications: ORDER BY send_after DESC, id DESC.
CREATE INDEX IF NOT EXISTS notifications_send_after ON notifications (send_after, id);

-- GET /audit: ORDER BY at DESC, id DESC, pages before (at, id).
CREATE INDEX IF NOT EXISTS audit_log_at_id ON audit_log (at, id);
