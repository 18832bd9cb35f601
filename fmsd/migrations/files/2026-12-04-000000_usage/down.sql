DROP TRIGGER owner_usage_update;
DROP TRIGGER owner_usage_delete;
DROP TRIGGER owner_usage_insert;
DROP TABLE owner_usage;
