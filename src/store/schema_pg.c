/*
 * The store's schema on PostgreSQL, and how a PostgreSQL database is
 * brought to it.
 *
 * A PostgreSQL database has no user_version: the one row of the table
 * redress_schema holds the schema version instead, with the same meaning
 * as SQLite's (the schema of scripts 1..N, schema.c). There is no
 * PostgreSQL data older than schema 13, so a new database gets schema 13
 * in one script, the tables, constraints, indexes and triggers of SQLite's
 * thirteen scripts as they stand after the last, in PostgreSQL's dialect;
 * columns added by a later SQLite script (ALTER TABLE ... ADD COLUMN) come
 * last, as they do there, so both engines' rows read in the same order.
 * Later migrations are appended to `scripts` below, one per version, and
 * like SQLite's a released script must never be edited.
 *
 * Scripts run in one transaction that first takes a transaction-scoped
 * advisory lock, so that nodes starting at once apply each script once:
 * whoever waited reads the version again under the lock and finds the work
 * done. Every value is a constant of the text: this file must never
 * format SQL at run time.
 *
 * SQLite's STRICT tables refuse a value of the wrong type; PostgreSQL's
 * types always do. INTEGER is BIGINT, BLOB is BYTEA; the triggers are
 * PL/pgSQL functions with the effects of SQLite's trigger bodies; a
 * trigger's refusal raises SQLSTATE P0001, which the driver reports as
 * RD_DB_ECONSTRAINT like SQLite's RAISE(ABORT). Primary keys keep
 * PostgreSQL's default names (<table>_pkey): the driver tells a primary
 * key's refusal from another unique constraint's by that name.
 */
#include <stdio.h>

#include "store/store_int.h"

/*
 * The key of the advisory lock a schema upgrade takes ("redress!" in
 * ASCII), the same for every redress node of every database: a lock of
 * pg_advisory_xact_lock is per database.
 */
#define SCHEMA_LOCK_SQL "SELECT pg_advisory_xact_lock(8243105135462675233)"

/* The version of the first PostgreSQL schema, and of the newest. */
#define PG_SCHEMA_FIRST 13
#define PG_SCHEMA_NEWEST 23

_Static_assert(PG_SCHEMA_NEWEST == RD_STORE_SCHEMA_VERSION,
	       "a SQLite migration needs its PostgreSQL script too");

/*
 * 13: everything up to SQLite's schema 13 (schema.c says what each part is
 * for). What differs from SQLite: json_valid is a function of our own,
 * since a CHECK may not fail with an error of its own; the events are
 * protected from TRUNCATE as well, which SQLite does not have; objects.n
 * and changes.seq are identity columns (SQLite's rowids), numbered by
 * PostgreSQL as rows are inserted; the counters of the overview and of
 * evidence usage go through small functions rather than a macro pasted in
 * each trigger. Text columns compare byte by byte (COLLATE "C"), as
 * SQLite's BINARY does whatever the database's locale: the keyset cursors
 * of the lists, and the "~" that sorts after every id, depend on it.
 *
 * First part: the version, the disputes and their items.
 */
static const char schema_13_tables[] =
	"CREATE TABLE redress_schema (version INT NOT NULL);\n"
	"-- one row: an index on a constant admits a single entry\n"
	"CREATE UNIQUE INDEX redress_schema_one ON redress_schema ((true));\n"
	"\n"
	"-- json_valid of SQLite: a CHECK may not raise, so the cast is caught\n"
	"CREATE FUNCTION redress_json_valid(doc TEXT) RETURNS BOOLEAN\n"
	"  LANGUAGE plpgsql IMMUTABLE AS $$\n"
	"BEGIN\n"
	"  PERFORM doc::json;\n"
	"  RETURN true;\n"
	"EXCEPTION WHEN others THEN\n"
	"  RETURN false;\n"
	"END $$;\n"
	"\n"
	"CREATE TABLE workflows (\n"
	"  hash TEXT COLLATE \"C\" PRIMARY KEY NOT NULL\n"
	"    CHECK (length(hash) = 64),\n"
	"  name TEXT COLLATE \"C\" NOT NULL,\n"
	"  version BIGINT NOT NULL CHECK (version >= 1),\n"
	"  source TEXT COLLATE \"C\" NOT NULL,\n"
	"  first_seen BIGINT NOT NULL,\n"
	"  UNIQUE (name, version)\n"
	");\n"
	"\n"
	"CREATE TABLE disputes (\n"
	"  id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL\n"
	"    CHECK (length(id) = 26),\n"
	"  order_ref TEXT COLLATE \"C\" NOT NULL,\n"
	"  storefront TEXT COLLATE \"C\" NOT NULL,\n"
	"  buyer_ref TEXT COLLATE \"C\",\n"
	"  currency TEXT COLLATE \"C\" NOT NULL CHECK (length(currency) = 3),\n"
	"  reason TEXT COLLATE \"C\" NOT NULL,\n"
	"  channel TEXT COLLATE \"C\" NOT NULL,\n"
	"  locale TEXT COLLATE \"C\",\n"
	"  description TEXT COLLATE \"C\",\n"
	"  shipping_paid BIGINT NOT NULL CHECK (shipping_paid >= 0),\n"
	"  ship_cost BIGINT CHECK (ship_cost >= 0),\n"
	"  return_cost BIGINT CHECK (return_cost >= 0),\n"
	"  workflow_name TEXT COLLATE \"C\" NOT NULL,\n"
	"  workflow_version BIGINT NOT NULL CHECK (workflow_version >= 1),\n"
	"  workflow_hash TEXT COLLATE \"C\" NOT NULL\n"
	"    REFERENCES workflows (hash),\n"
	"  state TEXT COLLATE \"C\" NOT NULL,\n"
	"  outcome TEXT COLLATE \"C\",\n"
	"  assignee TEXT COLLATE \"C\",\n"
	"  version BIGINT NOT NULL CHECK (version >= 1),\n"
	"  created_at BIGINT NOT NULL,\n"
	"  updated_at BIGINT NOT NULL,\n"
	"  head TEXT COLLATE \"C\"\n"
	"    CHECK (length(head) = 40 AND head !~ '[^0-9a-f]')\n"
	");\n"
	"CREATE INDEX disputes_created ON disputes (created_at, id);\n"
	"CREATE INDEX disputes_state ON disputes (state, created_at, id);\n"
	"CREATE INDEX disputes_storefront\n"
	"  ON disputes (storefront, created_at, id);\n"
	"CREATE INDEX disputes_reason ON disputes (reason, created_at, id);\n"
	"CREATE INDEX disputes_assignee ON disputes (assignee, created_at, id);\n"
	"CREATE INDEX disputes_open_order ON disputes (storefront, order_ref)\n"
	"  WHERE outcome IS NULL;\n"
	"\n"
	"CREATE TABLE items (\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL REFERENCES disputes (id),\n"
	"  idx BIGINT NOT NULL CHECK (idx >= 0),\n"
	"  sku TEXT COLLATE \"C\" NOT NULL,\n"
	"  title TEXT COLLATE \"C\",\n"
	"  quantity BIGINT NOT NULL CHECK (quantity >= 1),\n"
	"  unit_price BIGINT NOT NULL CHECK (unit_price >= 0),\n"
	"  unit_cost BIGINT CHECK (unit_cost >= 0),\n"
	"  PRIMARY KEY (dispute_id, idx)\n"
	");\n";

