ALTER TABLE people DROP COLUMN verified;
