DROP INDEX uploads_by_grant;
ALTER TABLE uploads DROP COLUMN stored_bytes;
ALTER TABLE uploads DROP COLUMN active_at;
