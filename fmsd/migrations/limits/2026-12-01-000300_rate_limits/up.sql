-- The shared password-guessing limits: one row per key, its GCRA theoretical arrival time in
-- microseconds since the Unix epoch. The same DDL on SQLite and PostgreSQL. This set may run in
-- the files database (see limits/adapters/sql.rs), so its version is unlike every service's.
-- No index on tat: every attempt rewrites it, and the prune once a minute may scan.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    tat BIGINT NOT NULL
);
