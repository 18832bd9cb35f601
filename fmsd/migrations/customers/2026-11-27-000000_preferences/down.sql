ALTER TABLE customers DROP COLUMN activity_mail;
