DROP TABLE body_secretariats;
DROP TABLE notifications;
DROP TABLE reminder_policies;
