// The end-to-end tests' webhook receiver: an HTTP server on 127.0.0.1 that
// takes redress's webhook deliveries, checks each one's signature with the
// standardwebhooks library (not with redress's own code), answers as the
// test scripted, and keeps a log of what it received.
//
//   node receiver.mjs [--port N] [--port-file FILE] [--log FILE] [--modules DIR]
//
// --port (or RECEIVER_PORT): the port, 0 (the default) for one the system
// picks; the port it listens on is printed as "webhook receiver listening
// on http://127.0.0.1:PORT" and, with --port-file (RECEIVER_PORT_FILE),
// written to that file (a number and a newline, the file renamed into
// place whole). --log (RECEIVER_LOG): each delivery is also appended to
// this file as one JSON line. --modules (REDRESS_WEBHOOK_RECEIVER_DIR): the
// directory whose node_modules holds standardwebhooks (where the test
// suite's fixture ran npm ci), else this file's own directory.
//
// The control API, under /_control/ (not signed; JSON bodies):
//   PUT  /_control/secrets {"secrets": ["whsec_...", ...], "now": S?}
//        every delivery from now on is checked against each secret on its
//        own, with new Webhook(secret).verify(body, headers): with both an
//        old and a new secret listed, a delivery passes only when it
//        carries a valid signature of each. "now" (unix seconds, optional)
//        is the instant the library judges webhook-timestamp against
//        (5 minutes either way), for a server run on a fixed clock; the
//        real clock without it.
//   POST /_control/script {"path": "/a"?, "answers": [ANSWER, ...]}
//        appends answers to the queue of this path ("*" or none: any
//        path); each delivery takes the first answer of its path's queue,
//        else of the "*" queue, else answers 200. ANSWER:
//        {"status": 503, "headers": {"Retry-After": "2"}?, "delay_ms": 0?,
//         "body": "text"?, "close": false?}; "close": true drops the
//        connection without answering.
//   DELETE /_control/script   empties every queue
//   POST /_control/reset      empties the queues and the log (not secrets)
//   GET  /_control/log        the deliveries received, oldest first, as a
//        JSON array of records (below)
//   GET  /_control/health     200 once listening
// Any other /_control/ path: 404.
//
// Every other request is a delivery, answered as scripted whether it
// verified or not (the test reads "verified" in the log). Its record:
//   {"n": 1, "time": "2026-...Z" (when received), "method", "path",
//    "headers": {"webhook-id", "webhook-timestamp", "webhook-signature",
//                "content-type", "user-agent"} (null when absent),
//    "timestamp_skew_s": now - webhook-timestamp, in seconds (now: the
//        time of receipt, or the "now" set with the secrets),
//    "body": the body parsed as JSON (null if it is not JSON),
//    "body_error": null | why it is not JSON, "bytes": its length,
//    "type", "data_id", "data_version": body.type, body.data.id,
//        body.data.version (null when absent),
//    "secrets": how many secrets it was checked against,
//    "verified": [true|false, ...] one per secret, in their order,
//    "errors": [null|"text", ...] the library's error for each,
//    "verified_all": true when there was at least one secret and it
//        verified against every one,
//    "error": the first error, or null,
//    "status": the status answered (null when "close"), "retry_after",
//    "delay_ms", "closed": true when the connection was dropped}

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const MAX_BODY = 16 * 1024 * 1024;

function parseArgs(argv) {
	const opts = {
		port: process.env.RECEIVER_PORT ?? '0',
		portFile: process.env.RECEIVER_PORT_FILE ?? '',
		log: process.env.RECEIVER_LOG ?? '',
		modules: process.env.REDRESS_WEBHOOK_RECEIVER_DIR ?? '',
	};
	const names = { '--port': 'port', '--port-file': 'portFile', '--log': 'log', '--modules': 'modules' };
	for (let i = 0; i < argv.length; i++) {
		const key = names[argv[i]];
		if (!key || i + 1 >= argv.length) {
			console.error(`usage: node receiver.mjs [--port N] [--port-file FILE] [--log FILE] [--modules DIR] (at "${argv[i]}")`);
			process.exit(2);
		}
		opts[key] = argv[++i];
	}
	if (!/^[0-9]+$/.test(opts.port) || Number(opts.port) > 65535) {
		console.error(`receiver: not a port: ${opts.port}`);
		process.exit(2);
	}
	opts.port = Number(opts.port);
	return opts;
}

