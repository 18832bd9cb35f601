DROP TABLE deleted_owners;
DROP TABLE garbage;
DROP TABLE uploads;
DROP TABLE nodes;
DROP TABLE processed_events;
DROP TABLE outbox;
