DROP TRIGGER owner_usage_trash_delete;
DROP TRIGGER owner_usage_trash_insert;
ALTER TABLE owner_usage DROP COLUMN n_trashed;
ALTER TABLE owner_usage DROP COLUMN trash_bytes;
DROP TABLE trashed_nodes;
DROP TABLE trash;
