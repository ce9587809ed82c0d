/*
 * The store's schema, as an ordered list of migration scripts.
 *
 * PRAGMA user_version N means scripts 1..N have been applied. Scripts are
 * only ever appended: a released script must never be edited, because
 * databases in the field already ran it. Each script ends by setting
 * user_version to its own number, so the version is written as a constant
 * and never formatted into SQL. Missing scripts are applied together in
 * one BEGIN IMMEDIATE transaction: a crash or a failure leaves the database
 * exactly as it was. A PostgreSQL database has scripts of its own
 * (schema_pg.c), which rd_store__migrate hands it to.
 */
#include <stdio.h>

#include "store/store_int.h"

/*
 * 1: disputes, their items, the append-only event log, SLA deadlines and
 * the workflow definitions disputes are pinned to. Tables are STRICT, so
 * a value of the wrong type is refused instead of being stored as text.
 */
static const char migration_1[] =
	"CREATE TABLE workflows (\n"
	"  hash TEXT PRIMARY KEY NOT NULL CHECK (length(hash) = 64),\n"
	"  name TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  source TEXT NOT NULL,\n"
	"  first_seen INTEGER NOT NULL,\n"
	"  -- a (name, version) names one definition, or pinning means nothing\n"
	"  UNIQUE (name, version)\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE disputes (\n"
	"  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),\n"
	"  order_ref TEXT NOT NULL,\n"
	"  storefront TEXT NOT NULL,\n"
	"  buyer_ref TEXT,\n"
	"  currency TEXT NOT NULL CHECK (length(currency) = 3),\n"
	"  reason TEXT NOT NULL,\n"
	"  channel TEXT NOT NULL,\n"
	"  locale TEXT,\n"
	"  description TEXT,\n"
	"  shipping_paid INTEGER NOT NULL CHECK (shipping_paid >= 0),\n"
	"  ship_cost INTEGER CHECK (ship_cost >= 0),\n"
	"  return_cost INTEGER CHECK (return_cost >= 0),\n"
	"  workflow_name TEXT NOT NULL,\n"
	"  workflow_version INTEGER NOT NULL CHECK (workflow_version >= 1),\n"
	"  workflow_hash TEXT NOT NULL REFERENCES workflows (hash),\n"
	"  state TEXT NOT NULL,\n"
	"  outcome TEXT,\n"
	"  assignee TEXT,\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  created_at INTEGER NOT NULL,\n"
	"  updated_at INTEGER NOT NULL\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"-- one index per list filter, each ending in the list order\n"
	"CREATE INDEX disputes_created ON disputes (created_at, id);\n"
	"CREATE INDEX disputes_state ON disputes (state, created_at, id);\n"
	"CREATE INDEX disputes_storefront\n"
	"  ON disputes (storefront, created_at, id);\n"
	"CREATE INDEX disputes_reason ON disputes (reason, created_at, id);\n"
	"CREATE INDEX disputes_assignee\n"
	"  ON disputes (assignee, created_at, id);\n"
	"\n"
	"CREATE TABLE items (\n"
	"  dispute_id TEXT NOT NULL REFERENCES disputes (id),\n"
	"  idx INTEGER NOT NULL CHECK (idx >= 0),\n"
	"  sku TEXT NOT NULL,\n"
	"  title TEXT,\n"
	"  quantity INTEGER NOT NULL CHECK (quantity >= 1),\n"
	"  unit_price INTEGER NOT NULL CHECK (unit_price >= 0),\n"
	"  unit_cost INTEGER CHECK (unit_cost >= 0),\n"
	"  PRIMARY KEY (dispute_id, idx)\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE events (\n"
	"  dispute_id TEXT NOT NULL REFERENCES disputes (id),\n"
	"  seq INTEGER NOT NULL CHECK (seq >= 1),\n"
	"  event TEXT NOT NULL,\n"
	"  actor_role TEXT NOT NULL,\n"
	"  actor_name TEXT NOT NULL,\n"
	"  actor_key TEXT,\n"
	"  at INTEGER NOT NULL,\n"
	"  from_state TEXT,\n"
	"  to_state TEXT NOT NULL,\n"
	"  fields TEXT NOT NULL CHECK (json_valid(fields)),\n"
	"  note TEXT,\n"
	"  PRIMARY KEY (dispute_id, seq)\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"-- the audit trail is append-only, whoever writes to the file\n"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
	"BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
	"BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
	"\n"
	"CREATE TABLE deadlines (\n"
	"  dispute_id TEXT PRIMARY KEY NOT NULL REFERENCES disputes (id),\n"
	"  due_at INTEGER NOT NULL CHECK (due_at > 0),\n"
	"  event TEXT NOT NULL CHECK (length(event) BETWEEN 1 AND 63),\n"
	"  state TEXT NOT NULL CHECK (length(state) BETWEEN 1 AND 63)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX deadlines_due ON deadlines (due_at, dispute_id);\n"
	"\n"
	"PRAGMA user_version = 1;\n";

/*
 * 2: the evidence index (the files live elsewhere) and settlement offers.
 * At most one offer per dispute may be awaiting the buyer's answer.
 */
static const char migration_2[] =
	"CREATE TABLE evidence (\n"
	"  dispute_id TEXT NOT NULL REFERENCES disputes (id),\n"
	"  n INTEGER NOT NULL CHECK (n >= 1),\n"
	"  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 31),\n"
	"  channel TEXT NOT NULL CHECK (length(channel) BETWEEN 1 AND 15),\n"
	"  submitted_by TEXT NOT NULL,\n"
	"  captured_at INTEGER,\n"
	"  added_at INTEGER NOT NULL,\n"
	"  content_type TEXT NOT NULL,\n"
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),\n"
	"  original_name TEXT,\n"
	"  withdrawn INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),\n"
	"  withdrawn_reason TEXT,\n"
	"  PRIMARY KEY (dispute_id, n)\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE offers (\n"
	"  dispute_id TEXT NOT NULL REFERENCES disputes (id),\n"
	"  offer_id TEXT NOT NULL CHECK (length(offer_id) BETWEEN 1 AND 47),\n"
	"  type TEXT NOT NULL,\n"
	"  buyer_refund INTEGER NOT NULL CHECK (buyer_refund >= 0),\n"
	"  buyer_copay INTEGER NOT NULL CHECK (buyer_copay >= 0),\n"
	"  seller_cost INTEGER,\n"
	"  status TEXT NOT NULL CHECK (status IN\n"
	"    ('made', 'accepted', 'rejected', 'countered', 'expired')),\n"
	"  made_at INTEGER NOT NULL,\n"
	"  decided_at INTEGER,\n"
	"  event_seq INTEGER NOT NULL CHECK (event_seq >= 1),\n"
	"  PRIMARY KEY (dispute_id, offer_id)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE UNIQUE INDEX offers_one_made ON offers (dispute_id)\n"
	"  WHERE status = 'made';\n"
	"\n"
	"PRAGMA user_version = 2;\n";

