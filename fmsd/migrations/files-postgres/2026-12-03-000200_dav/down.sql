DROP TABLE dav_locks;
DROP TABLE dav_properties;
