-- One event's rows on a PostgreSQL record, as pgbench runs them (the
-- ceiling of bench/pg.bash; tables in bench/pg_event_setup.sql): the
-- dispute's head locked, its row and version, the event, four git
-- objects (a commit, two trees, the event's file: about 300 bytes each),
-- the head moved, the change, the event for storefronts in the outbox
-- (the dispute as GET answers it, about 1.2 KB), and the commit numbered
-- last, its counter held until the commit.
\set d random(1, :pool)
BEGIN;
SELECT head FROM c_refs WHERE id = :d FOR UPDATE;
SELECT nextval('c_batches');
UPDATE c_disputes SET version = version + 1, doc = doc WHERE id = :d;
INSERT INTO c_events SELECT :d, version, repeat('e', 400) FROM c_disputes WHERE id = :d;
INSERT INTO c_objects (id, data, change)
	SELECT decode(md5(random()::TEXT) || '00000000', 'hex'), decode(repeat('ab', 300), 'hex'), currval('c_batches')
	FROM generate_series(1, 4);
UPDATE c_refs SET head = md5(random()::TEXT) || '00000000' WHERE id = :d;
INSERT INTO c_changes (dispute, head, batch) VALUES (:d, md5(random()::TEXT), currval('c_batches'));
INSERT INTO c_outbox (id, batch, dispute, version, payload)
	SELECT 'evt_' || md5(random()::TEXT), currval('c_batches'), :d, version, repeat('o', 1200) FROM c_disputes WHERE id = :d;
WITH c AS (UPDATE c_counter SET n = n + 1 WHERE id = 1 RETURNING n)
	INSERT INTO c_commits SELECT n, currval('c_batches') FROM c;
COMMIT;