/*
 * 3: what ties the index to the git history that is the record of truth:
 * the commit the index last saw for each dispute, and for each evidence
 * item the submitter's note and where its content lives in git. The new
 * columns are NULL on rows written before, meaning "not recorded".
 */
static const char migration_3[] =
	"ALTER TABLE disputes ADD COLUMN head TEXT\n"
	"  CHECK (length(head) = 40 AND head NOT GLOB '*[^0-9a-f]*');\n"
	"ALTER TABLE evidence ADD COLUMN note TEXT;\n"
	"ALTER TABLE evidence ADD COLUMN path TEXT\n"
	"  CHECK (length(path) >= 1);\n"
	"ALTER TABLE evidence ADD COLUMN blob_oid TEXT\n"
	"  CHECK (length(blob_oid) = 40 AND blob_oid NOT GLOB '*[^0-9a-f]*');\n"
	"\n"
	"PRAGMA user_version = 3;\n";

/*
 * 4: API keys for the HTTP API. Only the SHA-256 of a key's secret is
 * kept, never the key. A storefront key is scoped to exactly one
 * storefront; no other key names one. Revoking sets revoked_at; rows are
 * never deleted, so an id is never reused.
 */
static const char migration_4[] =
	"CREATE TABLE api_keys (\n"
	"  id TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (length(id) = 16 AND id NOT GLOB '*[^0-9a-f]*'),\n"
	"  name TEXT NOT NULL\n"
	"    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 64),\n"
	"  role TEXT NOT NULL\n"
	"    CHECK (role IN ('agent', 'auditor', 'storefront', 'admin')),\n"
	"  storefront TEXT\n"
	"    CHECK (length(CAST(storefront AS BLOB)) BETWEEN 1 AND 64),\n"
	"  secret_sha256 TEXT NOT NULL CHECK (length(secret_sha256) = 64\n"
	"    AND secret_sha256 NOT GLOB '*[^0-9a-f]*'),\n"
	"  created_at INTEGER NOT NULL,\n"
	"  revoked_at INTEGER CHECK (revoked_at > 0),\n"
	"  -- a storefront key names its storefront; no other key names one\n"
	"  CHECK ((role = 'storefront') = (storefront IS NOT NULL))\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX api_keys_created ON api_keys (created_at, id);\n"
	"\n"
	"PRAGMA user_version = 4;\n";

/*
 * 5: running totals for monitoring (GET /metrics), kept by triggers in the
 * same transaction as the rows they count, so that reading them costs the
 * same whatever the number of disputes: disputes per state (a state keeps
 * its row, at 0, once every dispute has left it), the SLA deadlines fired
 * (events the sweeper records as system:sla, the dropped ones aside) and
 * the bytes of evidence stored (withdrawn evidence stays stored). The
 * totals start from the rows already there; a rebuilt index (reindex)
 * counts them again as its rows are written.
 */
static const char migration_5[] =
	"CREATE TABLE stats_states (\n"
	"  state TEXT PRIMARY KEY NOT NULL,\n"
	"  disputes INTEGER NOT NULL CHECK (disputes >= 0)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE stats_totals (\n"
	"  name TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (name IN ('sla_breaches', 'evidence_bytes')),\n"
	"  value INTEGER NOT NULL CHECK (value >= 0)\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"INSERT INTO stats_states (state, disputes)\n"
	"  SELECT state, count(*) FROM disputes GROUP BY state;\n"
	"INSERT INTO stats_totals (name, value) VALUES\n"
	"  ('sla_breaches', (SELECT count(*) FROM events\n"
	"    WHERE actor_role = 'system' AND actor_name = 'sla'\n"
	"    AND event <> 'deadline_dropped')),\n"
	"  ('evidence_bytes', (SELECT coalesce(sum(size), 0) FROM evidence));\n"
	"\n"
	"CREATE TRIGGER stats_dispute_insert AFTER INSERT ON disputes\n"
	"BEGIN\n"
	"  INSERT INTO stats_states (state, disputes) VALUES (new.state, 1)\n"
	"    ON CONFLICT (state) DO UPDATE SET disputes = disputes + 1;\n"
	"END;\n"
	"CREATE TRIGGER stats_dispute_state AFTER UPDATE OF state ON disputes\n"
	"  WHEN old.state IS NOT new.state\n"
	"BEGIN\n"
	"  UPDATE stats_states SET disputes = disputes - 1\n"
	"    WHERE state = old.state;\n"
	"  INSERT INTO stats_states (state, disputes) VALUES (new.state, 1)\n"
	"    ON CONFLICT (state) DO UPDATE SET disputes = disputes + 1;\n"
	"END;\n"
	"CREATE TRIGGER stats_dispute_delete AFTER DELETE ON disputes\n"
	"BEGIN\n"
	"  UPDATE stats_states SET disputes = disputes - 1\n"
	"    WHERE state = old.state;\n"
	"END;\n"
	"-- the sweeper fires a deadline as system:sla (src/service/events.c)\n"
	"CREATE TRIGGER stats_sla_breach AFTER INSERT ON events\n"
	"  WHEN new.actor_role = 'system' AND new.actor_name = 'sla'\n"
	"  AND new.event <> 'deadline_dropped'\n"
	"BEGIN\n"
	"  UPDATE stats_totals SET value = value + 1\n"
	"    WHERE name = 'sla_breaches';\n"
	"END;\n"
	"CREATE TRIGGER stats_evidence_insert AFTER INSERT ON evidence\n"
	"BEGIN\n"
	"  UPDATE stats_totals SET value = value + new.size\n"
	"    WHERE name = 'evidence_bytes';\n"
	"END;\n"
	"CREATE TRIGGER stats_evidence_size AFTER UPDATE OF size ON evidence\n"
	"  WHEN old.size IS NOT new.size\n"
	"BEGIN\n"
	"  UPDATE stats_totals SET value = value - old.size + new.size\n"
	"    WHERE name = 'evidence_bytes';\n"
	"END;\n"
	"\n"
	"PRAGMA user_version = 5;\n";

/*
 * 6: requests made with an Idempotency-Key. A row is written in the same
 * transaction as the effect it records, so a retry finds either both or
 * neither. It keeps what a replay needs: the request's digest (a retry
 * with another request is refused), the operation, the dispute and the
 * response document. Rows are dropped after 24 hours.
 */
static const char migration_6[] =
	"CREATE TABLE idempotency (\n"
	"  key_id TEXT NOT NULL\n"
	"    CHECK (length(CAST(key_id AS BLOB)) BETWEEN 1 AND 63),\n"
	"  idem_key TEXT NOT NULL\n"
	"    CHECK (length(CAST(idem_key AS BLOB)) BETWEEN 1 AND 255),\n"
	"  request_sha256 TEXT NOT NULL CHECK (length(request_sha256) = 64\n"
	"    AND request_sha256 NOT GLOB '*[^0-9a-f]*'),\n"
	"  operation TEXT NOT NULL\n"
	"    CHECK (operation IN ('open', 'event', 'evidence')),\n"
	"  dispute_id TEXT NOT NULL,\n"
	"  evidence_n INTEGER CHECK (evidence_n > 0),\n"
	"  response TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (key_id, idem_key),\n"
	"  CHECK ((operation = 'evidence') = (evidence_n IS NOT NULL))\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX idempotency_created ON idempotency (created_at);\n"
	"\n"
	"PRAGMA user_version = 6;\n";

