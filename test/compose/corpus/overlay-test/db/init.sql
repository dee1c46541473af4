CREATE TABLE todo (id serial primary key, title text);
