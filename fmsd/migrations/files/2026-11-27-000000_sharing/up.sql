-- Sharing: the directory of customers (a projection of customer events, since files never
-- reads the customers database), shares with customers, and public links.

-- Every registered customer, by id and by e-mail (stored lowercase, as customers keeps it).
CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

-- A file or folder (by node id, so a share follows moves) shared with a customer.
CREATE TABLE shares (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
    created_at BIGINT NOT NULL,
    UNIQUE (node_id, recipient_id)
);
CREATE INDEX shares_by_owner ON shares (owner_id);
CREATE INDEX shares_by_recipient ON shares (recipient_id);

-- Public links. The token is kept only as its SHA-256 (hex); the password as argon2id.
CREATE TABLE links (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL CHECK (mode IN ('download', 'upload')),
    password_hash TEXT,
    expires_at BIGINT NOT NULL,
    max_downloads BIGINT,
    downloads BIGINT NOT NULL DEFAULT 0,
    uploads BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expiry_warned BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX links_by_owner ON links (owner_id);
CREATE INDEX links_by_expiry ON links (expiry_warned, expires_at);

-- The share or link an upload session was started through (none: the owner's own). Only
-- that share's recipient or that link's holders may see or complete it.
ALTER TABLE uploads ADD COLUMN grant_id TEXT;