/*
 * 7: running totals for the console's overview (GET /v1/overview), per
 * storefront so that a storefront's key sees its own: disputes by state
 * and by reason, offers recorded and accepted by type, resolved disputes
 * by how long they took (from opening to the change that gave them their
 * outcome, in fixed buckets), and SLA deadlines fired. Kept by triggers in
 * the transaction of every change, like schema 5, so reading them costs
 * the same whatever the number of disputes; the totals start from the
 * rows already there.
 *
 * `name` holds the state, the reason, the offer type, or for
 * 'resolved_within' the bucket's upper bound in seconds ('inf' for the
 * last), and '' for 'sla_breaches'.
 */
/* The bucket of a resolved dispute row `d`: the least bound it fits. */
#define RESOLVED_BUCKET(d)                                                   \
	"coalesce(CAST((SELECT min(le) FROM overview_buckets WHERE le >= "    \
	d ".updated_at - " d ".created_at) AS TEXT), 'inf')"

/* Columns in table order: storefront, what, name, value. */
#define OVERVIEW_ADD(storefront, what, name, n)                              \
	" INSERT INTO stats_overview VALUES (" storefront ", '" what "', "   \
	name ", " n ") ON CONFLICT DO UPDATE SET value = value + 1;\n"

#define OVERVIEW_SUB(storefront, what, name)                                 \
	" UPDATE stats_overview SET value = value - 1 WHERE storefront = "   \
	storefront " AND what = '" what "' AND name = " name                 \
	" AND value > 0;\n"

#define STOREFRONT_OF(id)                                                    \
	"coalesce((SELECT storefront FROM disputes WHERE id = " id "), '')"

static const char migration_7[] =
	"CREATE TABLE stats_overview (\n"
	"  storefront TEXT NOT NULL,\n"
	"  what TEXT NOT NULL CHECK (what IN ('state', 'reason',\n"
	"    'offer_made', 'offer_accepted', 'resolved_within',\n"
	"    'sla_breaches')),\n"
	"  name TEXT NOT NULL,\n"
	"  value INTEGER NOT NULL CHECK (value >= 0),\n"
	"  PRIMARY KEY (storefront, what, name)\n"
	") STRICT, WITHOUT ROWID;\n"
	"-- the bounds of the resolution buckets, in seconds: 1 h to 30 days\n"
	"CREATE TABLE overview_buckets (le INTEGER PRIMARY KEY) STRICT;\n"
	"INSERT INTO overview_buckets (le) VALUES (3600), (14400), (43200),\n"
	"  (86400), (172800), (259200), (432000), (604800), (1209600),\n"
	"  (2592000);\n"
	"\n"
	"INSERT INTO stats_overview (storefront, what, name, value)\n"
	"  SELECT storefront, 'state', state, count(*) FROM disputes\n"
	"  GROUP BY storefront, state;\n"
	"INSERT INTO stats_overview (storefront, what, name, value)\n"
	"  SELECT storefront, 'reason', reason, count(*) FROM disputes\n"
	"  GROUP BY storefront, reason;\n"
	"INSERT INTO stats_overview (storefront, what, name, value)\n"
	"  SELECT d.storefront, 'resolved_within', " RESOLVED_BUCKET("d")
	", count(*)\n"
	"  FROM disputes AS d WHERE d.outcome IS NOT NULL GROUP BY 1, 3;\n"
	"INSERT INTO stats_overview (storefront, what, name, value)\n"
	"  SELECT d.storefront, 'offer_made', o.type, count(*)\n"
	"  FROM offers AS o JOIN disputes AS d ON d.id = o.dispute_id\n"
	"  GROUP BY 1, 3;\n"
	"INSERT INTO stats_overview (storefront, what, name, value)\n"
	"  SELECT d.storefront, 'offer_accepted', o.type, count(*)\n"
	"  FROM offers AS o JOIN disputes AS d ON d.id = o.dispute_id\n"
	"  WHERE o.status = 'accepted' GROUP BY 1, 3;\n"
	"INSERT INTO stats_overview (storefront, what, name, value)\n"
	"  SELECT d.storefront, 'sla_breaches', '', count(*)\n"
	"  FROM events AS e JOIN disputes AS d ON d.id = e.dispute_id\n"
	"  WHERE e.actor_role = 'system' AND e.actor_name = 'sla'\n"
	"  AND e.event <> 'deadline_dropped' GROUP BY 1;\n"
	"\n"
	"PRAGMA user_version = 7;\n";

/*
 * 8: the triggers that keep the totals of schema 7, in the transaction of
 * every change. Schemas 7 and 8 are applied together (every missing
 * script runs in one transaction), so no change falls between the first
 * count and the triggers.
 */
static const char migration_8[] =
	"CREATE TRIGGER overview_dispute_insert AFTER INSERT ON disputes\n"
	"BEGIN\n"
	OVERVIEW_ADD("new.storefront", "state", "new.state", "1")
	OVERVIEW_ADD("new.storefront", "reason", "new.reason", "1")
	" INSERT INTO stats_overview SELECT new.storefront,"
	" 'resolved_within', " RESOLVED_BUCKET("new") ", 1"
	" WHERE new.outcome IS NOT NULL"
	" ON CONFLICT DO UPDATE SET value = value + 1;\n"
	"END;\n"
	"CREATE TRIGGER overview_dispute_state\n"
	"  AFTER UPDATE OF state, storefront ON disputes\n"
	"  WHEN old.state IS NOT new.state\n"
	"    OR old.storefront IS NOT new.storefront\n"
	"BEGIN\n"
	OVERVIEW_SUB("old.storefront", "state", "old.state")
	OVERVIEW_ADD("new.storefront", "state", "new.state", "1")
	"END;\n"
	"CREATE TRIGGER overview_dispute_reason\n"
	"  AFTER UPDATE OF reason, storefront ON disputes\n"
	"  WHEN old.reason IS NOT new.reason\n"
	"    OR old.storefront IS NOT new.storefront\n"
	"BEGIN\n"
	OVERVIEW_SUB("old.storefront", "reason", "old.reason")
	OVERVIEW_ADD("new.storefront", "reason", "new.reason", "1")
	"END;\n"
	"-- a dispute is resolved once: the change that gives it an outcome\n"
	"CREATE TRIGGER overview_dispute_outcome AFTER UPDATE OF outcome\n"
	"  ON disputes WHEN old.outcome IS NULL AND new.outcome IS NOT NULL\n"
	"BEGIN\n"
	OVERVIEW_ADD("new.storefront", "resolved_within",
		     RESOLVED_BUCKET("new"), "1")
	"END;\n"
	"CREATE TRIGGER overview_dispute_delete AFTER DELETE ON disputes\n"
	"BEGIN\n"
	OVERVIEW_SUB("old.storefront", "state", "old.state")
	OVERVIEW_SUB("old.storefront", "reason", "old.reason")
	"END;\n"
	"CREATE TRIGGER overview_offer_insert AFTER INSERT ON offers\n"
	"BEGIN\n"
	OVERVIEW_ADD(STOREFRONT_OF("new.dispute_id"), "offer_made",
		     "new.type", "1")
	" INSERT INTO stats_overview SELECT "
	STOREFRONT_OF("new.dispute_id") ", 'offer_accepted', new.type, 1"
	" WHERE new.status = 'accepted'"
	" ON CONFLICT DO UPDATE SET value = value + 1;\n"
	"END;\n"
	"CREATE TRIGGER overview_offer_accepted AFTER UPDATE OF status\n"
	"  ON offers WHEN new.status = 'accepted'\n"
	"    AND old.status IS NOT 'accepted'\n"
	"BEGIN\n"
	OVERVIEW_ADD(STOREFRONT_OF("new.dispute_id"), "offer_accepted",
		     "new.type", "1")
	"END;\n"
	"-- the sweeper fires a deadline as system:sla (src/service/events.c)\n"
	"CREATE TRIGGER overview_sla_breach AFTER INSERT ON events\n"
	"  WHEN new.actor_role = 'system' AND new.actor_name = 'sla'\n"
	"  AND new.event <> 'deadline_dropped'\n"
	"BEGIN\n"
	OVERVIEW_ADD(STOREFRONT_OF("new.dispute_id"), "sla_breaches", "''",
		     "1")
	"END;\n"
	"\n"
	"PRAGMA user_version = 8;\n";

