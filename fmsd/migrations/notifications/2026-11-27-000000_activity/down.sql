DROP TABLE digest_queue;
DROP TABLE activity_mail_sent;
DROP TABLE mail_preferences;