/* the event log, deadlines, evidence and offers */
static const char schema_13_events[] =
	"CREATE TABLE events (\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL REFERENCES disputes (id),\n"
	"  seq BIGINT NOT NULL CHECK (seq >= 1),\n"
	"  event TEXT COLLATE \"C\" NOT NULL,\n"
	"  actor_role TEXT COLLATE \"C\" NOT NULL,\n"
	"  actor_name TEXT COLLATE \"C\" NOT NULL,\n"
	"  actor_key TEXT COLLATE \"C\",\n"
	"  at BIGINT NOT NULL,\n"
	"  from_state TEXT COLLATE \"C\",\n"
	"  to_state TEXT COLLATE \"C\" NOT NULL,\n"
	"  fields TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (redress_json_valid(fields)),\n"
	"  note TEXT COLLATE \"C\",\n"
	"  PRIMARY KEY (dispute_id, seq)\n"
	");\n"
	"\n"
	"-- the audit trail is append-only, whoever writes to the database\n"
	"CREATE FUNCTION events_append_only() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'P0001';\n"
	"END $$;\n"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
	"  FOR EACH ROW EXECUTE FUNCTION events_append_only();\n"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
	"  FOR EACH ROW EXECUTE FUNCTION events_append_only();\n"
	"CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events\n"
	"  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();\n"
	"\n"
	"CREATE TABLE deadlines (\n"
	"  dispute_id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL\n"
	"    REFERENCES disputes (id),\n"
	"  due_at BIGINT NOT NULL CHECK (due_at > 0),\n"
	"  event TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(event) BETWEEN 1 AND 63),\n"
	"  state TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(state) BETWEEN 1 AND 63)\n"
	");\n"
	"CREATE INDEX deadlines_due ON deadlines (due_at, dispute_id);\n"
	"\n"
	"CREATE TABLE evidence (\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL REFERENCES disputes (id),\n"
	"  n BIGINT NOT NULL CHECK (n >= 1),\n"
	"  kind TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(kind) BETWEEN 1 AND 31),\n"
	"  channel TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(channel) BETWEEN 1 AND 15),\n"
	"  submitted_by TEXT COLLATE \"C\" NOT NULL,\n"
	"  captured_at BIGINT,\n"
	"  added_at BIGINT NOT NULL,\n"
	"  content_type TEXT COLLATE \"C\" NOT NULL,\n"
	"  size BIGINT NOT NULL CHECK (size >= 0),\n"
	"  sha256 TEXT COLLATE \"C\" NOT NULL CHECK (length(sha256) = 64),\n"
	"  original_name TEXT COLLATE \"C\",\n"
	"  withdrawn BIGINT NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),\n"
	"  withdrawn_reason TEXT COLLATE \"C\",\n"
	"  note TEXT COLLATE \"C\",\n"
	"  path TEXT COLLATE \"C\" CHECK (length(path) >= 1),\n"
	"  blob_oid TEXT COLLATE \"C\"\n"
	"    CHECK (length(blob_oid) = 40 AND blob_oid !~ '[^0-9a-f]'),\n"
	"  PRIMARY KEY (dispute_id, n)\n"
	");\n"
	"\n"
	"CREATE TABLE offers (\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL REFERENCES disputes (id),\n"
	"  offer_id TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(offer_id) BETWEEN 1 AND 47),\n"
	"  type TEXT COLLATE \"C\" NOT NULL,\n"
	"  buyer_refund BIGINT NOT NULL CHECK (buyer_refund >= 0),\n"
	"  buyer_copay BIGINT NOT NULL CHECK (buyer_copay >= 0),\n"
	"  seller_cost BIGINT,\n"
	"  status TEXT COLLATE \"C\" NOT NULL CHECK (status IN\n"
	"    ('made', 'accepted', 'rejected', 'countered', 'expired')),\n"
	"  made_at BIGINT NOT NULL,\n"
	"  decided_at BIGINT,\n"
	"  event_seq BIGINT NOT NULL CHECK (event_seq >= 1),\n"
	"  PRIMARY KEY (dispute_id, offer_id)\n"
	");\n"
	"CREATE UNIQUE INDEX offers_one_made ON offers (dispute_id)\n"
	"  WHERE status = 'made';\n";

/* API keys, and the running totals of schema 5 */
static const char schema_13_keys[] =
	"CREATE TABLE api_keys (\n"
	"  id TEXT COLLATE \"C\" PRIMARY KEY NOT NULL\n"
	"    CHECK (length(id) = 16 AND id !~ '[^0-9a-f]'),\n"
	"  name TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (octet_length(name) BETWEEN 1 AND 64),\n"
	"  role TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (role IN ('agent', 'auditor', 'storefront', 'admin')),\n"
	"  storefront TEXT COLLATE \"C\"\n"
	"    CHECK (octet_length(storefront) BETWEEN 1 AND 64),\n"
	"  secret_sha256 TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(secret_sha256) = 64\n"
	"    AND secret_sha256 !~ '[^0-9a-f]'),\n"
	"  created_at BIGINT NOT NULL,\n"
	"  revoked_at BIGINT CHECK (revoked_at > 0),\n"
	"  CHECK ((role = 'storefront') = (storefront IS NOT NULL))\n"
	");\n"
	"CREATE INDEX api_keys_created ON api_keys (created_at, id);\n"
	"\n"
	"CREATE TABLE stats_states (\n"
	"  state TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,\n"
	"  disputes BIGINT NOT NULL CHECK (disputes >= 0)\n"
	");\n"
	"CREATE TABLE stats_totals (\n"
	"  name TEXT COLLATE \"C\" PRIMARY KEY NOT NULL\n"
	"    CHECK (name IN ('sla_breaches', 'evidence_bytes')),\n"
	"  value BIGINT NOT NULL CHECK (value >= 0)\n"
	");\n"
	"INSERT INTO stats_totals (name, value) VALUES\n"
	"  ('sla_breaches', 0), ('evidence_bytes', 0);\n"
	"\n"
	"CREATE FUNCTION stats_dispute_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  INSERT INTO stats_states AS s (state, disputes) VALUES (NEW.state, 1)\n"
	"    ON CONFLICT (state) DO UPDATE SET disputes = s.disputes + 1;\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER stats_dispute_insert AFTER INSERT ON disputes\n"
	"  FOR EACH ROW EXECUTE FUNCTION stats_dispute_insert();\n"
	"CREATE FUNCTION stats_dispute_state() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  UPDATE stats_states SET disputes = disputes - 1\n"
	"    WHERE state = OLD.state;\n"
	"  INSERT INTO stats_states AS s (state, disputes) VALUES (NEW.state, 1)\n"
	"    ON CONFLICT (state) DO UPDATE SET disputes = s.disputes + 1;\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER stats_dispute_state AFTER UPDATE OF state ON disputes\n"
	"  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)\n"
	"  EXECUTE FUNCTION stats_dispute_state();\n"
	"CREATE FUNCTION stats_dispute_delete() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  UPDATE stats_states SET disputes = disputes - 1\n"
	"    WHERE state = OLD.state;\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER stats_dispute_delete AFTER DELETE ON disputes\n"
	"  FOR EACH ROW EXECUTE FUNCTION stats_dispute_delete();\n"
	"-- the sweeper fires a deadline as system:sla (src/service/events.c)\n"
	"CREATE FUNCTION stats_sla_breach() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  UPDATE stats_totals SET value = value + 1 WHERE name = 'sla_breaches';\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER stats_sla_breach AFTER INSERT ON events\n"
	"  FOR EACH ROW WHEN (NEW.actor_role = 'system'\n"
	"    AND NEW.actor_name = 'sla'\n"
	"    AND NEW.event <> 'deadline_dropped')\n"
	"  EXECUTE FUNCTION stats_sla_breach();\n"
	"CREATE FUNCTION stats_evidence_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  UPDATE stats_totals SET value = value + NEW.size\n"
	"    WHERE name = 'evidence_bytes';\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER stats_evidence_insert AFTER INSERT ON evidence\n"
	"  FOR EACH ROW EXECUTE FUNCTION stats_evidence_insert();\n"
	"CREATE FUNCTION stats_evidence_size() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  UPDATE stats_totals SET value = value - OLD.size + NEW.size\n"
	"    WHERE name = 'evidence_bytes';\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER stats_evidence_size AFTER UPDATE OF size ON evidence\n"
	"  FOR EACH ROW WHEN (OLD.size IS DISTINCT FROM NEW.size)\n"
	"  EXECUTE FUNCTION stats_evidence_size();\n";