/*
 * 9: evidence quotas per storefront. evidence_usage holds the bytes of
 * evidence stored per storefront and UTC day (added_at / 86400), kept by
 * triggers in the transaction of the evidence row itself, so that the
 * usage a quota is checked against never drifts from the rows; it starts
 * from the rows already there, and a rebuilt index (reindex) counts them
 * again as its rows are written. Withdrawn evidence stays stored and
 * stays counted. storefront_quotas holds the settings of `redress key
 * quota`: NULL leaves a quota to the server's default, 0 is no quota.
 * Self-contained: it names no object of another script but the evidence
 * and disputes tables.
 */
#define USAGE_STOREFRONT(id)                                                 \
	"coalesce((SELECT storefront FROM disputes WHERE id = " id "), '')"

#define USAGE_ADD(row)                                                       \
	" INSERT INTO evidence_usage (storefront, day, bytes) VALUES ("      \
	USAGE_STOREFRONT(row ".dispute_id") ", " row ".added_at / 86400, "   \
	row ".size) ON CONFLICT (storefront, day)"                           \
	" DO UPDATE SET bytes = bytes + excluded.bytes;\n"

#define USAGE_SUB(row)                                                       \
	" UPDATE evidence_usage SET bytes = max(bytes - " row ".size, 0)"    \
	" WHERE storefront = " USAGE_STOREFRONT(row ".dispute_id")           \
	" AND day = " row ".added_at / 86400;\n"

static const char migration_9[] =
	"CREATE TABLE evidence_usage (\n"
	"  storefront TEXT NOT NULL,\n"
	"  day INTEGER NOT NULL,\n"
	"  bytes INTEGER NOT NULL CHECK (bytes >= 0),\n"
	"  PRIMARY KEY (storefront, day)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE storefront_quotas (\n"
	"  storefront TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (length(CAST(storefront AS BLOB)) BETWEEN 1 AND 64),\n"
	"  daily INTEGER CHECK (daily >= 0),\n"
	"  total INTEGER CHECK (total >= 0),\n"
	"  updated_at INTEGER NOT NULL\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"INSERT INTO evidence_usage (storefront, day, bytes)\n"
	"  SELECT d.storefront, e.added_at / 86400, sum(e.size)\n"
	"  FROM evidence AS e JOIN disputes AS d ON d.id = e.dispute_id\n"
	"  GROUP BY 1, 2;\n"
	"\n"
	"CREATE TRIGGER usage_evidence_insert AFTER INSERT ON evidence\n"
	"BEGIN\n"
	USAGE_ADD("new")
	"END;\n"
	"CREATE TRIGGER usage_evidence_update\n"
	"  AFTER UPDATE OF size, added_at, dispute_id ON evidence\n"
	"  WHEN old.size IS NOT new.size OR old.added_at IS NOT new.added_at\n"
	"    OR old.dispute_id IS NOT new.dispute_id\n"
	"BEGIN\n"
	USAGE_SUB("old")
	USAGE_ADD("new")
	"END;\n"
	"CREATE TRIGGER usage_evidence_delete AFTER DELETE ON evidence\n"
	"BEGIN\n"
	USAGE_SUB("old")
	"END;\n"
	"\n"
	"PRAGMA user_version = 9;\n";

/*
 * 10: the open disputes of one order of one storefront, found at once, so
 * that opening refuses a duplicate of an open dispute (same storefront,
 * order and an item's SKU) without scanning the storefront's disputes.
 * Open is "no outcome yet": only a terminal state records one.
 */
static const char migration_10[] =
	"CREATE INDEX disputes_open_order ON disputes (storefront, order_ref)\n"
	"  WHERE outcome IS NULL;\n"
	"\n"
	"PRAGMA user_version = 10;\n";

/*
 * 11: the record. Until now git was the record and these tables an index
 * of it; from here on the database is the record and evidence.git its
 * mirror. A change is one transaction: its git objects (`objects`, the
 * bytes as git hashes them; NULL bytes for an evidence file kept under
 * <data>/blobs/), its dispute's new head by compare-and-swap (`refs`),
 * one `changes` row in commit order, and the index rows. `change` names
 * the change that first stored an object, which the mirror follows from
 * its position (`mirror_state`), writing packs (`mirror_packs`, each a
 * range of changes; one replaced by a merge is kept, superseded, until
 * readers can no longer be reading it). `record_state` says whether a data directory of an
 * earlier release still has its git history to import.
 */
static const char migration_11[] =
	"CREATE TABLE objects (\n"
	"  id BLOB PRIMARY KEY CHECK (length(id) = 20),\n"
	"  type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),\n"
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"
	"  data BLOB CHECK (data IS NULL OR length(data) = size),\n"
	"  change INTEGER NOT NULL CHECK (change >= 1)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX objects_by_change ON objects (change);\n"
	"CREATE INDEX objects_in_files ON objects (id) WHERE data IS NULL;\n"
	"\n"
	"CREATE TABLE refs (\n"
	"  dispute_id TEXT PRIMARY KEY,\n"
	"  head TEXT NOT NULL CHECK (length(head) = 40)\n"
	") WITHOUT ROWID;\n"
	"\n"
	"CREATE TABLE changes (\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  dispute_id TEXT NOT NULL,\n"
	"  head TEXT NOT NULL CHECK (length(head) = 40),\n"
	"  at INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX changes_by_dispute ON changes (dispute_id, seq);\n"
	"\n"
	"CREATE TABLE mirror_state (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  position INTEGER NOT NULL CHECK (position >= 0)\n"
	");\n"
	"INSERT INTO mirror_state (id, position) VALUES (1, 0);\n"
	"\n"
	"CREATE TABLE mirror_packs (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  first_change INTEGER NOT NULL,\n"
	"  last_change INTEGER NOT NULL CHECK (last_change >= first_change),\n"
	"  objects INTEGER NOT NULL CHECK (objects >= 0),\n"
	"  superseded_at INTEGER\n"
	");\n"
	"\n"
	"CREATE TABLE record_state (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL\n"
	");\n"
	"INSERT INTO record_state (name, value) VALUES ('import', 'pending');\n"
	"\n"
	"PRAGMA user_version = 11;\n";

