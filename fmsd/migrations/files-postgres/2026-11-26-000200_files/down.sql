-- processed_events may be shared with notifications (see up.sql), so it stays.
DROP TABLE deleted_owners;
DROP TABLE garbage;
DROP TABLE uploads;
DROP TABLE nodes;
DROP TABLE outbox;
