-- The tables of the pgbench ceiling (bench/pg_event.sql): the rows an
-- event writes on a PostgreSQL record, without redress around them. psql
-- variable :pool, the disputes written to.
CREATE TABLE c_disputes (id INT PRIMARY KEY, version BIGINT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE c_refs (id INT PRIMARY KEY, head TEXT NOT NULL);
CREATE TABLE c_events (dispute INT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL,
	PRIMARY KEY (dispute, version));
CREATE TABLE c_objects (n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id BYTEA NOT NULL UNIQUE, data BYTEA NOT NULL, change BIGINT NOT NULL);
CREATE TABLE c_changes (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	dispute INT NOT NULL, head TEXT NOT NULL, batch BIGINT NOT NULL);
CREATE TABLE c_outbox (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id TEXT NOT NULL UNIQUE, batch BIGINT NOT NULL, dispute INT NOT NULL,
	version BIGINT NOT NULL, payload TEXT NOT NULL);
CREATE INDEX c_outbox_by_batch ON c_outbox (batch, seq);
CREATE TABLE c_counter (id INT PRIMARY KEY, n BIGINT NOT NULL);
CREATE TABLE c_commits (n BIGINT PRIMARY KEY, batch BIGINT NOT NULL UNIQUE);
CREATE SEQUENCE c_batches;
INSERT INTO c_counter VALUES (1, 0);
INSERT INTO c_disputes SELECT g, 1, repeat('x', 900) FROM generate_series(1, :pool) AS g;
INSERT INTO c_refs SELECT g, md5(g::TEXT) || '00000000' FROM generate_series(1, :pool) AS g;
