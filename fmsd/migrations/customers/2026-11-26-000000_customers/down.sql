DROP TABLE processed_events;
DROP TABLE outbox;
DROP TABLE refresh_tokens;
DROP TABLE customers;
