DROP TRIGGER owner_usage_update ON nodes;
DROP TRIGGER owner_usage_insert_delete ON nodes;
DROP FUNCTION owner_usage_change();
DROP TABLE owner_usage;
