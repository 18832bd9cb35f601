-- WebDAV beside the tree. Dead properties belong to a node (by id, so a move keeps them) and go
-- with it. Locks are on paths of an owner's tree, which may name nothing yet; times are
-- microseconds since the Unix epoch, flags 0 or 1, as everywhere in this database.
CREATE TABLE dav_properties (
    node_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    xml TEXT NOT NULL,
    PRIMARY KEY (node_id, namespace, name)
);

CREATE TABLE dav_locks (
    token TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    path TEXT NOT NULL,
    principal TEXT,
    owner_xml TEXT,
    expires_at BIGINT,
    timeout_secs BIGINT,
    shared INTEGER NOT NULL,
    deep INTEGER NOT NULL
);
CREATE INDEX dav_locks_by_owner ON dav_locks (owner_id, path);