/*
 * 12: how many objects of each mirror pack were written without a search
 * for deltas (`plain`): a step writes each object on its own, a merge
 * joins packs as they are, and only once plain objects are half of a
 * merge is it written again with deltas. Packs written before were all
 * written with deltas.
 */
static const char migration_12[] =
	"ALTER TABLE mirror_packs ADD COLUMN plain INTEGER NOT NULL DEFAULT 0\n"
	"  CHECK (plain >= 0);\n"
	"\n"
	"PRAGMA user_version = 12;\n";

/*
 * 13: objects are kept in the order they were stored, under a number of
 * their own, with their id in a unique index beside. Keyed by the id, a
 * table of whole objects took every new object at a random place: each
 * change read and dirtied leaf pages all over a table far larger than the
 * page cache. Now the rows go at the end of the table, and only the index
 * of ids (about 30 bytes an entry) is written at random. The rows are
 * copied in change order; the copy rewrites the whole table once.
 */
static const char migration_13[] =
	"CREATE TABLE objects_13 (\n"
	"  n INTEGER PRIMARY KEY,\n"
	"  id BLOB NOT NULL UNIQUE CHECK (length(id) = 20),\n"
	"  type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),\n"
	"  size INTEGER NOT NULL CHECK (size >= 0),\n"
	"  data BLOB CHECK (data IS NULL OR length(data) = size),\n"
	"  change INTEGER NOT NULL CHECK (change >= 1)\n"
	");\n"
	"INSERT INTO objects_13 (id, type, size, data, change)\n"
	"  SELECT id, type, size, data, change FROM objects\n"
	"  ORDER BY change, id;\n"
	"DROP TABLE objects;\n"
	"ALTER TABLE objects_13 RENAME TO objects;\n"
	"CREATE INDEX objects_by_change ON objects (change);\n"
	"CREATE INDEX objects_in_files ON objects (id) WHERE data IS NULL;\n"
	"\n"
	"PRAGMA user_version = 13;\n";

/*
 * 14: nothing on the embedded record. A PostgreSQL record keeps its
 * evidence files in tables of this version (schema_pg.c); the embedded
 * record keeps them as files of its data directory, as before.
 */
static const char migration_14[] =
	"PRAGMA user_version = 14;\n";

/*
 * 15: which data directory's mirror the record's mirror state describes
 * (the mirror's own id, kept in its directory): several data directories
 * may share one record, and only the owner's mirror follows its position
 * and packs. NULL until a mirror claims it (a mirror of a release before
 * 15 claims it as it is).
 */
static const char migration_15[] =
	"ALTER TABLE mirror_state ADD COLUMN owner TEXT;\n"
	"\n"
	"PRAGMA user_version = 15;\n";

/*
 * 16: the state of mirrors that are not the record's now. A data
 * directory whose mirror stops being the record's (another node took the
 * lead) keeps its position and packs here, so that when it takes the lead
 * back it goes on from there instead of making its mirror again.
 */
static const char migration_16[] =
	"CREATE TABLE mirror_saved (\n"
	"  owner TEXT PRIMARY KEY,\n"
	"  position INTEGER NOT NULL CHECK (position >= 0)\n"
	");\n"
	"CREATE TABLE mirror_saved_packs (\n"
	"  owner TEXT NOT NULL,\n"
	"  name TEXT NOT NULL,\n"
	"  first_change INTEGER NOT NULL,\n"
	"  last_change INTEGER NOT NULL,\n"
	"  objects INTEGER NOT NULL,\n"
	"  superseded_at INTEGER,\n"
	"  plain INTEGER NOT NULL,\n"
	"  PRIMARY KEY (owner, name)\n"
	");\n"
	"\n"
	"PRAGMA user_version = 16;\n";

/*
 * 17: nothing on the embedded record, whose one writer never waits on
 * its own totals. A PostgreSQL record keeps its running totals in shards
 * from this version (schema_pg.c).
 */
static const char migration_17[] =
	"PRAGMA user_version = 17;\n";

/*
 * 18: the outbox of events for storefronts, and their webhooks. A change
 * writes the events it causes into outbox_events in its own transaction
 * (numbered as inserted: on the embedded record, whose one writer commits
 * in that order, the number is the feed's order). webhook_endpoints are
 * the storefronts' receivers, each with its secret (the one before a
 * rotation signing beside it until previous_expires_at) and its position
 * along the outbox (position: the last event fanned out to it);
 * webhook_deliveries one per endpoint and event, in fan-out order (n),
 * with its lease while a worker sends it; webhook_attempts the log of
 * each try; an endpoint keeps the Idempotency-Key of the request that
 * made it (a retry of that request answers it again, for 24 hours). An
 * event's payload is made by redress alone and not checked
 * with json_valid, which answers "not JSON" when it runs out of memory.
 */
