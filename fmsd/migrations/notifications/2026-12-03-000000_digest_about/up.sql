-- What a digest lists of a queued mail, with its markup (code, links) as JSON; `summary` keeps
-- the plain text, which is all that rows queued before have. And the share or link the mail is
-- about (`share:<id>`, `link:<id>`): when it ends before the digest goes out, the mail goes.
ALTER TABLE digest_queue ADD COLUMN summary_parts TEXT;
ALTER TABLE digest_queue ADD COLUMN about TEXT;
CREATE INDEX digest_queue_by_about ON digest_queue (about);
