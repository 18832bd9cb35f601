DROP TRIGGER owner_usage_trash ON trash;
DROP FUNCTION owner_usage_trash_change();
ALTER TABLE owner_usage DROP COLUMN n_trashed;
ALTER TABLE owner_usage DROP COLUMN trash_bytes;
DROP TABLE trashed_nodes;
DROP TABLE trash;
