CREATE TABLE places (id int primary key, name varchar(100));