/* idempotency, and the overview's totals and helpers (7) */
static const char schema_13_idempotency[] =
	"CREATE TABLE idempotency (\n"
	"  key_id TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (octet_length(key_id) BETWEEN 1 AND 63),\n"
	"  idem_key TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (octet_length(idem_key) BETWEEN 1 AND 255),\n"
	"  request_sha256 TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (length(request_sha256) = 64\n"
	"    AND request_sha256 !~ '[^0-9a-f]'),\n"
	"  operation TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (operation IN ('open', 'event', 'evidence')),\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL,\n"
	"  evidence_n BIGINT CHECK (evidence_n > 0),\n"
	"  response TEXT COLLATE \"C\" NOT NULL,\n"
	"  created_at BIGINT NOT NULL,\n"
	"  PRIMARY KEY (key_id, idem_key),\n"
	"  CHECK ((operation = 'evidence') = (evidence_n IS NOT NULL))\n"
	");\n"
	"CREATE INDEX idempotency_created ON idempotency (created_at);\n"
	"\n"
	"CREATE TABLE stats_overview (\n"
	"  storefront TEXT COLLATE \"C\" NOT NULL,\n"
	"  what TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (what IN ('state', 'reason',\n"
	"    'offer_made', 'offer_accepted', 'resolved_within',\n"
	"    'sla_breaches')),\n"
	"  name TEXT COLLATE \"C\" NOT NULL,\n"
	"  value BIGINT NOT NULL CHECK (value >= 0),\n"
	"  PRIMARY KEY (storefront, what, name)\n"
	");\n"
	"-- the bounds of the resolution buckets, in seconds: 1 h to 30 days\n"
	"CREATE TABLE overview_buckets (le BIGINT PRIMARY KEY);\n"
	"INSERT INTO overview_buckets (le) VALUES (3600), (14400), (43200),\n"
	"  (86400), (172800), (259200), (432000), (604800), (1209600),\n"
	"  (2592000);\n"
	"\n"
	"-- one counter of stats_overview up, or down (never below 0)\n"
	"CREATE FUNCTION overview_add(sf TEXT, kind TEXT, label TEXT)\n"
	"  RETURNS void LANGUAGE sql AS $$\n"
	"  INSERT INTO stats_overview AS o (storefront, what, name, value)\n"
	"    VALUES (sf, kind, label, 1)\n"
	"    ON CONFLICT (storefront, what, name)\n"
	"    DO UPDATE SET value = o.value + 1;\n"
	"$$;\n"
	"CREATE FUNCTION overview_sub(sf TEXT, kind TEXT, label TEXT)\n"
	"  RETURNS void LANGUAGE sql AS $$\n"
	"  UPDATE stats_overview SET value = value - 1\n"
	"    WHERE storefront = sf AND what = kind AND name = label\n"
	"    AND value > 0;\n"
	"$$;\n"
	"-- the bucket of a dispute resolved after `took` seconds\n"
	"CREATE FUNCTION overview_bucket(took BIGINT) RETURNS TEXT\n"
	"  LANGUAGE sql STABLE AS $$\n"
	"  SELECT coalesce((SELECT min(le) FROM overview_buckets\n"
	"    WHERE le >= took)::text, 'inf');\n"
	"$$;\n"
	"-- the storefront of a dispute, '' when it is gone\n"
	"CREATE FUNCTION storefront_of(dispute TEXT) RETURNS TEXT\n"
	"  LANGUAGE sql STABLE AS $$\n"
	"  SELECT coalesce((SELECT storefront FROM disputes WHERE id = dispute),\n"
	"    '');\n"
	"$$;\n";

/* the triggers that keep the overview's totals (8) */
static const char schema_13_overview[] =
	"CREATE FUNCTION overview_dispute_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_add(NEW.storefront, 'state', NEW.state);\n"
	"  PERFORM overview_add(NEW.storefront, 'reason', NEW.reason);\n"
	"  IF NEW.outcome IS NOT NULL THEN\n"
	"    PERFORM overview_add(NEW.storefront, 'resolved_within',\n"
	"      overview_bucket(NEW.updated_at - NEW.created_at));\n"
	"  END IF;\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_dispute_insert AFTER INSERT ON disputes\n"
	"  FOR EACH ROW EXECUTE FUNCTION overview_dispute_insert();\n"
	"CREATE FUNCTION overview_dispute_state() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_sub(OLD.storefront, 'state', OLD.state);\n"
	"  PERFORM overview_add(NEW.storefront, 'state', NEW.state);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_dispute_state\n"
	"  AFTER UPDATE OF state, storefront ON disputes\n"
	"  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state\n"
	"    OR OLD.storefront IS DISTINCT FROM NEW.storefront)\n"
	"  EXECUTE FUNCTION overview_dispute_state();\n"
	"CREATE FUNCTION overview_dispute_reason() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_sub(OLD.storefront, 'reason', OLD.reason);\n"
	"  PERFORM overview_add(NEW.storefront, 'reason', NEW.reason);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_dispute_reason\n"
	"  AFTER UPDATE OF reason, storefront ON disputes\n"
	"  FOR EACH ROW WHEN (OLD.reason IS DISTINCT FROM NEW.reason\n"
	"    OR OLD.storefront IS DISTINCT FROM NEW.storefront)\n"
	"  EXECUTE FUNCTION overview_dispute_reason();\n"
	"-- a dispute is resolved once: the change that gives it an outcome\n"
	"CREATE FUNCTION overview_dispute_outcome() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_add(NEW.storefront, 'resolved_within',\n"
	"    overview_bucket(NEW.updated_at - NEW.created_at));\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_dispute_outcome AFTER UPDATE OF outcome\n"
	"  ON disputes FOR EACH ROW\n"
	"  WHEN (OLD.outcome IS NULL AND NEW.outcome IS NOT NULL)\n"
	"  EXECUTE FUNCTION overview_dispute_outcome();\n"
	"CREATE FUNCTION overview_dispute_delete() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_sub(OLD.storefront, 'state', OLD.state);\n"
	"  PERFORM overview_sub(OLD.storefront, 'reason', OLD.reason);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_dispute_delete AFTER DELETE ON disputes\n"
	"  FOR EACH ROW EXECUTE FUNCTION overview_dispute_delete();\n"
	"CREATE FUNCTION overview_offer_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_add(storefront_of(NEW.dispute_id), 'offer_made',\n"
	"    NEW.type);\n"
	"  IF NEW.status = 'accepted' THEN\n"
	"    PERFORM overview_add(storefront_of(NEW.dispute_id),\n"
	"      'offer_accepted', NEW.type);\n"
	"  END IF;\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_offer_insert AFTER INSERT ON offers\n"
	"  FOR EACH ROW EXECUTE FUNCTION overview_offer_insert();\n"
	"CREATE FUNCTION overview_offer_accepted() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_add(storefront_of(NEW.dispute_id), 'offer_accepted',\n"
	"    NEW.type);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_offer_accepted AFTER UPDATE OF status ON offers\n"
	"  FOR EACH ROW WHEN (NEW.status = 'accepted'\n"
	"    AND OLD.status IS DISTINCT FROM 'accepted')\n"
	"  EXECUTE FUNCTION overview_offer_accepted();\n"
	"-- the sweeper fires a deadline as system:sla (src/service/events.c)\n"
	"CREATE FUNCTION overview_sla_breach() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM overview_add(storefront_of(NEW.dispute_id), 'sla_breaches',\n"
	"    '');\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER overview_sla_breach AFTER INSERT ON events\n"
	"  FOR EACH ROW WHEN (NEW.actor_role = 'system'\n"
	"    AND NEW.actor_name = 'sla'\n"
	"    AND NEW.event <> 'deadline_dropped')\n"
	"  EXECUTE FUNCTION overview_sla_breach();\n";

