DROP INDEX uploads_by_grant;
DROP INDEX uploads_by_activity;
ALTER TABLE uploads DROP COLUMN stored_bytes_seen;
ALTER TABLE uploads DROP COLUMN active_at;
