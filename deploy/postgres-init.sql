-- One database per service: no service reads another's tables.
CREATE DATABASE nuanxin_bookings;
CREATE DATABASE nuanxin_volunteers;
CREATE DATABASE nuanxin_notifications;
CREATE DATABASE nuanxin_activities;
CREATE DATABASE nuanxin_gateway;
