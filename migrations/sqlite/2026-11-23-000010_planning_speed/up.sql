-- The planner's candidates (store::reminders::open_obligations): open items due
-- by the window's end, or starting in it. Led by lifecycle, the scan covers the
-- open items in the date range only, not the completed ones of past years nor
-- every open one in the future: its cost follows what is due.
CREATE INDEX obligations_lifecycle_latest ON obligations(lifecycle, latest);
CREATE INDEX obligations_lifecycle_earliest ON obligations(lifecycle, earliest);
