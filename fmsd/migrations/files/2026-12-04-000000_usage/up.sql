-- What each owner stores, kept by triggers in the transaction of every change to `nodes`, so
-- reading an account's usage costs one row whatever the account holds, and no write path can
-- forget to keep it.
CREATE TABLE owner_usage (
    owner_id TEXT PRIMARY KEY NOT NULL,
    used_bytes BIGINT NOT NULL DEFAULT 0,
    n_files BIGINT NOT NULL DEFAULT 0,
    n_folders BIGINT NOT NULL DEFAULT 0
);

INSERT INTO owner_usage (owner_id, used_bytes, n_files, n_folders)
SELECT owner_id,
       COALESCE(SUM(CASE WHEN kind = 'file' THEN size ELSE 0 END), 0),
       SUM(CASE WHEN kind = 'file' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'folder' THEN 1 ELSE 0 END)
FROM nodes GROUP BY owner_id;

CREATE TRIGGER owner_usage_insert AFTER INSERT ON nodes
BEGIN
    INSERT INTO owner_usage (owner_id, used_bytes, n_files, n_folders)
    VALUES (NEW.owner_id,
            CASE WHEN NEW.kind = 'file' THEN NEW.size ELSE 0 END,
            CASE WHEN NEW.kind = 'file' THEN 1 ELSE 0 END,
            CASE WHEN NEW.kind = 'folder' THEN 1 ELSE 0 END)
    ON CONFLICT (owner_id) DO UPDATE SET
        used_bytes = used_bytes + excluded.used_bytes,
        n_files = n_files + excluded.n_files,
        n_folders = n_folders + excluded.n_folders;
END;

CREATE TRIGGER owner_usage_delete AFTER DELETE ON nodes
BEGIN
    UPDATE owner_usage SET
        used_bytes = used_bytes - CASE WHEN OLD.kind = 'file' THEN OLD.size ELSE 0 END,
        n_files = n_files - CASE WHEN OLD.kind = 'file' THEN 1 ELSE 0 END,
        n_folders = n_folders - CASE WHEN OLD.kind = 'folder' THEN 1 ELSE 0 END
    WHERE owner_id = OLD.owner_id;
END;

-- A change of size, kind or owner: the old row out, the new one in.
CREATE TRIGGER owner_usage_update AFTER UPDATE OF owner_id, kind, size ON nodes
BEGIN
    UPDATE owner_usage SET
        used_bytes = used_bytes - CASE WHEN OLD.kind = 'file' THEN OLD.size ELSE 0 END,
        n_files = n_files - CASE WHEN OLD.kind = 'file' THEN 1 ELSE 0 END,
        n_folders = n_folders - CASE WHEN OLD.kind = 'folder' THEN 1 ELSE 0 END
    WHERE owner_id = OLD.owner_id;
    INSERT INTO owner_usage (owner_id, used_bytes, n_files, n_folders)
    VALUES (NEW.owner_id,
            CASE WHEN NEW.kind = 'file' THEN NEW.size ELSE 0 END,
            CASE WHEN NEW.kind = 'file' THEN 1 ELSE 0 END,
            CASE WHEN NEW.kind = 'folder' THEN 1 ELSE 0 END)
    ON CONFLICT (owner_id) DO UPDATE SET
        used_bytes = used_bytes + excluded.used_bytes,
        n_files = n_files + excluded.n_files,
        n_folders = n_folders + excluded.n_folders;
END;
