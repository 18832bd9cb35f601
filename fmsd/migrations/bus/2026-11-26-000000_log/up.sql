-- The embedded bus: an append-only log per topic and each consumer group's position in it.
CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    event_key TEXT NOT NULL,
    envelope TEXT NOT NULL
);
CREATE INDEX events_by_topic ON events (topic, position);

CREATE TABLE consumer_offsets (
    consumer_group TEXT NOT NULL,
    topic TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (consumer_group, topic)
);