static const char migration_18[] =
	"CREATE TABLE outbox_events (\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  id TEXT NOT NULL UNIQUE CHECK (length(id) = 30),\n"
	"  dispute_id TEXT NOT NULL,\n"
	"  storefront TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  type TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  payload TEXT NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX outbox_by_time ON outbox_events (created_at);\n"
	"CREATE INDEX outbox_by_storefront ON outbox_events (storefront, seq);\n"
	"\n"
	"CREATE TABLE webhook_endpoints (\n"
	"  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 29),\n"
	"  url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),\n"
	"  events TEXT NOT NULL CHECK (length(events) BETWEEN 1 AND 1024),\n"
	"  description TEXT NOT NULL CHECK (length(description) <= 512),\n"
	"  storefront TEXT CHECK (length(storefront) BETWEEN 1 AND 64),\n"
	"  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),\n"
	"  disabled_reason TEXT,\n"
	"  secret TEXT NOT NULL,\n"
	"  previous_secret TEXT,\n"
	"  previous_expires_at INTEGER,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  updated_at INTEGER NOT NULL,\n"
	"  failing_since INTEGER,\n"
	"  position_n INTEGER NOT NULL CHECK (position_n >= 0),\n"
	"  position_seq INTEGER NOT NULL CHECK (position_seq >= 0),\n"
	"  idem_key_id TEXT,\n"
	"  idem_key TEXT,\n"
	"  idem_digest TEXT\n"
	") STRICT;\n"
	"CREATE INDEX webhook_endpoints_by_storefront\n"
	"  ON webhook_endpoints (storefront);\n"
	"CREATE UNIQUE INDEX webhook_endpoints_by_idem\n"
	"  ON webhook_endpoints (idem_key_id, idem_key)\n"
	"  WHERE idem_key IS NOT NULL;\n"
	"\n"
	"CREATE TABLE webhook_deliveries (\n"
	"  n INTEGER PRIMARY KEY,\n"
	"  id TEXT NOT NULL UNIQUE CHECK (length(id) = 29),\n"
	"  endpoint_id TEXT NOT NULL\n"
	"    REFERENCES webhook_endpoints (id) ON DELETE CASCADE,\n"
	"  event_seq INTEGER NOT NULL,\n"
	"  event_id TEXT NOT NULL,\n"
	"  event_type TEXT NOT NULL,\n"
	"  dispute_id TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL,\n"
	"  status TEXT NOT NULL\n"
	"    CHECK (status IN ('pending', 'delivered', 'failed')),\n"
	"  tries INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),\n"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  next_at INTEGER,\n"
	"  leased_until INTEGER,\n"
	"  lease TEXT,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  finished_at INTEGER\n"
	") STRICT;\n"
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
	"  delivery_n INTEGER NOT NULL\n"
	"    REFERENCES webhook_deliveries (n) ON DELETE CASCADE,\n"
	"  n INTEGER NOT NULL CHECK (n >= 1),\n"
	"  at INTEGER NOT NULL,\n"
	"  status_code INTEGER,\n"
	"  latency_ms INTEGER NOT NULL,\n"
	"  answer TEXT NOT NULL,\n"
	"  error TEXT,\n"
	"  next_at INTEGER,\n"
	"  PRIMARY KEY (delivery_n, n)\n"
	") STRICT, WITHOUT ROWID;\n"
	"\n"
	"PRAGMA user_version = 18;\n";

/*
 * 19: the conversation with the buyer. messages is the index of the
 * messages of each dispute (their text lives in the record too, one file
 * per message in the dispute's tree): numbered per dispute, with the
 * change (the dispute's version) that recorded each; an internal note's direction
 * is 'internal', which every read by a storefront leaves out.
 * reply_deadlines holds the reply clock of a dispute that awaits an
 * answer: due when the first inbound message since the last outbound one
 * (since_n) goes unanswered, with the workflow event it may fire; walked
 * by due time by the sweeper and by the awaiting-reply list.
 */
static const char migration_19[] =
	"CREATE TABLE messages (\n"
	"  dispute_id TEXT NOT NULL REFERENCES disputes (id),\n"
	"  n INTEGER NOT NULL CHECK (n >= 1),\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  direction TEXT NOT NULL\n"
	"    CHECK (direction IN ('inbound', 'outbound', 'internal')),\n"
	"  channel TEXT NOT NULL CHECK (channel IN\n"
	"    ('chat', 'email', 'phone', 'platform', 'sms', 'other')),\n"
	"  body TEXT NOT NULL CHECK (length(CAST(body AS BLOB)) <= 65536),\n"
	"  language TEXT CHECK (length(language) BETWEEN 1 AND 35),\n"
	"  author TEXT NOT NULL CHECK (length(author) BETWEEN 1 AND 127),\n"
	"  role TEXT NOT NULL,\n"
	"  key_id TEXT NOT NULL,\n"
	"  evidence TEXT NOT NULL,\n"
	"  template TEXT,\n"
	"  template_locale TEXT,\n"
	"  fell_back INTEGER NOT NULL DEFAULT 0 CHECK (fell_back IN (0, 1)),\n"
	"  call TEXT,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (dispute_id, n)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages\n"
	"BEGIN SELECT RAISE(ABORT, 'messages are append-only'); END;\n"
	"\n"
	"CREATE TABLE reply_deadlines (\n"
	"  dispute_id TEXT PRIMARY KEY NOT NULL REFERENCES disputes (id),\n"
	"  due_at INTEGER NOT NULL CHECK (due_at > 0),\n"
	"  since_n INTEGER NOT NULL CHECK (since_n >= 1),\n"
	"  event TEXT CHECK (length(event) BETWEEN 1 AND 63)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX reply_deadlines_due\n"
	"  ON reply_deadlines (due_at, dispute_id);\n"
	"\n"
	"-- a message posted with an Idempotency-Key: its number in evidence_n,\n"
	"-- the number of what the write added (SQLite cannot change a CHECK:\n"
	"-- the table is made again)\n"
	"CREATE TABLE idempotency_19 (\n"
	"  key_id TEXT NOT NULL\n"
	"    CHECK (length(CAST(key_id AS BLOB)) BETWEEN 1 AND 63),\n"
	"  idem_key TEXT NOT NULL\n"
	"    CHECK (length(CAST(idem_key AS BLOB)) BETWEEN 1 AND 255),\n"
	"  request_sha256 TEXT NOT NULL CHECK (length(request_sha256) = 64\n"
	"    AND request_sha256 NOT GLOB '*[^0-9a-f]*'),\n"
	"  operation TEXT NOT NULL\n"
	"    CHECK (operation IN ('open', 'event', 'evidence', 'message')),\n"
	"  dispute_id TEXT NOT NULL,\n"
	"  evidence_n INTEGER CHECK (evidence_n > 0),\n"
	"  response TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (key_id, idem_key),\n"
	"  CHECK ((operation IN ('evidence', 'message')) =\n"
	"    (evidence_n IS NOT NULL))\n"
	") STRICT, WITHOUT ROWID;\n"
	"INSERT INTO idempotency_19 SELECT * FROM idempotency;\n"
	"DROP TABLE idempotency;\n"
	"ALTER TABLE idempotency_19 RENAME TO idempotency;\n"
	"CREATE INDEX idempotency_created ON idempotency (created_at);\n"
	"\n"
	"PRAGMA user_version = 19;\n";

/*
 * 20: finding disputes. search_text is the full-text index (FTS5) of what
 * a dispute may be found by: its order and buyer references with its
 * items' SKUs, the items' titles, its description and the bodies of its
 * inbound and outbound messages, never an internal note's (a storefront
 * must not find a dispute by words only its agents wrote). One row per
 * dispute, numbered by search_keys (disputes has no rowid). The unicode61
 * tokenizer folds case and removes diacritics and stems nothing, since the
 * text is in any language. Triggers keep a dispute's row current in the
 * transaction of the write that changes its text (opening, a rebuild by
 * reindex, a message, the rows `migrate` copies), and the rows already
 * written by an earlier release are indexed here. The indexes serve the
 * exact filters of the list: order_ref, buyer_ref (disputes_buyer also
 * with the storefront, for a buyer's history), an item's SKU and
 * updated_since.
 */
