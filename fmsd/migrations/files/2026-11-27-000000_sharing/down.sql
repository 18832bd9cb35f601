DROP TABLE links;
DROP TABLE shares;
DROP TABLE people;