/* evidence usage per storefront and day, and quotas (9) */
static const char schema_13_usage[] =
	"CREATE TABLE evidence_usage (\n"
	"  storefront TEXT COLLATE \"C\" NOT NULL,\n"
	"  day BIGINT NOT NULL,\n"
	"  bytes BIGINT NOT NULL CHECK (bytes >= 0),\n"
	"  PRIMARY KEY (storefront, day)\n"
	");\n"
	"CREATE TABLE storefront_quotas (\n"
	"  storefront TEXT COLLATE \"C\" PRIMARY KEY NOT NULL\n"
	"    CHECK (octet_length(storefront) BETWEEN 1 AND 64),\n"
	"  daily BIGINT CHECK (daily >= 0),\n"
	"  total BIGINT CHECK (total >= 0),\n"
	"  updated_at BIGINT NOT NULL\n"
	");\n"
	"\n"
	"-- the bytes of one evidence row added to, or taken from, its day\n"
	"CREATE FUNCTION usage_add(dispute TEXT, added BIGINT, amount BIGINT)\n"
	"  RETURNS void LANGUAGE sql AS $$\n"
	"  INSERT INTO evidence_usage AS u (storefront, day, bytes)\n"
	"    VALUES (storefront_of(dispute), added / 86400, amount)\n"
	"    ON CONFLICT (storefront, day)\n"
	"    DO UPDATE SET bytes = u.bytes + excluded.bytes;\n"
	"$$;\n"
	"CREATE FUNCTION usage_sub(dispute TEXT, added BIGINT, amount BIGINT)\n"
	"  RETURNS void LANGUAGE sql AS $$\n"
	"  UPDATE evidence_usage AS u SET bytes = GREATEST(u.bytes - amount, 0)\n"
	"    WHERE u.storefront = storefront_of(dispute)\n"
	"    AND u.day = added / 86400;\n"
	"$$;\n"
	"CREATE FUNCTION usage_evidence_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM usage_add(NEW.dispute_id, NEW.added_at, NEW.size);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER usage_evidence_insert AFTER INSERT ON evidence\n"
	"  FOR EACH ROW EXECUTE FUNCTION usage_evidence_insert();\n"
	"CREATE FUNCTION usage_evidence_update() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM usage_sub(OLD.dispute_id, OLD.added_at, OLD.size);\n"
	"  PERFORM usage_add(NEW.dispute_id, NEW.added_at, NEW.size);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER usage_evidence_update\n"
	"  AFTER UPDATE OF size, added_at, dispute_id ON evidence\n"
	"  FOR EACH ROW WHEN (OLD.size IS DISTINCT FROM NEW.size\n"
	"    OR OLD.added_at IS DISTINCT FROM NEW.added_at\n"
	"    OR OLD.dispute_id IS DISTINCT FROM NEW.dispute_id)\n"
	"  EXECUTE FUNCTION usage_evidence_update();\n"
	"CREATE FUNCTION usage_evidence_delete() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM usage_sub(OLD.dispute_id, OLD.added_at, OLD.size);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER usage_evidence_delete AFTER DELETE ON evidence\n"
	"  FOR EACH ROW EXECUTE FUNCTION usage_evidence_delete();\n";

/* the record (11 to 13), then the version */
static const char schema_13_record[] =
	"CREATE TABLE objects (\n"
	"  n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  id BYTEA NOT NULL UNIQUE CHECK (octet_length(id) = 20),\n"
	"  type BIGINT NOT NULL CHECK (type BETWEEN 1 AND 4),\n"
	"  size BIGINT NOT NULL CHECK (size >= 0),\n"
	"  data BYTEA CHECK (data IS NULL OR octet_length(data) = size),\n"
	"  change BIGINT NOT NULL CHECK (change >= 1)\n"
	");\n"
	"CREATE INDEX objects_by_change ON objects (change);\n"
	"CREATE INDEX objects_in_files ON objects (id) WHERE data IS NULL;\n"
	"\n"
	"CREATE TABLE refs (\n"
	"  dispute_id TEXT COLLATE \"C\" PRIMARY KEY,\n"
	"  head TEXT COLLATE \"C\" NOT NULL CHECK (length(head) = 40)\n"
	");\n"
	"\n"
	"CREATE TABLE changes (\n"
	"  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL,\n"
	"  head TEXT COLLATE \"C\" NOT NULL CHECK (length(head) = 40),\n"
	"  at BIGINT NOT NULL\n"
	");\n"
	"CREATE INDEX changes_by_dispute ON changes (dispute_id, seq);\n"
	"\n"
	"CREATE TABLE mirror_state (\n"
	"  id BIGINT PRIMARY KEY CHECK (id = 1),\n"
	"  position BIGINT NOT NULL CHECK (position >= 0)\n"
	");\n"
	"INSERT INTO mirror_state (id, position) VALUES (1, 0);\n"
	"\n"
	"CREATE TABLE mirror_packs (\n"
	"  name TEXT COLLATE \"C\" PRIMARY KEY,\n"
	"  first_change BIGINT NOT NULL,\n"
	"  last_change BIGINT NOT NULL CHECK (last_change >= first_change),\n"
	"  objects BIGINT NOT NULL CHECK (objects >= 0),\n"
	"  superseded_at BIGINT,\n"
	"  plain BIGINT NOT NULL DEFAULT 0 CHECK (plain >= 0)\n"
	");\n"
	"\n"
	"CREATE TABLE record_state (\n"
	"  name TEXT COLLATE \"C\" PRIMARY KEY,\n"
	"  value TEXT COLLATE \"C\" NOT NULL\n"
	");\n"
	"INSERT INTO record_state (name, value) VALUES ('import', 'pending');\n"
	"\n"
	"INSERT INTO redress_schema (version) VALUES (13);\n";

/*
 * Run in this order, in one transaction (a C string literal is kept under
 * the 4095 characters every compiler must take).
 */
static const char *const schema_13[] = {
	schema_13_tables,
	schema_13_events,
	schema_13_keys,
	schema_13_idempotency,
	schema_13_overview,
	schema_13_usage,
	schema_13_record,
	NULL
};

/*
 * 14: evidence files in the database, so that nodes share no disk. An
 * upload's bytes go into rows of file_chunks (1 MiB a row, the last
 * shorter, stored out of line and uncompressed: evidence is mostly
 * photographs and PDFs, compressed already) under the number of its
 * upload; once every byte is there, one row of `files` names the upload
 * by the git blob id of its bytes. An upload no file names (abandoned, or
 * cut by a crash) is removed with its chunks after a grace; an upload a
 * file names cannot be removed before the file.
 */
static const char schema_14_files[] =
	"CREATE TABLE file_uploads (\n"
	"  upload BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  started_at BIGINT NOT NULL\n"
	");\n"
	"CREATE INDEX file_uploads_by_start ON file_uploads (started_at);\n"
	"\n"
	"CREATE TABLE file_chunks (\n"
	"  upload BIGINT NOT NULL REFERENCES file_uploads ON DELETE CASCADE,\n"
	"  n BIGINT NOT NULL CHECK (n >= 0),\n"
	"  data BYTEA NOT NULL\n"
	"    CHECK (octet_length(data) BETWEEN 1 AND 1048576),\n"
	"  PRIMARY KEY (upload, n)\n"
	");\n"
	"ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;\n"
	"\n"
	"CREATE TABLE files (\n"
	"  id BYTEA PRIMARY KEY CHECK (octet_length(id) = 20),\n"
	"  upload BIGINT NOT NULL UNIQUE REFERENCES file_uploads,\n"
	"  size BIGINT NOT NULL CHECK (size >= 1),\n"
	"  written_at BIGINT NOT NULL\n"
	");\n"
	"\n"
	"UPDATE redress_schema SET version = 14;\n";

static const char *const schema_14[] = {
	schema_14_files,
	NULL
};

/*
 * 15: changes in commit order, and the mirror's owner. Writers of several
 * connections (threads, processes, nodes) commit at once on PostgreSQL,
 * and a change's number, handed out as it is inserted, is not its place
 * in commit order: the mirror, which follows changes by number, could
 * pass one that commits late. So each transaction that records changes
 * takes a batch number (redress_batch(), once per transaction) that its
 * changes and the objects it first stores carry, and as its last
 * statement numbers itself in `commits` from a counter whose row it
 * holds until it has committed: commits are numbered in the order they
 * committed, with no gaps, and the mirror follows that number. Changes
 * and objects recorded before 15 are each their own batch and commit,
 * numbered as they were. As on the embedded record, mirror_state gains
 * the id of the mirror it describes.
 */
