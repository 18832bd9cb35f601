DROP TABLE mail_codes;
ALTER TABLE customers DROP COLUMN email_verified;
