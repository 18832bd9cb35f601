-- Mail preferences: activity mail (shares, links, file requests, quota) is on unless the
-- customer turns it off, so every existing customer starts with it on.
ALTER TABLE customers ADD COLUMN activity_mail BOOLEAN NOT NULL DEFAULT 1;