static const char schema_15_commits[] =
	"ALTER TABLE mirror_state ADD COLUMN owner TEXT COLLATE \"C\";\n"
	"\n"
	"ALTER TABLE changes ADD COLUMN batch BIGINT;\n"
	"UPDATE changes SET batch = seq;\n"
	"ALTER TABLE changes ALTER COLUMN batch SET NOT NULL;\n"
	"CREATE INDEX changes_by_batch ON changes (batch);\n"
	"\n"
	"CREATE TABLE commits (\n"
	"  n BIGINT PRIMARY KEY CHECK (n >= 1),\n"
	"  batch BIGINT NOT NULL UNIQUE\n"
	");\n"
	"INSERT INTO commits (n, batch) SELECT seq, seq FROM changes;\n"
	"CREATE TABLE commit_counter (\n"
	"  id BIGINT PRIMARY KEY CHECK (id = 1),\n"
	"  n BIGINT NOT NULL CHECK (n >= 0)\n"
	");\n"
	"INSERT INTO commit_counter (id, n)\n"
	"  SELECT 1, coalesce(max(seq), 0) FROM changes;\n"
	"\n"
	"CREATE SEQUENCE change_batches;\n"
	"SELECT setval('change_batches',\n"
	"  (SELECT coalesce(max(seq), 0) + 1 FROM changes), false);\n"
	"CREATE FUNCTION redress_batch() RETURNS BIGINT\n"
	"LANGUAGE plpgsql AS $$\n"
	"DECLARE\n"
	"  b TEXT := current_setting('redress.batch', true);\n"
	"BEGIN\n"
	"  IF b IS NULL OR b = '' THEN\n"
	"    b := nextval('change_batches')::TEXT;\n"
	"    PERFORM set_config('redress.batch', b, true);\n"
	"  END IF;\n"
	"  RETURN b::BIGINT;\n"
	"END\n"
	"$$;\n"
	"\n"
	"UPDATE redress_schema SET version = 15;\n";

static const char *const schema_15[] = {
	schema_15_commits,
	NULL
};

/* 16: the state of mirrors that are not the record's now (schema.c). */
static const char schema_16_saved[] =
	"CREATE TABLE mirror_saved (\n"
	"  owner TEXT COLLATE \"C\" PRIMARY KEY,\n"
	"  position BIGINT NOT NULL CHECK (position >= 0)\n"
	");\n"
	"CREATE TABLE mirror_saved_packs (\n"
	"  owner TEXT COLLATE \"C\" NOT NULL,\n"
	"  name TEXT COLLATE \"C\" NOT NULL,\n"
	"  first_change BIGINT NOT NULL,\n"
	"  last_change BIGINT NOT NULL,\n"
	"  objects BIGINT NOT NULL,\n"
	"  superseded_at BIGINT,\n"
	"  plain BIGINT NOT NULL,\n"
	"  PRIMARY KEY (owner, name)\n"
	");\n"
	"\n"
	"UPDATE redress_schema SET version = 16;\n";

static const char *const schema_16[] = {
	schema_16_saved,
	NULL
};

/*
 * 17: the running totals in shards. Every change that moves a dispute
 * updates a few rows of totals (its state's and storefront's), and
 * concurrent changes on several connections (several nodes, or a node's
 * several writers) queued on those same rows, holding each until their
 * commit, and two changes moving disputes in opposite directions took
 * them in opposite order: a deadlock. Each total is now the sum of its
 * rows over up to 64 shards, and a session writes only the rows of its
 * own shard, so that two sessions never wait on each other's totals.
 *
 * A session's shard is the first of 64 session advisory locks
 * (single-bigint keys from 8243105135462675240, next to the schema's and
 * the mirror's) it can take, claimed at its first write of a total and
 * kept in the setting redress.shard until the connection ends, which
 * frees the lock. Beyond 64 writing sessions a session shares a shard
 * (its process id's), which only makes it wait as before. A shard's row
 * may go below zero (a dispute opened through one shard and moved through
 * another); the sum never does, and readers clamp it at zero regardless.
 * The rows of before 17 become shard 0. The functions that move totals
 * are PL/pgSQL, whose plans a session keeps (a SQL function called from
 * a trigger is planned at every call).
 *
 * And the record's objects are compressed with lz4 where the server was
 * built with it (Debian's is): a dispute's trees grow with its history,
 * and compressing them with pglz, the default, cost more than any
 * statement of a change.
 */
static const char schema_17_shards[] =
	"CREATE FUNCTION redress_shard() RETURNS INT\n"
	"LANGUAGE plpgsql AS $$\n"
	"DECLARE\n"
	"  s TEXT := current_setting('redress.shard', true);\n"
	"BEGIN\n"
	"  IF s IS NULL OR s = '' THEN\n"
	"    s := (pg_backend_pid() % 64)::TEXT;\n"
	"    FOR i IN 0..63 LOOP\n"
	"      IF pg_try_advisory_lock(8243105135462675240 + i) THEN\n"
	"        s := i::TEXT;\n"
	"        EXIT;\n"
	"      END IF;\n"
	"    END LOOP;\n"
	"    PERFORM set_config('redress.shard', s, false);\n"
	"  END IF;\n"
	"  RETURN s::INT;\n"
	"END\n"
	"$$;\n"
	"\n"
	"ALTER TABLE stats_states ADD COLUMN shard INT NOT NULL DEFAULT 0\n"
	"  CHECK (shard BETWEEN 0 AND 63);\n"
	"ALTER TABLE stats_states DROP CONSTRAINT stats_states_pkey;\n"
	"ALTER TABLE stats_states DROP CONSTRAINT stats_states_disputes_check;\n"
	"ALTER TABLE stats_states ADD PRIMARY KEY (state, shard);\n"
	"ALTER TABLE stats_totals ADD COLUMN shard INT NOT NULL DEFAULT 0\n"
	"  CHECK (shard BETWEEN 0 AND 63);\n"
	"ALTER TABLE stats_totals DROP CONSTRAINT stats_totals_pkey;\n"
	"ALTER TABLE stats_totals DROP CONSTRAINT stats_totals_value_check;\n"
	"ALTER TABLE stats_totals ADD PRIMARY KEY (name, shard);\n"
	"ALTER TABLE stats_overview ADD COLUMN shard INT NOT NULL DEFAULT 0\n"
	"  CHECK (shard BETWEEN 0 AND 63);\n"
	"ALTER TABLE stats_overview DROP CONSTRAINT stats_overview_pkey;\n"
	"ALTER TABLE stats_overview\n"
	"  DROP CONSTRAINT stats_overview_value_check;\n"
	"ALTER TABLE stats_overview ADD PRIMARY KEY (storefront, what, name,\n"
	"  shard);\n"
	"\n"
	"-- lz4 where the server has it\n"
	"DO $$\n"
	"BEGIN\n"
	"  IF 'lz4' = ANY ((SELECT enumvals FROM pg_settings\n"
	"      WHERE name = 'default_toast_compression')::TEXT[]) THEN\n"
	"    ALTER TABLE objects ALTER COLUMN data SET COMPRESSION lz4;\n"
	"  END IF;\n"
	"END $$;\n";

