ALTER TABLE uploads DROP COLUMN grant_id;
DROP TABLE links;
DROP TABLE shares;
DROP TABLE people;