const opts = parseArgs(process.argv.slice(2));
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(opts.modules || here, 'package.json'));
const { Webhook } = require('standardwebhooks');

let secrets = [];     // ["whsec_...", ...]
let clockNow = null;  // unix seconds the library is to take as now, or null
let queues = new Map(); // path ("*" for any) -> [answer, ...]
let log = [];

function takeAnswer(p) {
	for (const key of [p, '*']) {
		const q = queues.get(key);
		if (q && q.length > 0) return q.shift();
	}
	return { status: 200 };
}

function checkAnswer(a) {
	if (typeof a !== 'object' || a === null || Array.isArray(a)) return 'an answer is an object';
	if (!a.close && !(Number.isInteger(a.status) && a.status >= 100 && a.status <= 599))
		return 'an answer needs "status" (100-599) or "close": true';
	if (a.headers !== undefined && (typeof a.headers !== 'object' || a.headers === null || Array.isArray(a.headers)))
		return '"headers" is an object of names and values';
	if (a.delay_ms !== undefined && !(Number.isInteger(a.delay_ms) && a.delay_ms >= 0))
		return '"delay_ms" is a whole number of milliseconds';
	if (a.body !== undefined && typeof a.body !== 'string') return '"body" is text';
	return null;
}

// verifyWith: the library's verdict on one secret; with a fixed clock,
// Date.now is that instant for the length of the call (verify is
// synchronous).
function verifyWith(secret, body, headers) {
	const realNow = Date.now;
	try {
		if (clockNow !== null) Date.now = () => clockNow * 1000;
		new Webhook(secret).verify(body, headers);
		return null;
	} catch (e) {
		return String(e && e.message ? e.message : e);
	} finally {
		Date.now = realNow;
	}
}

function record(req, body, answer) {
	const h = (name) => req.headers[name] ?? null;
	const receivedMs = Date.now();
	let parsed = null;
	let bodyError = null;
	try {
		parsed = JSON.parse(body.toString('utf8'));
	} catch (e) {
		bodyError = body.length === 0 ? 'empty body' : String(e.message);
	}
	const data = parsed && typeof parsed === 'object' ? parsed.data : null;
	const errors = secrets.map((s) => verifyWith(s, body, req.headers));
	const ts = Number.parseInt(h('webhook-timestamp') ?? '', 10);
	const nowS = clockNow ?? Math.floor(receivedMs / 1000);
	const retryAfter = answer.headers
		? Object.entries(answer.headers).find(([k]) => k.toLowerCase() === 'retry-after')
		: undefined;
	return {
		n: log.length + 1,
		time: new Date(receivedMs).toISOString(),
		method: req.method,
		path: req.url,
		headers: {
			'webhook-id': h('webhook-id'),
			'webhook-timestamp': h('webhook-timestamp'),
			'webhook-signature': h('webhook-signature'),
			'content-type': h('content-type'),
			'user-agent': h('user-agent'),
		},
		timestamp_skew_s: Number.isNaN(ts) ? null : nowS - ts,
		body: parsed,
		body_error: bodyError,
		bytes: body.length,
		type: parsed && typeof parsed === 'object' ? (parsed.type ?? null) : null,
		data_id: data && typeof data === 'object' ? (data.id ?? null) : null,
		data_version: data && typeof data === 'object' ? (data.version ?? null) : null,
		secrets: secrets.length,
		verified: errors.map((e) => e === null),
		errors,
		verified_all: errors.length > 0 && errors.every((e) => e === null),
		error: errors.find((e) => e !== null) ?? null,
		status: answer.close ? null : answer.status,
		retry_after: retryAfter ? String(retryAfter[1]) : null,
		delay_ms: answer.delay_ms ?? 0,
		closed: Boolean(answer.close),
	};
}