/* 17, the functions that move the totals in the session's shard */
static const char schema_17_functions[] =
	"-- a total moved by `delta` in the session's shard\n"
	"CREATE FUNCTION stats_state_add(label TEXT, delta BIGINT)\n"
	"  RETURNS void LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  INSERT INTO stats_states AS s (state, shard, disputes)\n"
	"    VALUES (label, redress_shard(), delta)\n"
	"    ON CONFLICT (state, shard)\n"
	"    DO UPDATE SET disputes = s.disputes + excluded.disputes;\n"
	"END $$;\n"
	"CREATE FUNCTION stats_total_add(label TEXT, delta BIGINT)\n"
	"  RETURNS void LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  INSERT INTO stats_totals AS t (name, shard, value)\n"
	"    VALUES (label, redress_shard(), delta)\n"
	"    ON CONFLICT (name, shard)\n"
	"    DO UPDATE SET value = t.value + excluded.value;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION overview_add(sf TEXT, kind TEXT, label TEXT)\n"
	"  RETURNS void LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  INSERT INTO stats_overview AS o (storefront, what, name, shard,\n"
	"    value) VALUES (sf, kind, label, redress_shard(), 1)\n"
	"    ON CONFLICT (storefront, what, name, shard)\n"
	"    DO UPDATE SET value = o.value + 1;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION overview_sub(sf TEXT, kind TEXT,\n"
	"  label TEXT) RETURNS void LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  INSERT INTO stats_overview AS o (storefront, what, name, shard,\n"
	"    value) VALUES (sf, kind, label, redress_shard(), -1)\n"
	"    ON CONFLICT (storefront, what, name, shard)\n"
	"    DO UPDATE SET value = o.value - 1;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION storefront_of(dispute TEXT) RETURNS TEXT\n"
	"  LANGUAGE plpgsql STABLE AS $$\n"
	"BEGIN\n"
	"  RETURN coalesce((SELECT storefront FROM disputes\n"
	"    WHERE id = dispute), '');\n"
	"END $$;\n"
	"\n"
	"CREATE OR REPLACE FUNCTION stats_dispute_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM stats_state_add(NEW.state, 1);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION stats_dispute_state() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM stats_state_add(OLD.state, -1);\n"
	"  PERFORM stats_state_add(NEW.state, 1);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION stats_dispute_delete() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM stats_state_add(OLD.state, -1);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION stats_sla_breach() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM stats_total_add('sla_breaches', 1);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION stats_evidence_insert() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM stats_total_add('evidence_bytes', NEW.size);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE OR REPLACE FUNCTION stats_evidence_size() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM stats_total_add('evidence_bytes', NEW.size - OLD.size);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"\n"
	"UPDATE redress_schema SET version = 17;\n";

static const char *const schema_17[] = {
	schema_17_shards,
	schema_17_functions,
	NULL
};

/*
 * 18: the outbox and the webhooks (schema.c says what each table is
 * for). What differs from SQLite: the outbox's rows carry their
 * transaction's batch, as changes do (15), so that the feed and the
 * fan-out to endpoints follow commit order through `commits` and never
 * pass a row that commits late; an endpoint's position is a commit
 * number and a row number within it. The rows' times, which only the
 * hourly purge reads, are indexed by block ranges (BRIN): they grow with
 * the rows, and a change then maintains no b-tree for them.
 */
static const char schema_18_outbox[] =
	"CREATE TABLE outbox_events (\n"
	"  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  id TEXT COLLATE \"C\" NOT NULL UNIQUE CHECK (length(id) = 30),\n"
	"  batch BIGINT NOT NULL DEFAULT redress_batch(),\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL,\n"
	"  storefront TEXT COLLATE \"C\" NOT NULL,\n"
	"  version BIGINT NOT NULL CHECK (version >= 1),\n"
	"  type TEXT COLLATE \"C\" NOT NULL,\n"
	"  created_at BIGINT NOT NULL,\n"
	"  payload TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX outbox_by_batch ON outbox_events (batch, seq);\n"
	"CREATE INDEX outbox_by_time ON outbox_events USING brin (created_at);\n"
	"\n"
	"CREATE TABLE webhook_endpoints (\n"
	"  id TEXT COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 29),\n"
	"  url TEXT NOT NULL CHECK (octet_length(url) BETWEEN 1 AND 2048),\n"
	"  events TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (octet_length(events) BETWEEN 1 AND 1024),\n"
	"  description TEXT NOT NULL CHECK (octet_length(description) <= 512),\n"
	"  storefront TEXT COLLATE \"C\"\n"
	"    CHECK (octet_length(storefront) BETWEEN 1 AND 64),\n"
	"  enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),\n"
	"  disabled_reason TEXT,\n"
	"  secret TEXT NOT NULL,\n"
	"  previous_secret TEXT,\n"
	"  previous_expires_at BIGINT,\n"
	"  created_at BIGINT NOT NULL,\n"
	"  updated_at BIGINT NOT NULL,\n"
	"  failing_since BIGINT,\n"
	"  position_n BIGINT NOT NULL CHECK (position_n >= 0),\n"
	"  position_seq BIGINT NOT NULL CHECK (position_seq >= 0),\n"
	"  idem_key_id TEXT COLLATE \"C\",\n"
	"  idem_key TEXT COLLATE \"C\",\n"
	"  idem_digest TEXT COLLATE \"C\"\n"
	");\n"
	"CREATE INDEX webhook_endpoints_by_storefront\n"
	"  ON webhook_endpoints (storefront);\n"
	"CREATE UNIQUE INDEX webhook_endpoints_by_idem\n"
	"  ON webhook_endpoints (idem_key_id, idem_key)\n"
	"  WHERE idem_key IS NOT NULL;\n"
	"\n"
	"CREATE TABLE webhook_deliveries (\n"
	"  n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  id TEXT COLLATE \"C\" NOT NULL UNIQUE CHECK (length(id) = 29),\n"
	"  endpoint_id TEXT COLLATE \"C\" NOT NULL\n"
	"    REFERENCES webhook_endpoints (id) ON DELETE CASCADE,\n"
	"  event_seq BIGINT NOT NULL,\n"
	"  event_id TEXT COLLATE \"C\" NOT NULL,\n"
	"  event_type TEXT COLLATE \"C\" NOT NULL,\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL,\n"
	"  version BIGINT NOT NULL,\n"
	"  status TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (status IN ('pending', 'delivered', 'failed')),\n"
	"  tries BIGINT NOT NULL DEFAULT 0 CHECK (tries >= 0),\n"
	"  attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  next_at BIGINT,\n"
	"  leased_until BIGINT,\n"
	"  lease TEXT COLLATE \"C\",\n"
	"  created_at BIGINT NOT NULL,\n"
	"  finished_at BIGINT\n"
	");\n"
	"CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at)\n"
	"  WHERE status = 'pending';\n"
	"CREATE INDEX webhook_deliveries_order\n"
	"  ON webhook_deliveries (endpoint_id, dispute_id, n)\n"
	"  WHERE status = 'pending';\n"
	"CREATE INDEX webhook_deliveries_of ON webhook_deliveries (endpoint_id, n);\n"
	"CREATE INDEX webhook_deliveries_lease ON webhook_deliveries (lease)\n"
	"  WHERE lease IS NOT NULL;\n"
	"CREATE INDEX webhook_deliveries_finished\n"
	"  ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;\n"
	"\n"
	"CREATE TABLE webhook_attempts (\n"
	"  delivery_n BIGINT NOT NULL\n"
	"    REFERENCES webhook_deliveries (n) ON DELETE CASCADE,\n"
	"  n BIGINT NOT NULL CHECK (n >= 1),\n"
	"  at BIGINT NOT NULL,\n"
	"  status_code BIGINT,\n"
	"  latency_ms BIGINT NOT NULL,\n"
	"  answer TEXT NOT NULL,\n"
	"  error TEXT,\n"
	"  next_at BIGINT,\n"
	"  PRIMARY KEY (delivery_n, n)\n"
	");\n"
	"\n"
	"UPDATE redress_schema SET version = 18;\n";

static const char *const schema_18[] = {
	schema_18_outbox,
	NULL
};

