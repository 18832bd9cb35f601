-- The files service's database: the tree, the upload sessions, blob clean-up left to do,
-- deleted owners, and the outbox + processed-event tables every service database has.

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    envelope TEXT NOT NULL
);
CREATE TABLE processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Files and folders. The root '/' is implicit; every other entry's parent exists.
-- Times are microseconds since the Unix epoch.
CREATE TABLE nodes (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    path TEXT NOT NULL,
    parent TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT,
    blob_key TEXT,
    modified_at BIGINT NOT NULL,
    UNIQUE (owner_id, path)
);
-- Keyset pagination of a folder by name, in byte order (BINARY collation).
CREATE UNIQUE INDEX nodes_by_parent ON nodes (owner_id, parent, name);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT,
    overwrite TEXT NOT NULL CHECK (overwrite IN ('fail', 'replace')),
    part_size BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    staging_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, path);
CREATE INDEX uploads_by_expiry ON uploads (expires_at);

-- Blobs to delete and stagings to abort, recorded with the change that made them garbage.
CREATE TABLE garbage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    blob_key TEXT NOT NULL,
    staging_id TEXT
);

-- Owners whose account was deleted: their still-valid access tokens are refused.
CREATE TABLE deleted_owners (
    owner_id TEXT PRIMARY KEY NOT NULL,
    deleted_at BIGINT NOT NULL
);
