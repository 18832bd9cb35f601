-- The trash, as in migrations/files (SQLite): `trash` names each deleted entry, `trashed_nodes`
-- holds the rows of `nodes` it took with it, and `owner_usage` counts the trashed bytes apart
-- from the tree's, kept by a trigger on `trash` in the transaction of every change.
CREATE TABLE trash (
    id TEXT COLLATE "C" PRIMARY KEY,
    owner_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size BIGINT NOT NULL CHECK (size >= 0),
    n_files BIGINT NOT NULL,
    n_folders BIGINT NOT NULL,
    trashed_at BIGINT NOT NULL,
    trashed_by TEXT NOT NULL
);
-- An owner's trash, newest first (ids are UUIDv7, made when the entry was trashed; "C" keeps
-- their order bytewise).
CREATE INDEX trash_by_owner ON trash (owner_id, id);
-- The retention sweep.
CREATE INDEX trash_by_age ON trash (trashed_at);

CREATE TABLE trashed_nodes (
    id TEXT PRIMARY KEY,
    trash_id TEXT COLLATE "C" NOT NULL REFERENCES trash (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size BIGINT NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256 TEXT,
    blob_key TEXT,
    modified_at BIGINT NOT NULL
);
CREATE INDEX trashed_nodes_by_item ON trashed_nodes (trash_id);

ALTER TABLE owner_usage ADD COLUMN trash_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE owner_usage ADD COLUMN n_trashed BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION owner_usage_trash_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE owner_usage SET
            trash_bytes = trash_bytes - OLD.size,
            n_trashed = n_trashed - 1
        WHERE owner_id = OLD.owner_id;
    ELSE
        INSERT INTO owner_usage AS usage (owner_id, trash_bytes, n_trashed)
        VALUES (NEW.owner_id, NEW.size, 1)
        ON CONFLICT (owner_id) DO UPDATE SET
            trash_bytes = usage.trash_bytes + excluded.trash_bytes,
            n_trashed = usage.n_trashed + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER owner_usage_trash AFTER INSERT OR DELETE ON trash
FOR EACH ROW EXECUTE FUNCTION owner_usage_trash_change();