/* 19: messages and reply clocks (schema.c says what each table is for). */
static const char schema_19_messages[] =
	"CREATE TABLE messages (\n"
	"  dispute_id TEXT COLLATE \"C\" NOT NULL REFERENCES disputes (id),\n"
	"  n BIGINT NOT NULL CHECK (n >= 1),\n"
	"  version BIGINT NOT NULL CHECK (version >= 1),\n"
	"  direction TEXT COLLATE \"C\" NOT NULL\n"
	"    CHECK (direction IN ('inbound', 'outbound', 'internal')),\n"
	"  channel TEXT COLLATE \"C\" NOT NULL CHECK (channel IN\n"
	"    ('chat', 'email', 'phone', 'platform', 'sms', 'other')),\n"
	"  body TEXT NOT NULL CHECK (octet_length(body) <= 65536),\n"
	"  language TEXT COLLATE \"C\"\n"
	"    CHECK (length(language) BETWEEN 1 AND 35),\n"
	"  author TEXT NOT NULL CHECK (length(author) BETWEEN 1 AND 127),\n"
	"  role TEXT COLLATE \"C\" NOT NULL,\n"
	"  key_id TEXT COLLATE \"C\" NOT NULL,\n"
	"  evidence TEXT NOT NULL,\n"
	"  template TEXT COLLATE \"C\",\n"
	"  template_locale TEXT COLLATE \"C\",\n"
	"  fell_back BIGINT NOT NULL DEFAULT 0 CHECK (fell_back IN (0, 1)),\n"
	"  call TEXT,\n"
	"  created_at BIGINT NOT NULL,\n"
	"  PRIMARY KEY (dispute_id, n)\n"
	");\n"
	"CREATE FUNCTION redress_messages_append_only() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  RAISE EXCEPTION 'messages are append-only';\n"
	"END $$;\n"
	"CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages\n"
	"  FOR EACH ROW EXECUTE FUNCTION redress_messages_append_only();\n"
	"\n"
	"CREATE TABLE reply_deadlines (\n"
	"  dispute_id TEXT COLLATE \"C\" PRIMARY KEY REFERENCES disputes (id),\n"
	"  due_at BIGINT NOT NULL CHECK (due_at > 0),\n"
	"  since_n BIGINT NOT NULL CHECK (since_n >= 1),\n"
	"  event TEXT COLLATE \"C\" CHECK (length(event) BETWEEN 1 AND 63)\n"
	");\n"
	"CREATE INDEX reply_deadlines_due\n"
	"  ON reply_deadlines (due_at, dispute_id);\n"
	"\n"
	"-- a message posted with an Idempotency-Key (schema.c)\n"
	"ALTER TABLE idempotency DROP CONSTRAINT idempotency_operation_check;\n"
	"ALTER TABLE idempotency DROP CONSTRAINT idempotency_check;\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_operation_check\n"
	"  CHECK (operation IN ('open', 'event', 'evidence', 'message'));\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_check\n"
	"  CHECK ((operation IN ('evidence', 'message')) =\n"
	"    (evidence_n IS NOT NULL));\n"
	"\n"
	"UPDATE redress_schema SET version = 19;\n";

static const char *const schema_19[] = {
	schema_19_messages,
	NULL
};

/*
 * 20: finding disputes (schema.c says what and why). The full-text index
 * is dispute_search, a tsvector per dispute under a GIN index, made with
 * the 'simple' configuration (case folded, nothing stemmed: the text is in
 * any language) over the text redress_fold gives: without its accents
 * where the unaccent extension (a trusted one, in PostgreSQL's contrib)
 * can be had, else as it is, so that a server without it still upgrades
 * (schema_20_fold, whose failed attempt its exception block undoes).
 * Weighted A for the references and SKUs, B the titles, C the
 * description and D the messages, for ts_rank. redress_search_refresh
 * makes a dispute's row again, called by triggers in the transaction of
 * the write; the messages' text is cut at 256 KiB, so that a long
 * conversation stays within the 1 MB a tsvector may hold.
 */
static const char schema_20_fold[] =
	"DO $$\n"
	"BEGIN\n"
	"  BEGIN\n"
	"    CREATE EXTENSION IF NOT EXISTS unaccent;\n"
	"    CREATE FUNCTION redress_fold(t TEXT) RETURNS TEXT\n"
	"      LANGUAGE sql STABLE AS 'SELECT unaccent(t)';\n"
	"  EXCEPTION WHEN OTHERS THEN\n"
	"    CREATE FUNCTION redress_fold(t TEXT) RETURNS TEXT\n"
	"      LANGUAGE sql IMMUTABLE AS 'SELECT t';\n"
	"  END;\n"
	"END $$;\n";

static const char schema_20_search[] =
	"CREATE TABLE dispute_search (\n"
	"  dispute_id TEXT COLLATE \"C\" PRIMARY KEY\n"
	"    REFERENCES disputes (id) ON DELETE CASCADE,\n"
	"  doc TSVECTOR NOT NULL\n"
	");\n"
	"CREATE INDEX dispute_search_doc ON dispute_search USING GIN (doc);\n"
	"\n"
	"CREATE FUNCTION redress_search_refresh(dispute TEXT) RETURNS void\n"
	"  LANGUAGE sql AS $$\n"
	"  INSERT INTO dispute_search (dispute_id, doc)\n"
	"  SELECT d.id,\n"
	"    setweight(to_tsvector('simple', redress_fold(d.order_ref || ' '\n"
	"      || coalesce(d.buyer_ref, '') || ' '\n"
	"      || coalesce((SELECT string_agg(i.sku, ' ') FROM items AS i\n"
	"        WHERE i.dispute_id = d.id), ''))), 'A')\n"
	"    || setweight(to_tsvector('simple', redress_fold(\n"
	"      coalesce((SELECT string_agg(i.title, ' ') FROM items AS i\n"
	"        WHERE i.dispute_id = d.id), ''))), 'B')\n"
	"    || setweight(to_tsvector('simple',\n"
	"      redress_fold(coalesce(d.description, ''))), 'C')\n"
	"    || setweight(to_tsvector('simple', redress_fold(left(coalesce(\n"
	"      (SELECT string_agg(m.body, ' ' ORDER BY m.n) FROM messages AS m\n"
	"        WHERE m.dispute_id = d.id AND m.direction <> 'internal'), ''),\n"
	"      262144))), 'D')\n"
	"  FROM disputes AS d WHERE d.id = dispute\n"
	"  ON CONFLICT (dispute_id) DO UPDATE SET doc = excluded.doc;\n"
	"$$;\n"
	"\n"
	"CREATE FUNCTION search_dispute_changed() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM redress_search_refresh(new.id);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER search_dispute_insert AFTER INSERT ON disputes\n"
	"  FOR EACH ROW EXECUTE FUNCTION search_dispute_changed();\n"
	"CREATE TRIGGER search_dispute_text\n"
	"  AFTER UPDATE OF order_ref, buyer_ref, description ON disputes\n"
	"  FOR EACH ROW EXECUTE FUNCTION search_dispute_changed();\n"
	"\n"
	"CREATE FUNCTION search_row_inserted() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM redress_search_refresh(new.dispute_id);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE FUNCTION search_row_deleted() RETURNS trigger\n"
	"  LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM redress_search_refresh(old.dispute_id);\n"
	"  RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER search_item_insert AFTER INSERT ON items\n"
	"  FOR EACH ROW EXECUTE FUNCTION search_row_inserted();\n"
	"CREATE TRIGGER search_item_delete AFTER DELETE ON items\n"
	"  FOR EACH ROW EXECUTE FUNCTION search_row_deleted();\n"
	"CREATE TRIGGER search_message_insert AFTER INSERT ON messages\n"
	"  FOR EACH ROW WHEN (new.direction <> 'internal')\n"
	"  EXECUTE FUNCTION search_row_inserted();\n"
	"\n"
	"-- what earlier releases wrote\n"
	"SELECT redress_search_refresh(id) FROM disputes;\n"
	"\n"
	"CREATE INDEX disputes_order_ref ON disputes (order_ref, created_at, id);\n"
	"CREATE INDEX disputes_buyer\n"
	"  ON disputes (storefront, buyer_ref, created_at, id);\n"
	"CREATE INDEX disputes_buyer_ref ON disputes (buyer_ref, created_at, id);\n"
	"CREATE INDEX disputes_updated ON disputes (updated_at, id);\n"
	"CREATE INDEX items_sku ON items (sku, dispute_id);\n"
	"\n"
	"UPDATE redress_schema SET version = 20;\n";

