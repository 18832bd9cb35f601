-- Activity mail: whether each customer wants it (a projection of customer events), when each
-- was last sent one, and the mails held back for their next digest.

-- A customer not listed wants activity mail.
CREATE TABLE mail_preferences (
    customer_id TEXT PRIMARY KEY NOT NULL,
    activity_mail BOOLEAN NOT NULL
);

-- When each customer was last sent an activity mail or a digest (microseconds since 1970).
CREATE TABLE activity_mail_sent (
    customer_id TEXT PRIMARY KEY NOT NULL,
    sent_at BIGINT NOT NULL
);

-- Activity mails waiting for a digest, in the order they came; one row per event.
CREATE TABLE digest_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX digest_queue_by_customer ON digest_queue (customer_id, seq);
