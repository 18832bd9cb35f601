-- What each owner stores, kept by a trigger in the transaction of every change to `nodes`, as
-- in migrations/files: one row to read whatever the account holds.
CREATE TABLE owner_usage (
    owner_id TEXT PRIMARY KEY NOT NULL,
    used_bytes BIGINT NOT NULL DEFAULT 0,
    n_files BIGINT NOT NULL DEFAULT 0,
    n_folders BIGINT NOT NULL DEFAULT 0
);

INSERT INTO owner_usage (owner_id, used_bytes, n_files, n_folders)
SELECT owner_id,
       COALESCE(SUM(size) FILTER (WHERE kind = 'file'), 0),
       COUNT(*) FILTER (WHERE kind = 'file'),
       COUNT(*) FILTER (WHERE kind = 'folder')
FROM nodes GROUP BY owner_id;

CREATE FUNCTION owner_usage_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE owner_usage SET
            used_bytes = used_bytes - CASE WHEN OLD.kind = 'file' THEN OLD.size ELSE 0 END,
            n_files = n_files - CASE WHEN OLD.kind = 'file' THEN 1 ELSE 0 END,
            n_folders = n_folders - CASE WHEN OLD.kind = 'folder' THEN 1 ELSE 0 END
        WHERE owner_id = OLD.owner_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO owner_usage AS usage (owner_id, used_bytes, n_files, n_folders)
        VALUES (NEW.owner_id,
                CASE WHEN NEW.kind = 'file' THEN NEW.size ELSE 0 END,
                CASE WHEN NEW.kind = 'file' THEN 1 ELSE 0 END,
                CASE WHEN NEW.kind = 'folder' THEN 1 ELSE 0 END)
        ON CONFLICT (owner_id) DO UPDATE SET
            used_bytes = usage.used_bytes + excluded.used_bytes,
            n_files = usage.n_files + excluded.n_files,
            n_folders = usage.n_folders + excluded.n_folders;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER owner_usage_insert_delete AFTER INSERT OR DELETE ON nodes
FOR EACH ROW EXECUTE FUNCTION owner_usage_change();
-- Only changes of what the counter counts: a rename or move costs nothing more.
CREATE TRIGGER owner_usage_update AFTER UPDATE OF owner_id, kind, size ON nodes
FOR EACH ROW EXECUTE FUNCTION owner_usage_change();
