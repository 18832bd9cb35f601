-- What notifications has mailed: one row per (consumer, event), so an event delivered twice
-- mails once. The version differs from every other service's first migration, so two services
-- pointed at the same database by mistake do not take each other's migration for their own.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
