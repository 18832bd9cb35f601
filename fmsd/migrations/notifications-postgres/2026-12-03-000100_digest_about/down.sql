DROP INDEX digest_queue_by_about;
ALTER TABLE digest_queue DROP COLUMN about;
ALTER TABLE digest_queue DROP COLUMN summary_parts;