static const char *const schema_20[] = {
	schema_20_fold,
	schema_20_search,
	NULL
};

/* 21: ownership (schema.c says why); names are cut by characters here. */
static const char schema_21_ownership[] =
	"UPDATE api_keys AS k\n"
	"  SET name = CASE WHEN octet_length(k.name) <= 57 THEN k.name\n"
	"    ELSE left(k.name, 14) END || '~' || left(k.id, 6)\n"
	"  WHERE k.revoked_at IS NULL AND EXISTS (\n"
	"    SELECT 1 FROM api_keys AS older\n"
	"    WHERE older.role = k.role AND older.name = k.name\n"
	"      AND older.revoked_at IS NULL\n"
	"      AND (older.created_at, older.id) < (k.created_at, k.id));\n"
	"CREATE UNIQUE INDEX api_keys_live_name ON api_keys (role, name)\n"
	"  WHERE revoked_at IS NULL;\n"
	"CREATE INDEX disputes_assignee_open ON disputes (assignee, state)\n"
	"  WHERE outcome IS NULL;\n"
	"CREATE INDEX disputes_unassigned ON disputes (created_at, id)\n"
	"  WHERE assignee IS NULL AND outcome IS NULL;\n"
	"\n"
	"UPDATE redress_schema SET version = 21;\n";

static const char *const schema_21[] = {
	schema_21_ownership,
	NULL
};

/* 22: bulk events' idempotency (schema.c) */
static const char schema_22_bulk[] =
	"ALTER TABLE idempotency ALTER COLUMN dispute_id DROP NOT NULL;\n"
	"ALTER TABLE idempotency DROP CONSTRAINT idempotency_operation_check;\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_operation_check\n"
	"  CHECK (operation IN\n"
	"    ('open', 'event', 'evidence', 'message', 'bulk'));\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_bulk_check\n"
	"  CHECK ((operation = 'bulk') = (dispute_id IS NULL));\n"
	"\n"
	"UPDATE redress_schema SET version = 22;\n";

static const char *const schema_22[] = {
	schema_22_bulk,
	NULL
};

/* 23: claims' idempotency (schema.c) */
static const char schema_23_claim[] =
	"ALTER TABLE idempotency DROP CONSTRAINT idempotency_operation_check;\n"
	"ALTER TABLE idempotency DROP CONSTRAINT idempotency_bulk_check;\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_operation_check\n"
	"  CHECK (operation IN\n"
	"    ('open', 'event', 'evidence', 'message', 'bulk', 'claim'));\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_bulk_check\n"
	"  CHECK (operation <> 'bulk' OR dispute_id IS NULL);\n"
	"ALTER TABLE idempotency ADD CONSTRAINT idempotency_dispute_check\n"
	"  CHECK (operation IN ('bulk', 'claim') OR dispute_id IS NOT NULL);\n"
	"\n"
	"UPDATE redress_schema SET version = 23;\n";

static const char *const schema_23[] = {
	schema_23_claim,
	NULL
};

/*
 * The scripts in order: each takes a database from `from` to `to`, its
 * parts run one after the other.
 */
static const struct {
	int from;
	int to;
	const char *const *parts;
} scripts[] = {
	{ 0, 13, schema_13 },
	{ 13, 14, schema_14 },
	{ 14, 15, schema_15 },
	{ 15, 16, schema_16 },
	{ 16, 17, schema_17 },
	{ 17, 18, schema_18 },
	{ 18, 19, schema_19 },
	{ 19, 20, schema_20 },
	{ 20, 21, schema_21 },
	{ 21, 22, schema_22 },
	{ 22, 23, schema_23 },
};

#define SCRIPT_COUNT ((int)(sizeof(scripts) / sizeof(scripts[0])))

static const char HAS_TABLE_SQL[] =
	"SELECT count(*) FROM pg_catalog.pg_tables"
	" WHERE schemaname = current_schema()"
	" AND tablename = 'redress_schema'";
static const char VERSION_SQL[] = "SELECT version FROM redress_schema";

/* Step a one-off statement answering one integer into *out. */
static int read_integer(rd_store *st, const char *sql, int64_t *out,
			rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret = RD_OK;

	rc = rd_db_prepare(st->db, sql, &stmt);
	if (rc == RD_DB_OK)
		rc = rd_db_step(stmt);
	if (rc == RD_DB_DONE)
		ret = rd_error_set(err, RD_EIO, "%s has no schema version "
				   "(its table redress_schema is empty)",
				   st->path);
	else if (rc != RD_DB_ROW)
		ret = rd_store__fail(st, rc, err, "cannot read the schema "
				     "version of %s", st->path);
	else
		*out = rd_db_column_int64(stmt, 0);
	rd_db_finalize(stmt);
	return ret;
}

/* The schema version of the database, 0 for one without redress tables. */
static int read_version(rd_store *st, int *out, rd_error *err)
{
	int64_t value = 0;
	int ret;

	*out = 0;
	if ((ret = read_integer(st, HAS_TABLE_SQL, &value, err)) < 0 ||
	    value == 0)
		return ret;
	if ((ret = read_integer(st, VERSION_SQL, &value, err)) < 0)
		return ret;
	*out = (int)value;  /* an INT column */
	return RD_OK;
}

int rd_store__migrate_pg(rd_store *st, int target, rd_error *err)
{
	char doing[640];
	int found = 0;
	int ret;

	if (target < PG_SCHEMA_FIRST)
		return rd_error_set(err, RD_EINVALID,
				    "%s: PostgreSQL records start at schema "
				    "%d, schema %d was asked for", st->path,
				    PG_SCHEMA_FIRST, target);
	if (target > PG_SCHEMA_NEWEST)
		return rd_error_set(err, RD_EINTERNAL,
				    "schema %d requested, this build knows "
				    "%d to %d on PostgreSQL", target,
				    PG_SCHEMA_FIRST, PG_SCHEMA_NEWEST);
	if ((ret = read_version(st, &found, err)) < 0)
		return ret;
	if (found > PG_SCHEMA_NEWEST)
		return rd_store__refuse_newer(st, found, PG_SCHEMA_NEWEST, err);
	if (found >= target) {
		st->schema = found;
		return RD_OK;
	}

	snprintf(doing, sizeof(doing), "cannot lock %s to upgrade its schema",
		 st->path);
	if ((ret = rd_store__exec_script(st, "BEGIN", doing, err)) < 0 ||
	    (ret = rd_store__exec_script(st, SCHEMA_LOCK_SQL, doing, err)) < 0)
		goto done;
	/* another node may have upgraded while we waited for the lock */
	if ((ret = read_version(st, &found, err)) < 0)
		goto done;
	if (found > PG_SCHEMA_NEWEST) {
		ret = rd_store__refuse_newer(st, found, PG_SCHEMA_NEWEST, err);
		goto done;
	}
	for (int i = 0; i < SCRIPT_COUNT && found < target; i++) {
		if (scripts[i].from != found || scripts[i].to > target)
			continue;
		snprintf(doing, sizeof(doing),
			 "cannot apply schema %d to %s", scripts[i].to,
			 st->path);
		for (const char *const *part = scripts[i].parts; *part; part++)
			if ((ret = rd_store__exec_script(st, *part, doing,
							 err)) < 0)
				goto done;
		found = scripts[i].to;
	}
	if (found < target) {
		ret = rd_error_set(err, RD_EINVALID,
				   "%s has schema %d, from which this build "
				   "cannot reach schema %d on PostgreSQL",
				   st->path, found, target);
		goto done;
	}
	snprintf(doing, sizeof(doing), "cannot commit the schema upgrade of %s",
		 st->path);
	if ((ret = rd_store__exec_script(st, "COMMIT", doing, err)) < 0)
		goto done;
	st->schema = found;
done:
	if (ret < 0 && rd_db_in_transaction(st->db))
		(void)rd_db_exec(st->db, "ROLLBACK");
	return ret;
}
