// A minimal receiver of redress's webhooks (docs/webhooks.md): it checks
// each delivery's signature with the standardwebhooks package from npm,
// skips an event it has seen already (a retry carries the same
// webhook-id), and prints each new event as one JSON line.
//
//   npm install standardwebhooks@1.3.0      (beside this file)
//   WEBHOOK_SECRETS_FILE=secrets.txt node webhook-receiver.mjs [PORT]
//
// The secrets file holds the endpoint's signing secrets ("whsec_..."),
// one a line, read again on every delivery: a delivery is accepted when
// it verifies with any of them, so that a rotation needs no restart (list
// the new secret, and drop the old one once redress stops signing with
// it). It listens on 127.0.0.1, on PORT or a free port (0), and says
// "receiver listening on http://127.0.0.1:PORT" on standard error.
import http from 'node:http';
import fs from 'node:fs';
import { Webhook } from 'standardwebhooks';

const secretsFile = process.env.WEBHOOK_SECRETS_FILE ?? 'secrets.txt';
const seen = new Set();   // webhook-ids handled; a real receiver keeps them in its database

function secrets() {
	try {
		return fs.readFileSync(secretsFile, 'utf8').split('\n')
			.map((line) => line.trim()).filter((line) => line.startsWith('whsec_'));
	} catch {
		return [];
	}
}

// The event, if one of the secrets verifies it; else null.
function verify(body, headers) {
	for (const secret of secrets()) {
		try {
			return new Webhook(secret).verify(body, headers);
		} catch {
			// not this secret: try the next
		}
	}
	return null;
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (chunk) => chunks.push(chunk));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		const event = req.method === 'POST' ? verify(body, req.headers) : null;
		if (!event) {
			res.writeHead(400).end('signature not verified\n');
			return;
		}
		const id = req.headers['webhook-id'];
		if (!seen.has(id)) {
			seen.add(id);
			// act on the event here: quickly, or queue it and answer first
			console.log(JSON.stringify({
				type: event.type,
				dispute: event.data.id,
				version: event.data.version,
				state: event.data.state,
			}));
		}
		res.writeHead(204).end();   // any 2xx within 15 s: delivered
	});
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
	console.error(`receiver listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