#define SEARCH_REFRESH(dispute)                                              \
	"  DELETE FROM search_text WHERE rowid =\n"                           \
	"    (SELECT n FROM search_keys WHERE dispute_id = " dispute ");\n"   \
	"  INSERT INTO search_text (rowid, refs, titles, description,\n"      \
	"    messages) SELECT k.n, s.refs, s.titles, s.description,\n"        \
	"    s.messages FROM search_source AS s JOIN search_keys AS k\n"      \
	"    ON k.dispute_id = s.dispute_id WHERE s.dispute_id = " dispute ";\n"

static const char migration_20[] =
	"CREATE TABLE search_keys (\n"
	"  n INTEGER PRIMARY KEY,\n"
	"  dispute_id TEXT NOT NULL UNIQUE CHECK (length(dispute_id) = 26)\n"
	") STRICT;\n"
	"CREATE VIRTUAL TABLE search_text USING fts5 (\n"
	"  refs, titles, description, messages,\n"
	"  tokenize = 'unicode61 remove_diacritics 2'\n"
	");\n"
	"-- a dispute's searchable text, one column per weight\n"
	"CREATE VIEW search_source AS SELECT d.id AS dispute_id,\n"
	"  d.order_ref || ' ' || coalesce(d.buyer_ref, '') || ' ' ||\n"
	"    coalesce((SELECT group_concat(i.sku, ' ') FROM items AS i\n"
	"      WHERE i.dispute_id = d.id), '') AS refs,\n"
	"  coalesce((SELECT group_concat(i.title, ' ') FROM items AS i\n"
	"    WHERE i.dispute_id = d.id), '') AS titles,\n"
	"  coalesce(d.description, '') AS description,\n"
	"  coalesce((SELECT group_concat(m.body, ' ') FROM messages AS m\n"
	"    WHERE m.dispute_id = d.id AND m.direction <> 'internal'), '')\n"
	"    AS messages\n"
	"FROM disputes AS d;\n"
	"\n"
	"CREATE TRIGGER search_dispute_insert AFTER INSERT ON disputes\n"
	"BEGIN\n"
	"  INSERT INTO search_keys (dispute_id) VALUES (new.id);\n"
	SEARCH_REFRESH("new.id")
	"END;\n"
	"CREATE TRIGGER search_dispute_text\n"
	"  AFTER UPDATE OF order_ref, buyer_ref, description ON disputes\n"
	"BEGIN\n"
	SEARCH_REFRESH("new.id")
	"END;\n"
	"CREATE TRIGGER search_dispute_delete AFTER DELETE ON disputes\n"
	"BEGIN\n"
	"  DELETE FROM search_text WHERE rowid =\n"
	"    (SELECT n FROM search_keys WHERE dispute_id = old.id);\n"
	"  DELETE FROM search_keys WHERE dispute_id = old.id;\n"
	"END;\n"
	"CREATE TRIGGER search_item_insert AFTER INSERT ON items\n"
	"BEGIN\n"
	SEARCH_REFRESH("new.dispute_id")
	"END;\n"
	"CREATE TRIGGER search_item_delete AFTER DELETE ON items\n"
	"BEGIN\n"
	SEARCH_REFRESH("old.dispute_id")
	"END;\n"
	"CREATE TRIGGER search_message_insert AFTER INSERT ON messages\n"
	"  WHEN new.direction <> 'internal'\n"
	"BEGIN\n"
	SEARCH_REFRESH("new.dispute_id")
	"END;\n"
	"\n"
	"-- what earlier releases wrote\n"
	"INSERT INTO search_keys (dispute_id) SELECT id FROM disputes ORDER BY id;\n"
	"INSERT INTO search_text (rowid, refs, titles, description, messages)\n"
	"  SELECT k.n, s.refs, s.titles, s.description, s.messages\n"
	"  FROM search_source AS s JOIN search_keys AS k\n"
	"  ON k.dispute_id = s.dispute_id;\n"
	"\n"
	"CREATE INDEX disputes_order_ref ON disputes (order_ref, created_at, id);\n"
	"CREATE INDEX disputes_buyer\n"
	"  ON disputes (storefront, buyer_ref, created_at, id);\n"
	"CREATE INDEX disputes_buyer_ref ON disputes (buyer_ref, created_at, id);\n"
	"CREATE INDEX disputes_updated ON disputes (updated_at, id);\n"
	"CREATE INDEX items_sku ON items (sku, dispute_id);\n"
	"\n"
	"PRAGMA user_version = 20;\n";

/*
 * 21: ownership. An agent is known by its key's name, so a name is unique
 * per role among live (unrevoked) keys: a partial unique index. Names an
 * earlier release let two live keys share are told apart first, so that an
 * upgrade never fails: every live key but the oldest of its (role, name)
 * is renamed NAME~ID6 (its name cut to 14 characters when it would not
 * fit 64 bytes, the first six characters of its id). Two more partial
 * indexes: the open disputes of an assignee (GET /v1/agents counts them
 * by assignee), and the open unassigned ones, oldest first (the claim
 * queue).
 */
static const char migration_21[] =
	"UPDATE api_keys\n"
	"  SET name = CASE WHEN length(CAST(name AS BLOB)) <= 57 THEN name\n"
	"    ELSE substr(name, 1, 14) END || '~' || substr(id, 1, 6)\n"
	"  WHERE revoked_at IS NULL AND EXISTS (\n"
	"    SELECT 1 FROM api_keys AS older\n"
	"    WHERE older.role = api_keys.role AND older.name = api_keys.name\n"
	"      AND older.revoked_at IS NULL\n"
	"      AND (older.created_at < api_keys.created_at\n"
	"        OR (older.created_at = api_keys.created_at\n"
	"          AND older.id < api_keys.id)));\n"
	"CREATE UNIQUE INDEX api_keys_live_name ON api_keys (role, name)\n"
	"  WHERE revoked_at IS NULL;\n"
	"CREATE INDEX disputes_assignee_open ON disputes (assignee, state)\n"
	"  WHERE outcome IS NULL;\n"
	"CREATE INDEX disputes_unassigned ON disputes (created_at, id)\n"
	"  WHERE assignee IS NULL AND outcome IS NULL;\n"
	"\n"
	"PRAGMA user_version = 21;\n";

/*
 * 22: bulk events. A bulk request made under an
 * Idempotency-Key is recorded as operation 'bulk', which names no dispute
 * (dispute_id NULL for it alone; SQLite cannot change a CHECK, so the
 * table is made again, as 19 did). (A buyer's history and
 * GET /v1/buyers/{buyer_ref}/disputes read disputes_buyer, schema 20.)
 */
