DROP TABLE consumer_offsets; DROP TABLE events;
