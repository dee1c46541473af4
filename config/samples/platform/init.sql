-- The platform sample's schema and test data, run once by berth-postgres
-- (as by postgres:16) on its first start, which on a tmpfs is every start.
-- platform.yaml (spec.files init-sql) and docker-compose.test.yml (configs
-- init-sql) both mount this file at /docker-entrypoint-initdb.d/init.sql.
CREATE TABLE platform_meta (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO platform_meta VALUES ('schema', '1');
CREATE TABLE users (
  username text PRIMARY KEY,
  salt text NOT NULL,
  password_sha256 text NOT NULL
);
INSERT INTO users (username, salt, password_sha256) VALUES
  ('alice', 'alice-salt', encode(sha256(convert_to('alice-salt' || 'alice-test-only', 'UTF8')), 'hex')),
  ('bob', 'bob-salt', encode(sha256(convert_to('bob-salt' || 'bob-test-only', 'UTF8')), 'hex'));
CREATE TABLE items (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  owner text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO items (name, owner) VALUES ('first item, from the init SQL', 'init');