static const char migration_22[] =
	"CREATE TABLE idempotency_22 (\n"
	"  key_id TEXT NOT NULL\n"
	"    CHECK (length(CAST(key_id AS BLOB)) BETWEEN 1 AND 63),\n"
	"  idem_key TEXT NOT NULL\n"
	"    CHECK (length(CAST(idem_key AS BLOB)) BETWEEN 1 AND 255),\n"
	"  request_sha256 TEXT NOT NULL CHECK (length(request_sha256) = 64\n"
	"    AND request_sha256 NOT GLOB '*[^0-9a-f]*'),\n"
	"  operation TEXT NOT NULL CHECK (operation IN\n"
	"    ('open', 'event', 'evidence', 'message', 'bulk')),\n"
	"  dispute_id TEXT,\n"
	"  evidence_n INTEGER CHECK (evidence_n > 0),\n"
	"  response TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (key_id, idem_key),\n"
	"  CHECK ((operation IN ('evidence', 'message')) =\n"
	"    (evidence_n IS NOT NULL)),\n"
	"  CHECK ((operation = 'bulk') = (dispute_id IS NULL))\n"
	") STRICT, WITHOUT ROWID;\n"
	"INSERT INTO idempotency_22 SELECT * FROM idempotency;\n"
	"DROP TABLE idempotency;\n"
	"ALTER TABLE idempotency_22 RENAME TO idempotency;\n"
	"CREATE INDEX idempotency_created ON idempotency (created_at);\n"
	"\n"
	"PRAGMA user_version = 22;\n";

/*
 * 23: POST /v1/queue/claim under an Idempotency-Key is recorded as
 * operation 'claim': the dispute claimed, or no dispute when there was
 * none to claim (answered 204, response ''), so that a retry after a lost
 * answer takes no second dispute. dispute_id is NULL for 'bulk' always
 * and for 'claim' when nothing was claimed, never for the others. SQLite
 * cannot change a CHECK, so the table is made again, as 22 did.
 */
static const char migration_23[] =
	"CREATE TABLE idempotency_23 (\n"
	"  key_id TEXT NOT NULL\n"
	"    CHECK (length(CAST(key_id AS BLOB)) BETWEEN 1 AND 63),\n"
	"  idem_key TEXT NOT NULL\n"
	"    CHECK (length(CAST(idem_key AS BLOB)) BETWEEN 1 AND 255),\n"
	"  request_sha256 TEXT NOT NULL CHECK (length(request_sha256) = 64\n"
	"    AND request_sha256 NOT GLOB '*[^0-9a-f]*'),\n"
	"  operation TEXT NOT NULL CHECK (operation IN\n"
	"    ('open', 'event', 'evidence', 'message', 'bulk', 'claim')),\n"
	"  dispute_id TEXT,\n"
	"  evidence_n INTEGER CHECK (evidence_n > 0),\n"
	"  response TEXT NOT NULL,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (key_id, idem_key),\n"
	"  CHECK ((operation IN ('evidence', 'message')) =\n"
	"    (evidence_n IS NOT NULL)),\n"
	"  CHECK (operation <> 'bulk' OR dispute_id IS NULL),\n"
	"  CHECK (operation IN ('bulk', 'claim') OR dispute_id IS NOT NULL)\n"
	") STRICT, WITHOUT ROWID;\n"
	"INSERT INTO idempotency_23 SELECT * FROM idempotency;\n"
	"DROP TABLE idempotency;\n"
	"ALTER TABLE idempotency_23 RENAME TO idempotency;\n"
	"CREATE INDEX idempotency_created ON idempotency (created_at);\n"
	"\n"
	"PRAGMA user_version = 23;\n";

static const char *const migrations[] = {
	migration_1,
	migration_2,
	migration_3,
	migration_4,
	migration_5,
	migration_6,
	migration_7,
	migration_8,
	migration_9,
	migration_10,
	migration_11,
	migration_12,
	migration_13,
	migration_14,
	migration_15,
	migration_16,
	migration_17,
	migration_18,
	migration_19,
	migration_20,
	migration_21,
	migration_22,
	migration_23,
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(MIGRATION_COUNT == RD_STORE_SCHEMA_VERSION,
	       "RD_STORE_SCHEMA_VERSION must equal the number of migrations");

int rd_store__migration_count(void)
{
	return MIGRATION_COUNT;
}

/* PRAGMA user_version, with a one-off statement (the table is not ready). */
int rd_store__user_version(rd_store *st, int *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret = RD_OK;

	rc = rd_db_prepare(st->db, "PRAGMA user_version", &stmt);
	if (rc == RD_DB_OK)
		rc = rd_db_step(stmt);
	if (rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err, "cannot read the schema "
				     "version of %s", st->path);
		goto done;
	}
	*out = (int)rd_db_column_int64(stmt, 0);
done:
	rd_db_finalize(stmt);
	return ret;
}

int rd_store__refuse_newer(rd_store *st, int found, int newest,
			   rd_error *err)
{
	return rd_error_set(err, RD_EINVALID,
			    "%s was written by a newer redress (schema %d, "
			    "this build knows %d); upgrade redress to use it",
			    st->path, found, newest);
}

int rd_store__exec_script(rd_store *st, const char *sql, const char *doing,
			  rd_error *err)
{
	int rc;
	int ret = RD_OK;

	rc = rd_db_exec(st->db, sql);
	if (rc != RD_DB_OK) {
		ret = rd_store__fail(st, rc, err, "%s", doing);
		/* the engine's own message names the failing statement */
		if (ret != RD_EBUSY)
			rd_error_set(err, ret, "%s: %s", doing,
				     rd_db_errmsg(st->db));
	}
	return ret;
}

int rd_store__migrate(rd_store *st, int target, rd_error *err)
{
	char doing[512];
	int found = 0;
	int ret;

	if (rd_db_engine_of(st->db) == RD_DB_POSTGRES)
		return rd_store__migrate_pg(st, target, err);
	if (target < 0 || target > MIGRATION_COUNT)
		return rd_error_set(err, RD_EINTERNAL,
				    "schema %d requested, this build knows "
				    "0 to %d", target, MIGRATION_COUNT);
	if ((ret = rd_store__user_version(st, &found, err)) < 0)
		return ret;
	if (found > MIGRATION_COUNT)
		return rd_store__refuse_newer(st, found, MIGRATION_COUNT, err);
	if (found >= target) {
		st->schema = found;
		return RD_OK;
	}

	snprintf(doing, sizeof(doing), "cannot lock %s to upgrade its schema",
		 st->path);
	if ((ret = rd_store__exec_script(st, "BEGIN IMMEDIATE", doing,
					 err)) < 0)
		return ret;
	/* another process may have migrated while we waited for the lock */
	if ((ret = rd_store__user_version(st, &found, err)) < 0)
		goto done;
	if (found > MIGRATION_COUNT) {
		ret = rd_store__refuse_newer(st, found, MIGRATION_COUNT,
					     err);
		goto done;
	}
	for (int i = found; i < target; i++) {
		snprintf(doing, sizeof(doing),
			 "cannot apply schema migration %d to %s", i + 1,
			 st->path);
		if ((ret = rd_store__exec_script(st, migrations[i], doing,
						 err)) < 0)
			goto done;
	}
	snprintf(doing, sizeof(doing), "cannot commit the schema upgrade of %s",
		 st->path);
	if ((ret = rd_store__exec_script(st, "COMMIT", doing, err)) < 0)
		goto done;
	st->schema = found > target ? found : target;
done:
	if (ret < 0 && rd_db_in_transaction(st->db))
		(void)rd_db_exec(st->db, "ROLLBACK");
	return ret;
}