function sendJson(res, status, value) {
	const text = JSON.stringify(value) + '\n';
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

function control(req, res, body) {
	const route = `${req.method} ${req.url.split('?')[0]}`;
	let input = null;
	if (['PUT', 'POST'].includes(req.method) && body.length > 0) {
		try {
			input = JSON.parse(body.toString('utf8'));
		} catch (e) {
			return sendJson(res, 400, { error: `not JSON: ${e.message}` });
		}
	}
	switch (route) {
	case 'GET /_control/health':
		return sendJson(res, 200, { ok: true });
	case 'GET /_control/log':
		return sendJson(res, 200, log);
	case 'PUT /_control/secrets':
	case 'POST /_control/secrets': {
		const list = input && input.secrets;
		if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
			return sendJson(res, 400, { error: '{"secrets": ["whsec_...", ...]} expected' });
		for (const s of list) {
			try {
				new Webhook(s);
			} catch (e) {
				return sendJson(res, 400, { error: `bad secret ${JSON.stringify(s)}: ${e.message}` });
			}
		}
		if (input.now !== undefined && input.now !== null && !Number.isInteger(input.now))
			return sendJson(res, 400, { error: '"now" is unix seconds' });
		secrets = list;
		clockNow = input.now ?? null;
		return sendJson(res, 200, { secrets: secrets.length, now: clockNow });
	}
	case 'POST /_control/script': {
		const key = (input && input.path) || '*';
		const answers = input && input.answers;
		if (typeof key !== 'string' || !Array.isArray(answers))
			return sendJson(res, 400, { error: '{"path": "/a"?, "answers": [{"status": 200}, ...]} expected' });
		for (const a of answers) {
			const why = checkAnswer(a);
			if (why) return sendJson(res, 400, { error: why });
		}
		if (!queues.has(key)) queues.set(key, []);
		queues.get(key).push(...answers);
		return sendJson(res, 200, { path: key, queued: queues.get(key).length });
	}
	case 'DELETE /_control/script':
		queues = new Map();
		return sendJson(res, 200, { ok: true });
	case 'POST /_control/reset':
		queues = new Map();
		log = [];
		return sendJson(res, 200, { ok: true });
	default:
		return sendJson(res, 404, { error: `no control route ${route}` });
	}
}

function deliver(req, res, body) {
	const answer = takeAnswer(req.url.split('?')[0]);
	const rec = record(req, body, answer);
	log.push(rec);
	if (opts.log) fs.appendFileSync(opts.log, JSON.stringify(rec) + '\n');
	const reply = () => {
		if (answer.close) {
			req.socket.destroy();
			return;
		}
		const text = answer.body ?? '';
		res.writeHead(answer.status, {
			'content-type': 'text/plain',
			'content-length': Buffer.byteLength(text),
			...(answer.headers ?? {}),
		});
		res.end(text);
	};
	if (answer.delay_ms) setTimeout(reply, answer.delay_ms);
	else reply();
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => {
		size += c.length;
		if (size > MAX_BODY) {
			sendJson(res, 413, { error: 'body too large' });
			req.destroy();
			return;
		}
		chunks.push(c);
	});
	req.on('end', () => {
		if (size > MAX_BODY) return;
		const body = Buffer.concat(chunks);
		try {
			if (req.url === '/_control' || req.url.startsWith('/_control/')) control(req, res, body);
			else deliver(req, res, body);
		} catch (e) {
			console.error(e);
			if (!res.headersSent) sendJson(res, 500, { error: String(e.message) });
		}
	});
});

server.listen(opts.port, '127.0.0.1', () => {
	const port = server.address().port;
	if (opts.portFile) {
		fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`);
		fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
	}
	console.log(`webhook receiver listening on http://127.0.0.1:${port}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
	process.on(sig, () => {
		server.close();
		server.closeAllConnections?.();
		process.exit(0);
	});
}
