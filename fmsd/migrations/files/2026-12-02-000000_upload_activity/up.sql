-- When a session last showed life (created, resumed, looked at, or a part stored), and how many
-- bytes of it were stored then: a session idle for files.idle_upload_timeout_secs is ended.
ALTER TABLE uploads ADD COLUMN active_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN stored_bytes_seen BIGINT NOT NULL DEFAULT 0;
UPDATE uploads SET active_at = created_at;
CREATE INDEX uploads_by_activity ON uploads (active_at);
-- The sessions started through a share or a link, ended with it.
CREATE INDEX uploads_by_grant ON uploads (grant_id);
