-- The files service's database on PostgreSQL: the same tables as migrations/files (SQLite),
-- in PostgreSQL types. Ids are UUIDs as text and times are microseconds since the Unix epoch
-- (bigint), exactly as the SQLite adapter keeps them, so both return equal entries.
--
-- Paths and names are COLLATE "C": comparisons and ORDER BY are bytewise, as SQLite's BINARY,
-- which keyset pagination (name > cursor) and subtree range scans (path >= '/a/' AND
-- path < '/a0') rely on.
--
-- The version differs from every other service's PostgreSQL migration, so services that share
-- a database do not take each other's migration for their own.

CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    envelope TEXT NOT NULL
);
-- Notifications keeps its processed events in a table of the same shape, each service under
-- its own consumer names: the two may share a database.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Files and folders. The root '/' is implicit; every other entry's parent exists.
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size BIGINT NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256 TEXT,
    blob_key TEXT,
    modified_at BIGINT NOT NULL,
    CONSTRAINT nodes_path_unique UNIQUE (owner_id, path)
);
-- Keyset pagination of a folder by name, in byte order.
CREATE UNIQUE INDEX nodes_by_parent ON nodes (owner_id, parent, name);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL CHECK (size >= 0),
    sha256 TEXT,
    overwrite TEXT NOT NULL CHECK (overwrite IN ('fail', 'replace')),
    part_size BIGINT NOT NULL CHECK (part_size > 0),
    blob_key TEXT NOT NULL,
    staging_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, path);
CREATE INDEX uploads_by_expiry ON uploads (expires_at);

-- Blobs to delete and stagings to abort, recorded with the change that made them garbage.
CREATE TABLE garbage (
    id BIGSERIAL PRIMARY KEY,
    blob_key TEXT NOT NULL,
    staging_id TEXT
);

-- Owners whose account was deleted: their still-valid access tokens are refused.
CREATE TABLE deleted_owners (
    owner_id TEXT PRIMARY KEY,
    deleted_at BIGINT NOT NULL
);
