-- When a refresh token was used: presented again within seconds of that (a client racing its
-- own other process), it is rotated again instead of counting as theft.
ALTER TABLE refresh_tokens ADD COLUMN used_at BIGINT;
