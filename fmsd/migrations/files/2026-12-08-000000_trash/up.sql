-- The trash. A delete moves an entry (a folder with everything in it) out of `nodes` into
-- `trashed_nodes`, under one row of `trash` that names what was deleted, from where, when and
-- by whom. Nothing that reads `nodes` (look-ups, listings, WebDAV, sync, shares, links) can see
-- a trashed entry, and the path it left is free at once. A restore puts the rows back (with
-- their ids); a purge deletes them and records their blobs as garbage.
--
-- Trashed bytes still count against the quota: `owner_usage` keeps them apart from the tree's
-- (`trash_bytes`, `n_trashed` items), kept by triggers on `trash` in the transaction of every
-- change, as the tree's own counts are kept by the triggers on `nodes`. A `trash` row's `size`
-- is the bytes of its files, written once with its rows and never changed.
CREATE TABLE trash (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size BIGINT NOT NULL CHECK (size >= 0),
    n_files BIGINT NOT NULL,
    n_folders BIGINT NOT NULL,
    trashed_at BIGINT NOT NULL,
    trashed_by TEXT NOT NULL
);
-- An owner's trash, newest first (ids are UUIDv7, made when the entry was trashed).
CREATE INDEX trash_by_owner ON trash (owner_id, id);
-- The retention sweep.
CREATE INDEX trash_by_age ON trash (trashed_at);

-- The rows of `nodes` a trashed entry took with it, as they were (path, parent and name where
-- they were deleted from).
CREATE TABLE trashed_nodes (
    id TEXT PRIMARY KEY NOT NULL,
    trash_id TEXT NOT NULL REFERENCES trash (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    path TEXT NOT NULL,
    parent TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT,
    blob_key TEXT,
    modified_at BIGINT NOT NULL
);
CREATE INDEX trashed_nodes_by_item ON trashed_nodes (trash_id);

ALTER TABLE owner_usage ADD COLUMN trash_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE owner_usage ADD COLUMN n_trashed BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER owner_usage_trash_insert AFTER INSERT ON trash
BEGIN
    INSERT INTO owner_usage (owner_id, trash_bytes, n_trashed)
    VALUES (NEW.owner_id, NEW.size, 1)
    ON CONFLICT (owner_id) DO UPDATE SET
        trash_bytes = trash_bytes + excluded.trash_bytes,
        n_trashed = n_trashed + 1;
END;

CREATE TRIGGER owner_usage_trash_delete AFTER DELETE ON trash
BEGIN
    UPDATE owner_usage SET
        trash_bytes = trash_bytes - OLD.size,
        n_trashed = n_trashed - 1
    WHERE owner_id = OLD.owner_id;
END;
