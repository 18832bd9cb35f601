-- Activity mail on PostgreSQL, the same tables as migrations/notifications: whether each
-- customer wants it (a projection of customer events), when each was last sent one, and the
-- mails held back for their next digest. The version differs from every other service's, so
-- two services pointed at the same database by mistake do not take each other's migration for
-- their own.

-- A customer not listed wants activity mail.
CREATE TABLE mail_preferences (
    customer_id TEXT PRIMARY KEY,
    activity_mail BOOLEAN NOT NULL
);

-- When each customer was last sent an activity mail or a digest (microseconds since 1970).
CREATE TABLE activity_mail_sent (
    customer_id TEXT PRIMARY KEY,
    sent_at BIGINT NOT NULL
);

-- Activity mails waiting for a digest, in the order they came; one row per event.
CREATE TABLE digest_queue (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX digest_queue_by_customer ON digest_queue (customer_id, seq);
