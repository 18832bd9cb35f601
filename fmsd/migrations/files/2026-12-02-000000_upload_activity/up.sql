-- When a session started through a share or a link was last seen to make progress (a part
-- stored since the look before), and how many bytes its parts held then. The sweep ends such a
-- session once it went files.idle_upload_timeout_secs without progress, giving the owner's
-- quota back; the owner's own sessions live their full time.
ALTER TABLE uploads ADD COLUMN active_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE uploads SET active_at = created_at;
-- The sessions of one share or link: counted against the link's cap, ended with it.
CREATE INDEX uploads_by_grant ON uploads (grant_id, active_at);
