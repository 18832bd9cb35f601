-- App tokens: long-lived secrets for scripts and WebDAV clients, stored only as a SHA-256 hash.
-- Gone with their customer; deleted on a password change.
CREATE TABLE app_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX app_tokens_by_customer ON app_tokens (customer_id);
