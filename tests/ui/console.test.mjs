// The web console end to end, in Debian's headless Chromium driven by
// playwright-core: the real `redress serve` on a free port of 127.0.0.1
// with a fresh data directory and keys made by `redress key create`.
//
// An agent signs in, opens a dispute, uploads a photo (and a file with a
// hostile name and note, which must show as text and run nothing), sees
// the ranked offers and makes one; the storefront accepts it and confirms
// the refund; an auditor reads the history as commits, previews the
// evidence, verifies and exports. Then the overview's charts, the keyboard
// alone, a phone's width, and the Content-Security-Policy. Then the
// conversation with the buyer: the awaiting-reply queue and its countdown,
// an agent's internal note, answer, template (previewed in the buyer's
// language) and logged call in the thread, a storefront that never sees
// the note, and a thread read a page at a time. Every page is
// saved as a screenshot in $REDRESS_UI_ARTIFACTS (default build/ui-test);
// with REDRESS_UI_DOCS=1 the ones docs/console.md shows are copied to
// docs/console/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const REDRESS = process.env.REDRESS || path.join(ROOT, 'build/redress');
const ARTIFACTS = process.env.REDRESS_UI_ARTIFACTS || path.join(ROOT, 'build/ui-test');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DOC_SHOTS = ['login', 'queue', 'new-dispute', 'dispute', 'evidence',
	'offers', 'make-offer', 'storefront', 'history', 'previews', 'verify', 'overview',
	'phone-queue', 'phone-dispute', 'awaiting-reply', 'thread', 'composer',
	'storefront-thread', 'search', 'bulk-results', 'assigned-elsewhere',
	'buyer-history', 'agents'];

const HOSTILE_NAME = '<img src=x onerror=alert(1)>.txt';
const HOSTILE_NOTE = '<script>alert(2)</script> and <b>bold</b>';

let data, server, base, browser;
let serverErr = '';
const keys = {};

function redress(...args) {
	return execFileSync(REDRESS, [...args, '--data', data], {
		encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// The same at another time (REDRESS_NOW), as the tests of the CLI do.
function redressAt(when, ...args) {
	const at = new Date(when).toISOString().replace(/\.\d{3}Z$/, 'Z');
	return execFileSync(REDRESS, [...args, '--data', data], {
		encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, REDRESS_NOW: at } });
}

function makeKey(role, name, storefront) {
	const args = ['key', 'create', '--role', role, '--name', name, '--json'];
	if (storefront)
		args.push('--storefront', storefront);
	return JSON.parse(redress(...args)).key;
}

async function call(key, method, url, body) {
	const res = await fetch(base + url, { method, headers: {
		Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
	body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	if (!res.ok)
		throw new Error(method + ' ' + url + ': ' + res.status + ' ' + text);
	return JSON.parse(text);
}

// The disputes of a list answer, whichever member holds them.
function listed(page) {
	return page.items || page.disputes;
}

async function seed() {
	// Three more disputes of the demo storefront and one of another, so the
	// queue and the overview have something to show; one settled by a
	// discount, one withdrawn.
	const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/dispute.json')));
	const open = async (order, reason, storefront) => call(keys.admin, 'POST',
		'/v1/disputes', { ...doc, order_ref: order, reason,
			storefront: storefront || 'demo-shop' });
	const a = await open('ORD-2001', 'not_received');
	const b = await open('ORD-2002', 'defective');
	await open('ORD-2003', 'wrong_item');
	await open('ORD-9001', 'late_delivery', 'other-shop');
	let d = await call(keys.agent, 'POST', `/v1/disputes/${b.id}/events`, { event: 'investigate' });
	const offers = await call(keys.agent, 'GET', `/v1/disputes/${b.id}/offers`);
	const discount = offers.offers.find((o) => o.type === 'partial_discount');
	d = await call(keys.agent, 'POST', `/v1/disputes/${b.id}/events`,
		{ event: 'make_offer', fields: { offer_id: discount.offer_id } });
	d = await call(keys.shop, 'POST', `/v1/disputes/${b.id}/events`, { event: 'accept_offer' });
	await call(keys.shop, 'POST', `/v1/disputes/${b.id}/events`,
		{ event: 'discount_issued', fields: { payment_ref: 'PSP-2002' } });
	await call(keys.shop, 'POST', `/v1/disputes/${a.id}/events`,
		{ event: 'withdraw', note: 'the parcel arrived after all' });
	// Two opened in the past with the command line: one 30 hours ago,
	// now 6 hours past its first-response SLA; one three days ago whose
	// SLA a sweep fired a day later (an escalation, an SLA breach). The
	// test server does not sweep (--sweep-interval 0), so the first stays
	// overdue.
	const file = path.join(data, 'old.json');
	const hour = 3600 * 1000;
	fs.writeFileSync(file, JSON.stringify({ ...doc, order_ref: 'ORD-2005',
		reason: 'missing_parts', storefront: 'demo-shop' }));
	redressAt(Date.now() - 30 * hour, 'open', file);
	fs.writeFileSync(file, JSON.stringify({ ...doc, order_ref: 'ORD-2006',
		reason: 'damaged', storefront: 'demo-shop' }));
	redressAt(Date.now() - 72 * hour, 'open', file);
	redressAt(Date.now() - 24 * hour, 'sweep');
}

before(async () => {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	data = fs.mkdtempSync(path.join(os.tmpdir(), 'redress-ui-'));
	fs.rmSync(data, { recursive: true });
	redress('init');
	keys.admin = makeKey('admin', 'demo-admin');
	keys.shop = makeKey('storefront', 'demo-shop', 'demo-shop');
	keys.agent = makeKey('agent', 'alice');
	keys.auditor = makeKey('auditor', 'audrey');
	keys.bob = makeKey('agent', 'bob');
	server = spawn(REDRESS, ['serve', '--listen', '127.0.0.1:0', '--data', data,
		'--rate-limit', '0', '--sweep-interval', '0'],
	{ stdio: ['ignore', 'pipe', 'pipe'] });
	server.stderr.on('data', (chunk) => { serverErr += chunk; });
	base = await new Promise((resolve, reject) => {
		let out = '';
		const timer = setTimeout(() => reject(new Error('server did not start: ' + serverErr)), 15000);
		server.stdout.on('data', (chunk) => {
			out += chunk;
			const m = /redress listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
			if (m) {
				clearTimeout(timer);
				resolve(m[1]);
			}
		});
		server.on('exit', (code) => reject(new Error('server exited ' + code + ': ' + serverErr)));
	});
	await seed();
	browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox'] });
});

after(async () => {
	if (browser)
		await browser.close();
	if (server && server.exitCode === null) {
		const exited = new Promise((resolve) => server.on('exit', resolve));
		server.kill('SIGTERM');
		// a clean stop; under the sanitizers, also no leak or error
		assert.equal(await exited, 0, 'the server stops cleanly: ' + serverErr);
	}
	if (data)
		fs.rmSync(data, { recursive: true, force: true });
	if (process.env.REDRESS_UI_DOCS === '1') {
		const docs = path.join(ROOT, 'docs/console');
		fs.mkdirSync(docs, { recursive: true });
		for (const name of DOC_SHOTS) {
			const from = path.join(ARTIFACTS, name + '.png');
			if (fs.existsSync(from))
				fs.copyFileSync(from, path.join(docs, name + '.png'));
		}
	}
});

// A page that records dialogs, page errors and CSP reports: none may occur.
async function newPage(opts) {
	const context = await browser.newContext({ viewport: { width: 1280, height: 860 },
		acceptDownloads: true, ...opts });
	const page = await context.newPage();
	page.trouble = [];
	page.on('dialog', (d) => {
		page.trouble.push('dialog: ' + d.message());
		d.dismiss();
	});
	page.on('pageerror', (e) => page.trouble.push('page error: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error')
			page.trouble.push('console: ' + m.text());
	});
	page.setDefaultTimeout(15000);
	return page;
}

// NAME.png: what the window shows (docs/console.md uses these);
// NAME-full.png: the whole page.
async function shot(page, name) {
	await page.evaluate(() => document.getElementById('toast').replaceChildren());
	await page.screenshot({ path: path.join(ARTIFACTS, name + '.png') });
	await page.screenshot({ path: path.join(ARTIFACTS, name + '-full.png'), fullPage: true });
}

async function scrollTo(page, selector) {
	await page.locator(selector).evaluate((el) => el.scrollIntoView({ block: 'start' }));
}

async function signIn(page, key) {
	await page.goto(base + '/ui/#/login');
	await page.getByLabel('API key').fill(key);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('heading', { name: 'Queue' }).waitFor();
}

async function signOut(page) {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.getByRole('heading', { name: /Sign in/ }).waitFor();
}

function assertCalm(page) {
	assert.deepEqual(page.trouble, [], 'no dialog, page error or console error');
}

let disputeId = null;

test('an agent opens a dispute, adds evidence and makes an offer; the storefront accepts and confirms the refund', async () => {
	const page = await newPage();

	await page.goto(base + '/ui/');
	await page.getByRole('heading', { name: /Sign in/ }).waitFor();
	await shot(page, 'login');
	// a wrong key is refused, and stays out of session storage
	await page.getByLabel('API key').fill('rdk_0000000000000000_' + 'A'.repeat(43));
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByText('That API key is not valid.').waitFor();
	assert.equal(await page.evaluate(() => sessionStorage.getItem('redress.key')), null);
	// the browser logs that 401 as a failed load: expected here, and only here
	page.trouble.length = 0;

	await signIn(page, keys.agent);
	assert.equal(await page.evaluate(() => sessionStorage.getItem('redress.key')), keys.agent);
	assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
	await page.getByText('ORD-2003').waitFor();
	// sorted by due time: the overdue one first, counting down in red
	assert.equal(await page.locator('tbody tr').first().locator('a').textContent(), 'ORD-2005');
	await page.locator('.due.overdue', { hasText: /overdue by 6 h/ }).waitFor();
	await shot(page, 'queue');
	await page.getByLabel('Overdue only').check();
	await page.getByRole('button', { name: 'Apply filters' }).click();
	await page.waitForURL(/overdue=true/);
	await page.locator('tbody tr').first().waitFor();
	// ORD-2005 past its first answer's deadline; with a workflow whose
	// escalated state has a clock, ORD-2006 too (escalated two days ago)
	const overdueRefs = listed(await call(keys.agent, 'GET', '/v1/disputes?overdue=true'))
		.map((d) => d.order_ref);
	assert.ok(overdueRefs.includes('ORD-2005') && !overdueRefs.includes('ORD-2003'));
	assert.deepEqual((await page.locator('tbody tr a').allTextContents()).sort(),
		overdueRefs.sort());
	await page.getByLabel('Overdue only').uncheck();
	// the queue filters by state through the API
	await page.getByLabel('State').selectOption('resolved');
	await page.getByRole('button', { name: 'Apply filters' }).click();
	await page.waitForURL(/state=resolved/);
	await page.getByText('ORD-2002').waitFor();
	assert.equal(await page.getByText('ORD-2003').count(), 0);

	// open a dispute from the form
	await page.getByRole('link', { name: 'Open a dispute' }).first().click();
	await page.getByLabel('Order reference').fill('ORD-1001');
	await page.getByLabel('Storefront').fill('demo-shop');
	await page.getByLabel('Buyer reference').fill('cust-77');
	await page.getByLabel('Reason').selectOption('damaged');
	await page.getByLabel('Description').fill('Arrived with a cracked base');
	await page.getByLabel('SKU').fill('LAMP-1');
	await page.getByLabel('Title').fill('Desk lamp');
	await page.getByLabel('Unit price').fill('100.00');
	await page.getByLabel('Unit cost').fill('40.00');
	await page.getByLabel('Shipping paid by the buyer').fill('15.00');
	await page.getByLabel('Seller\'s shipping cost').fill('30.00');
	await page.getByLabel('Return label cost').fill('25.00');
	await shot(page, 'new-dispute');
	await page.getByRole('button', { name: 'Open the dispute' }).click();
	await page.getByRole('heading', { name: 'Dispute ORD-1001' }).waitFor();
	disputeId = /#\/d\/([0-9A-Za-z]{26})/.exec(page.url())[1];
	const doc = await call(keys.agent, 'GET', '/v1/disputes/' + disputeId);
	assert.equal(doc.items[0].unit_price, 10000, 'amounts sent in minor units');
	assert.equal(doc.shipping_paid, 1500);

	// the buttons are the events an agent may apply in "opened"
	const events = await page.locator('[data-event]').evaluateAll((els) =>
		els.map((e) => e.getAttribute('data-event')).sort());
	assert.deepEqual(events, ['escalate', 'investigate', 'withdraw']);
	await page.locator('[data-event="investigate"]').click();
	await page.getByRole('button', { name: 'Apply investigate' }).click();
	await page.getByText('investigate applied').waitFor();
	await page.locator('.badge.investigating').first().waitFor();

	// upload a photo: a PNG the browser itself draws (a lamp, cracked)
	const photo = Buffer.from(await page.evaluate(async () => {
		const c = document.createElement('canvas');
		c.width = 320;
		c.height = 200;
		const g = c.getContext('2d');
		g.fillStyle = '#e9e4da';
		g.fillRect(0, 0, 320, 200);
		g.fillStyle = '#8a6d3b';
		g.fillRect(0, 160, 320, 40);
		g.fillStyle = '#3d4a5c';
		g.beginPath();
		g.ellipse(160, 150, 70, 16, 0, 0, Math.PI * 2);
		g.fill();
		g.fillRect(152, 62, 16, 84);
		g.fillStyle = '#f2c14e';
		g.beginPath();
		g.moveTo(105, 64);
		g.lineTo(215, 64);
		g.lineTo(188, 14);
		g.lineTo(132, 14);
		g.closePath();
		g.fill();
		g.strokeStyle = '#ffffff';
		g.lineWidth = 3;
		g.beginPath();
		g.moveTo(112, 146);
		g.lineTo(134, 156);
		g.lineTo(146, 141);
		g.lineTo(166, 160);
		g.lineTo(180, 148);
		g.stroke();
		const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/png'));
		return Array.from(new Uint8Array(await blob.arrayBuffer()));
	}));
	await page.locator('input[type="file"]').setInputFiles({ name: 'cracked-base.png',
		mimeType: 'image/png', buffer: photo });
	assert.equal(await page.getByLabel('Kind').inputValue(), 'photo');
	await page.getByLabel(/^Note/).last().fill('Photo the buyer sent by chat');
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.getByText('Evidence 1 added (image/png)').waitFor();
	await page.locator('[data-evidence="1"]').waitFor();

	// a file with a hostile name and note, dropped on the drop zone
	await page.evaluate(([name]) => {
		const transfer = new DataTransfer();
		transfer.items.add(new File(['The buyer wrote: the base is cracked.\n'], name,
			{ type: 'text/plain' }));
		const zone = document.querySelector('[data-dropzone]');
		zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true }));
		zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
	}, [HOSTILE_NAME]);
	await page.getByText('Chosen: ' + HOSTILE_NAME).waitFor();
	await page.getByLabel('Kind').selectOption('chat_transcript');
	await page.getByLabel(/^Note/).last().fill(HOSTILE_NOTE);
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.getByText('Evidence 2 added').waitFor();
	await page.locator('[data-evidence="2"]').waitFor();
	// shown literally, as text, in the evidence list and the timeline
	assert.ok(await page.locator('.evname', { hasText: HOSTILE_NAME }).count() >= 2);
	assert.ok(await page.locator('.evnote', { hasText: HOSTILE_NOTE }).count() >= 2);
	assert.equal(await page.locator('img[src="x"]').count(), 0, 'no injected image');
	assert.equal(await page.locator('main script, main b').count(), 0, 'no injected markup');
	// a call recording (a second of silence as WAV) and an invoice (PDF)
	const wav = Buffer.alloc(44 + 16000);
	wav.write('RIFF', 0);
	wav.writeUInt32LE(36 + 16000, 4);
	wav.write('WAVEfmt ', 8);
	wav.writeUInt32LE(16, 16);
	wav.writeUInt16LE(1, 20);
	wav.writeUInt16LE(1, 22);
	wav.writeUInt32LE(8000, 24);
	wav.writeUInt32LE(16000, 28);
	wav.writeUInt16LE(2, 32);
	wav.writeUInt16LE(16, 34);
	wav.write('data', 36);
	wav.writeUInt32LE(16000, 40);
	await page.locator('input[type="file"]').setInputFiles({ name: 'call-2026-03-02.wav',
		mimeType: 'audio/wav', buffer: wav });
	assert.equal(await page.getByLabel('Kind').inputValue(), 'call_recording');
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.getByText('Evidence 3 added (audio/x-wav)').waitFor();
	await page.locator('[data-evidence="3"]').waitFor();
	await page.locator('input[type="file"]').setInputFiles({ name: 'invoice.pdf',
		mimeType: 'application/pdf',
		buffer: Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n') });
	assert.equal(await page.getByLabel('Kind').inputValue(), 'invoice');
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.getByText('Evidence 4 added (application/pdf)').waitFor();
	await page.locator('[data-evidence="4"]').waitFor();
	await page.locator('[data-evidence="1"]').getByRole('button', { name: 'Preview' }).click();
	await page.locator('[data-evidence="1"] img').waitFor();
	await page.locator('[data-evidence="2"]').getByRole('button', { name: 'Preview' }).click();
	await page.locator('[data-evidence="2"] pre', { hasText: 'the base is cracked' }).waitFor();
	await scrollTo(page, '#ev-h');
	await shot(page, 'evidence');
	await page.evaluate(() => window.scrollTo(0, 0));
	await shot(page, 'dispute');
	assertCalm(page);

	// the ranked offers with their breakdown; make the full refund
	const rows = page.locator('table').filter({ hasText: 'Seller cost' }).locator('tbody tr');
	assert.ok(await rows.count() >= 3);
	await page.getByText('goods cost of the replacement').first().waitFor();
	await page.locator('[data-offer*="refund_keep_item"]').click();
	await page.getByRole('button', { name: 'Apply make offer' }).waitFor();
	await shot(page, 'make-offer');
	await scrollTo(page, '#off-h');
	await shot(page, 'offers');
	await page.getByRole('button', { name: 'Apply make offer' }).click();
	await page.getByText('make_offer applied').waitFor();
	await page.getByText('Offer awaiting the buyer').waitFor();
	assertCalm(page);

	// the storefront accepts the offer and confirms the refund it paid
	await signOut(page);
	assert.equal(await page.evaluate(() => sessionStorage.getItem('redress.key')), null);
	await signIn(page, keys.shop);
	// a storefront's queue holds its own storefront only
	assert.equal(await page.getByText('ORD-9001').count(), 0);
	await page.getByRole('link', { name: 'ORD-1001' }).click();
	await page.getByRole('heading', { name: 'Dispute ORD-1001' }).waitFor();
	const shopEvents = await page.locator('[data-event]').evaluateAll((els) =>
		els.map((e) => e.getAttribute('data-event')).sort());
	assert.deepEqual(shopEvents, ['accept_offer', 'counter_offer', 'reject_offer', 'withdraw']);
	await page.locator('[data-event="accept_offer"]').click();
	await page.locator('form.eventform[aria-label="accept_offer"]').getByLabel('Note').fill('The buyer accepted by e-mail');
	await page.getByRole('button', { name: 'Apply accept offer' }).click();
	await page.getByText('accept_offer applied').waitFor();
	await page.locator('[data-event="refund_issued"]').click();
	await page.getByLabel('payment ref').fill('PSP-4471-0092');
	await shot(page, 'storefront');
	await page.getByRole('button', { name: 'Apply refund issued' }).click();
	await page.getByText('refund_issued applied').waitFor();
	await page.locator('.badge.resolved').first().waitFor();
	await page.getByText('refunded').first().waitFor();
	assertCalm(page);
	await page.context().close();
});

test('an auditor reads the history as commits, previews evidence, verifies and exports', async () => {
	assert.ok(disputeId, 'the first test opened a dispute');
	const page = await newPage();

	await signIn(page, keys.auditor);
	assert.equal(await page.getByRole('link', { name: 'Open a dispute' }).count(), 0,
		'an auditor is offered no writes');
	await page.goto(base + '/ui/#/d/' + disputeId);
	await page.getByRole('heading', { name: 'Dispute ORD-1001' }).waitFor();
	assert.equal(await page.locator('[data-event]').count(), 0);
	assert.equal(await page.getByRole('button', { name: 'Upload' }).count(), 0);
	await page.getByRole('link', { name: 'History and audit' }).click();
	await page.getByRole('heading', { name: 'History of ORD-1001' }).waitFor();

	// one row per commit, with its id, author and what changed
	const history = await call(keys.auditor, 'GET', `/v1/disputes/${disputeId}/history`);
	const commitRows = page.locator('table.commits tbody tr');
	assert.equal(await commitRows.count(), history.commits.length);
	const newest = history.commits[history.commits.length - 1];
	await page.locator(`code[title="${newest.commit}"]`).waitFor();
	await page.getByText('payment_ref = PSP-4471-0092').waitFor();
	await page.getByText('make_offer by agent:alice').waitFor();
	// previews: the photo inline, the transcript as text
	await page.locator('[data-evidence="1"] img').waitFor();
	assert.ok(await page.locator('[data-evidence="1"] img').evaluate((img) =>
		img.complete && img.naturalWidth === 320));
	await page.locator('[data-evidence="2"] pre', { hasText: 'the base is cracked' }).waitFor();
	// a call recording gets a player, a PDF a download
	await page.locator('[data-evidence="3"] audio[controls]').waitFor();
	await page.locator('[data-evidence="4"]').getByText('No preview for application/pdf').waitFor();
	const [pdf] = await Promise.all([
		page.waitForEvent('download'),
		page.locator('[data-evidence="4"] .preview').getByRole('button', { name: 'Download' }).click(),
	]);
	assert.equal(pdf.suggestedFilename(), 'evidence-4.pdf');
	await page.locator('.evname', { hasText: HOSTILE_NAME }).first().waitFor();
	await shot(page, 'history');
	await scrollTo(page, '#evp-h');
	await shot(page, 'previews');
	await page.evaluate(() => window.scrollTo(0, 0));

	await page.getByRole('button', { name: 'Verify this dispute' }).click();
	await page.getByText('Verified: nothing differs.').waitFor();
	assert.equal(await page.locator('.checks li.pass').count(), 6);
	assert.equal(await page.locator('.checks li.fail').count(), 0);
	await shot(page, 'verify');

	const [download] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: 'Export (.tar.gz)' }).click(),
	]);
	assert.equal(download.suggestedFilename(), `dispute-${disputeId}.tar.gz`);
	const saved = path.join(ARTIFACTS, 'export.tar.gz');
	await download.saveAs(saved);
	const bytes = fs.readFileSync(saved);
	assert.equal(bytes[0], 0x1f);
	assert.equal(bytes[1], 0x8b, 'a gzip file');
	const listing = execFileSync('tar', ['-tzf', saved], { encoding: 'utf8' });
	assert.match(listing, /evidence/);
	assertCalm(page);
	await page.context().close();
});

test('the overview draws its charts from the running totals', async () => {
	const page = await newPage();

	await signIn(page, keys.admin);
	await page.getByRole('link', { name: 'Overview' }).click();
	await page.getByRole('heading', { name: 'Overview' }).waitFor();
	const ov = await call(keys.admin, 'GET', '/v1/overview');
	assert.equal(ov.disputes.total, 7);
	assert.equal(ov.resolution.resolved, 3);
	assert.equal(ov.sla_breaches, 1);
	assert.equal(await page.locator('figure.chart svg[role="img"]').count(), 4);
	for (const name of ['Disputes by state', 'Disputes by reason',
		'Offers made and accepted, by type', 'Time from opening to outcome'])
		await page.locator('figcaption', { hasText: name }).waitFor();
	// a bar per state with disputes, labelled by the state's name
	const labels = await page.locator('figure.chart').first().locator('svg text.label')
		.allTextContents();
	assert.ok(labels.includes('resolved') && labels.includes('closed'));
	await page.locator('svg .median').waitFor({ state: 'attached' });
	await page.locator('svg .median-label').waitFor();
	await shot(page, 'overview');
	assertCalm(page);

	// a storefront key sees its own storefront's overview only
	await signOut(page);
	await signIn(page, keys.shop);
	await page.goto(base + '/ui/#/overview');
	await page.getByRole('heading', { name: 'Overview of demo-shop' }).waitFor();
	assertCalm(page);
	await page.context().close();
});

test('everything is reachable with the keyboard alone, with visible focus', async () => {
	const page = await newPage();

	await page.goto(base + '/ui/#/login');
	await page.getByRole('heading', { name: /Sign in/ }).waitFor();
	// Tab: the skip button, then the key field
	await page.keyboard.press('Tab');
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.type), 'password');
	await page.keyboard.type(keys.agent);
	await page.keyboard.press('Enter');
	await page.getByRole('heading', { name: 'Queue' }).waitFor();

	// Tab to the dispute's link and open it with Enter
	const reach = async (test, limit = 80) => {
		for (let i = 0; i < limit; i++) {
			await page.keyboard.press('Tab');
			if (await page.evaluate(test))
				return;
		}
		throw new Error('not reachable with Tab: ' + test);
	};
	await reach(() => document.activeElement.textContent === 'ORD-2003');
	const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
	assert.notEqual(outline, 'none', 'focus is visible');
	await page.keyboard.press('Enter');
	await page.getByRole('heading', { name: 'Dispute ORD-2003' }).waitFor();
	await reach(() => document.activeElement.getAttribute('data-event') === 'investigate');
	await page.keyboard.press('Enter');
	// the form takes the focus; Tab to its submit button
	await reach(() => document.activeElement.textContent === 'Apply investigate', 5);
	await page.keyboard.press('Enter');
	await page.getByText('investigate applied').waitFor();
	await page.locator('.badge.investigating').first().waitFor();
	assertCalm(page);
	await page.context().close();
});

test('at a phone\'s width nothing overflows sideways', async () => {
	const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true,
		hasTouch: true });
	const noOverflow = async (what) => {
		const [scroll, inner] = await page.evaluate(() =>
			[document.documentElement.scrollWidth, window.innerWidth]);
		assert.ok(scroll <= inner, `${what}: scrollWidth ${scroll} > innerWidth ${inner}`);
	};

	await page.goto(base + '/ui/#/login');
	await page.getByRole('heading', { name: /Sign in/ }).waitFor();
	await noOverflow('sign in');
	await signIn(page, keys.agent);
	await noOverflow('queue');
	await shot(page, 'phone-queue');
	await page.goto(base + '/ui/#/d/' + disputeId);
	await page.getByRole('heading', { name: 'Dispute ORD-1001' }).waitFor();
	await noOverflow('dispute');
	await shot(page, 'phone-dispute');
	await page.goto(base + '/ui/#/d/' + disputeId + '/audit');
	await page.getByRole('heading', { name: 'History of ORD-1001' }).waitFor();
	await noOverflow('history');
	await page.goto(base + '/ui/#/overview');
	await page.getByRole('heading', { name: 'Overview' }).waitFor();
	await noOverflow('overview');
	await page.goto(base + '/ui/#/new');
	await page.getByRole('heading', { name: 'Open a dispute' }).waitFor();
	await noOverflow('open a dispute');
	await page.goto(base + '/ui/#/agents');
	await page.getByRole('heading', { name: 'Agents' }).waitFor();
	await noOverflow('agents');
	// an open dispute, with its assignee's buttons and the buyer's history
	const open = listed(await call(keys.agent, 'GET', '/v1/disputes?order_ref=ORD-2003'))[0];
	await page.goto(base + '/ui/#/d/' + open.id);
	await page.getByRole('heading', { name: 'Dispute ORD-2003' }).waitFor();
	await page.locator('section.buyer').waitFor();
	await page.getByRole('button', { name: 'Assign', exact: true }).waitFor();
	await noOverflow('open dispute');
	assertCalm(page);
	await page.context().close();
});

test('the console is served with a strict Content-Security-Policy that blocks inline script', async () => {
	const page = await newPage();
	const res = await page.goto(base + '/ui/');
	const csp = res.headers()['content-security-policy'];

	assert.match(csp, /default-src 'none'/);
	assert.match(csp, /script-src 'self'(;|$)/);
	assert.match(csp, /frame-ancestors 'none'/);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
	assert.equal(res.headers()['x-content-type-options'], 'nosniff');
	// an inline script added to the page is refused by the browser
	const ran = await page.evaluate(async () => {
		window.injected = false;
		const el = document.createElement('script');
		el.textContent = 'window.injected = true';
		document.body.appendChild(el);
		await new Promise((r) => setTimeout(r, 100));
		return window.injected;
	});
	assert.equal(ran, false, 'inline script blocked');
	// the console's source builds no HTML from strings
	const source = fs.readFileSync(path.join(ROOT, 'ui/app.js'), 'utf8');
	assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function/);
	await page.context().close();
});

// ---- the conversation with the buyer -----------------------------------------------------

const NOTE = 'Carrier confirms a crushed box; refund likely. <b>between us</b>';
const INBOUND = 'Die Lampe kam mit gebrochenem Fuß an.\nWas nun?';
const OUTBOUND = 'Das tut uns leid!\nWir kümmern uns darum.';
let talkId = null;

test('the awaiting-reply queue lists a buyer waiting for an answer, with the reply countdown', async () => {
	const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/dispute.json')));
	// one whose buyer wrote just now (de-DE, as the example), one whose
	// buyer wrote ten days ago and is long overdue an answer
	const d = await call(keys.admin, 'POST', '/v1/disputes',
		{ ...doc, order_ref: 'ORD-3001', storefront: 'demo-shop' });
	talkId = d.id;
	await call(keys.shop, 'POST', `/v1/disputes/${talkId}/messages`,
		{ direction: 'inbound', channel: 'chat', body: INBOUND, language: 'de-DE' });
	const file = path.join(data, 'waiting.json');
	fs.writeFileSync(file, JSON.stringify({ ...doc, order_ref: 'ORD-3002',
		storefront: 'demo-shop' }));
	const when = Date.now() - 10 * 24 * 3600 * 1000;
	const old = JSON.parse(redressAt(when, 'open', file, '--json'));
	redressAt(when, 'message', old.id, '--direction', 'inbound', '--channel', 'email',
		'--body', 'Where is my refund?', '--as', 'storefront:demo-shop');

	const page = await newPage();
	await signIn(page, keys.agent);
	await page.getByRole('link', { name: 'Awaiting reply' }).click();
	await page.waitForURL(/awaiting_reply=true/);
	await page.locator('tbody tr a', { hasText: 'ORD-3001' }).waitFor();
	const listed = await call(keys.agent, 'GET', '/v1/disputes?awaiting_reply=true');
	assert.deepEqual(await page.locator('tbody tr a').allTextContents(),
		listed.disputes.map((x) => x.order_ref), 'the disputes awaiting a reply');
	// the most overdue answer first, shown as overdue; the new one counting down
	assert.equal(await page.locator('tbody tr').first().locator('a').textContent(), 'ORD-3002');
	await page.locator(`td[data-reply] .due.overdue`).first().waitFor();
	const fresh = page.locator('tbody tr', { hasText: 'ORD-3001' }).locator('td[data-reply="1"] .due');
	assert.match(await fresh.textContent(), /^due in /);
	assert.equal(await page.getByLabel('Awaiting a reply only').isChecked(), true);
	await shot(page, 'awaiting-reply');
	// the other tab is the whole queue again
	await page.getByRole('link', { name: 'All disputes' }).click();
	await page.getByText('ORD-2003').waitFor();
	assertCalm(page);
	await page.context().close();
});

test('an agent keeps an internal note, answers, sends a template in the buyer\'s language and logs a call', async () => {
	assert.ok(talkId, 'the previous test opened a dispute');
	const page = await newPage();
	await signIn(page, keys.agent);
	await page.goto(base + '/ui/#/d/' + talkId);
	await page.getByRole('heading', { name: 'Dispute ORD-3001' }).waitFor();
	// the buyer's words, line breaks kept, and the reply clock in the summary
	const first = page.locator('.thread li[data-message="1"]');
	await first.waitFor();
	assert.equal(await first.locator('.msgbody').textContent(), INBOUND);
	assert.equal(await first.locator('.msgbody').evaluate((el) =>
		getComputedStyle(el).whiteSpace), 'pre-wrap');
	assert.match(await first.innerText(), /From the buyer/);
	assert.match(await first.innerText(), /demo-shop \(storefront\) · via chat · de-DE/);
	await page.getByText('Reply to the buyer').waitFor();
	// the thread holds the events too, in time order: opened before message 1
	const order = await page.locator('.thread > li').evaluateAll((els) =>
		els.map((e) => e.getAttribute('data-message') ? 'm' + e.getAttribute('data-message')
			: 'e' + e.getAttribute('data-seq')));
	assert.deepEqual(order, ['e1', 'm1']);

	const form = page.locator('form[aria-label="Write a message"]');
	// an internal note: set apart, and its markup stays text
	await form.getByLabel('Direction').selectOption('internal');
	assert.equal(await form.getByLabel(/^Language/).inputValue(), '', 'a note has no buyer\'s language');
	assert.equal(await form.getByLabel(/^Template/).isVisible(), false, 'no template for a note');
	await form.getByLabel(/^Message/).fill(NOTE);
	await form.getByRole('button', { name: 'Send' }).click();
	await page.getByText('Internal note 2 recorded.').waitFor();
	const note = page.locator('.thread li[data-message="2"]');
	await note.waitFor();
	assert.equal(await note.getAttribute('class'), 'msg internal');
	await note.getByText('Internal note — not visible to the storefront').waitFor();
	assert.equal(await note.locator('.msgbody').textContent(), NOTE);
	assert.equal(await page.locator('main b').count(), 0, 'no injected markup');
	const [plain, internal] = await Promise.all([
		first.locator('.bubble').evaluate((el) => getComputedStyle(el).backgroundColor),
		note.locator('.bubble').evaluate((el) => getComputedStyle(el).backgroundColor)]);
	assert.notEqual(plain, internal, 'an internal note looks different');

	// an answer in free text, to the buyer
	assert.equal(await form.getByLabel('Direction').inputValue(), 'outbound');
	assert.equal(await form.getByLabel(/^Language/).inputValue(), 'de-DE', 'the dispute\'s locale');
	await form.getByLabel(/^Message/).fill(OUTBOUND);
	await form.getByRole('button', { name: 'Send' }).click();
	await page.getByText('Message 3 recorded.').waitFor();
	const answer = page.locator('.thread li[data-message="3"]');
	await answer.getByText('To the buyer').waitFor();
	assert.equal(await answer.locator('.msgbody').textContent(), OUTBOUND);
	await page.getByText('Reply to the buyer').waitFor({ state: 'detached' });

	// a template: the dispute's problem next to the variable it names
	await form.getByLabel(/^Template/).selectOption('reshipment_sent');
	await form.getByLabel('carrier').waitFor();
	assert.equal(await form.getByLabel(/^Message/).isVisible(), false);
	await form.getByRole('button', { name: 'Preview' }).click();
	await form.getByLabel('carrier').locator('xpath=..').getByRole('alert')
		.getByText('needs a value for carrier').waitFor();
	assert.equal(await form.getByLabel('carrier').getAttribute('aria-invalid'), 'true');
	// the browser logs that 422 as a failed load: expected here
	page.trouble = page.trouble.filter((t) => !/status of 422/.test(t));
	// one with nothing to fill in, previewed in the buyer's language and sent
	await form.getByLabel(/^Template/).selectOption('request_photos');
	await form.getByText('Filled in by the dispute: order_ref, item.').waitFor();
	await form.getByRole('button', { name: 'Preview' }).click();
	const preview = form.locator('.rendered');
	await preview.getByText('in de-DE (the de text)').waitFor();
	const rendered = await preview.locator('.msgbody').textContent();
	assert.match(rendered, /Guten Tag/);
	assert.match(rendered, /ORD-3001/);
	assert.match(rendered, /Desk lamp/);
	// a language without texts falls back to English, and says so
	await form.getByLabel(/^Language/).fill('ko-KR');
	await form.getByRole('button', { name: 'Preview' }).click();
	await preview.getByText('There is no text in ko-KR; this is the English one.').waitFor();
	await form.getByLabel(/^Language/).fill('de-DE');
	await form.getByRole('button', { name: 'Preview' }).click();
	await preview.getByText('in de-DE (the de text)').waitFor();
	await form.getByLabel('Channel').selectOption('email');
	await scrollTo(page, '#thread-h');
	await shot(page, 'composer');
	await form.getByRole('button', { name: 'Send' }).click();
	await page.getByText('Message 4 recorded.').waitFor();
	const sent = page.locator('.thread li[data-message="4"]');
	await sent.getByText('From the template request_photos').waitFor();
	assert.equal(await sent.locator('.msgbody').textContent(), rendered, 'sent as previewed');
	const api4 = (await call(keys.agent, 'GET', `/v1/disputes/${talkId}/messages?after=3`)).items[0];
	assert.equal(api4.template, 'request_photos');
	assert.equal(api4.language, 'de-DE');
	assert.equal(api4.channel, 'email');

	// log a call: who called, how long, what was said
	await page.getByText('Log a call').click();
	const callForm = page.locator('form[aria-label="Log a call"]');
	await callForm.getByLabel('Caller').fill('buyer');
	await callForm.getByLabel('Minutes').fill('5');
	await callForm.getByLabel('Seconds').fill('12');
	await callForm.getByLabel('Summary of the call').fill('Buyer called: prefers a refund to a replacement.');
	await callForm.getByRole('button', { name: 'Log the call' }).click();
	await page.getByText('Call logged as message 5.').waitFor();
	const phone = page.locator('.thread li[data-message="5"]');
	await phone.getByText('Call from buyer, 5 min 12 s').waitFor();
	await phone.getByText('via phone', { exact: false }).waitFor();
	const api5 = (await call(keys.agent, 'GET', `/v1/disputes/${talkId}/messages?after=4`)).items[0];
	assert.equal(api5.channel, 'phone');
	assert.deepEqual(api5.call, { caller: 'buyer', duration_seconds: 312 });
	assert.equal(api5.body, 'Buyer called: prefers a refund to a replacement.');
	await scrollTo(page, '#thread-h');
	await shot(page, 'thread');
	assertCalm(page);
	await page.context().close();
});

test('a storefront reads the buyer\'s and the seller\'s messages, never an internal note, and records what its buyer wrote', async () => {
	assert.ok(talkId, 'an earlier test opened a dispute');
	const page = await newPage();
	await signIn(page, keys.shop);
	await page.goto(base + '/ui/#/d/' + talkId);
	await page.getByRole('heading', { name: 'Dispute ORD-3001' }).waitFor();
	await page.locator('.thread li[data-message="5"]').waitFor();
	const shown = await page.locator('.thread li.msg').evaluateAll((els) =>
		els.map((e) => e.getAttribute('data-message') + ' ' + e.getAttribute('data-direction')));
	assert.deepEqual(shown, ['1 inbound', '3 outbound', '4 outbound', '5 inbound']);
	const text = await page.evaluate(() => document.body.innerText);
	assert.ok(text.includes('Wir kümmern uns darum.'), 'the outbound message shows');
	assert.ok(!text.includes('Carrier confirms'), 'the internal note never shows');
	assert.ok(!text.includes('Internal note'), 'nor a trace of it');
	assert.ok(!(await page.content()).includes('Carrier confirms'), 'not even hidden');
	// a storefront records its buyer's words: inbound only, no templates
	const form = page.locator('form[aria-label="What your buyer wrote"]');
	assert.equal(await form.getByLabel('Direction').count(), 0);
	assert.equal(await form.getByLabel(/^Template/).isVisible(), false);
	await form.getByLabel('What your buyer wrote').fill('Danke, ich schicke Fotos.');
	await form.getByRole('button', { name: 'Send' }).click();
	await page.getByText('Message 6 recorded.').waitFor();
	const inbound = page.locator('.thread li[data-message="6"]');
	await inbound.getByText('From the buyer').waitFor();
	// the call the buyer made (message 5) has had no answer yet: the clock
	// runs from it, and a second inbound message leaves it as it is
	assert.equal((await call(keys.shop, 'GET', `/v1/disputes/${talkId}`)).reply_deadline.since_message, 5,
		'the buyer awaits an answer since the call');
	await scrollTo(page, '#thread-h');
	await shot(page, 'storefront-thread');
	assertCalm(page);

	// an auditor reads every message and may write none
	await signOut(page);
	await signIn(page, keys.auditor);
	await page.goto(base + '/ui/#/d/' + talkId);
	await page.locator('.thread li[data-message="2"]').getByText('Internal note').waitFor();
	assert.equal(await page.locator('form[aria-label="Write a message"]').count(), 0);
	assert.equal(await page.getByText('Log a call').count(), 0);
	assertCalm(page);
	await page.context().close();
});

test('a long thread is read a page at a time', async () => {
	const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/dispute.json')));
	const d = await call(keys.admin, 'POST', '/v1/disputes',
		{ ...doc, order_ref: 'ORD-3003', storefront: 'demo-shop' });
	for (let i = 1; i <= 230; i++)
		await call(keys.admin, 'POST', `/v1/disputes/${d.id}/messages`, {
			direction: i % 2 ? 'inbound' : 'outbound', channel: 'chat',
			body: 'message number ' + i });
	const page = await newPage();
	await signIn(page, keys.agent);
	await page.goto(base + '/ui/#/d/' + d.id);
	await page.getByRole('heading', { name: 'Dispute ORD-3003' }).waitFor();
	// two pages of 100 at first, then the rest on asking
	await page.locator('.thread li[data-message="200"]').waitFor();
	assert.equal(await page.locator('.thread li.msg').count(), 200);
	await page.getByText('(200 messages shown so far)').waitFor();
	await page.getByRole('button', { name: 'Load later messages' }).click();
	await page.locator('.thread li[data-message="230"]').getByText('message number 230').waitFor();
	assert.equal(await page.locator('.thread li.msg').count(), 230);
	assert.equal(await page.getByRole('button', { name: 'Load later messages' }).count(), 0);
	const numbers = await page.locator('.thread li.msg').evaluateAll((els) =>
		els.map((e) => Number(e.getAttribute('data-message'))));
	assert.deepEqual(numbers, Array.from({ length: 230 }, (_, i) => i + 1), 'in order');
	assertCalm(page);
	await page.context().close();
});

// ---- the agent's workbench: search, claim and assign, many at once, the buyer's history ----

// A dispute of demo-shop from the example, with changes.
async function openDispute(changes) {
	const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/dispute.json')));
	return call(keys.admin, 'POST', '/v1/disputes', { ...doc, storefront: 'demo-shop',
		...changes });
}

// Drops the browser's report of an expected refusal (a failed load).
function expectRefusal(page, status) {
	page.trouble = page.trouble.filter((t) => !t.includes('status of ' + status));
}

// 11500 -> "115.00 USD", as the console writes money
function usd(minor) {
	const digits = String(minor).padStart(3, '0');
	return digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' +
		digits.slice(-2) + ' USD';
}

test('the queue searches by words and by order reference, and keeps the search in the address', async () => {
	await openDispute({ order_ref: 'ORD-5001', buyer_ref: 'cust-501',
		description: 'The porcelain teapot arrived in three pieces',
		items: [{ sku: 'POT-9', title: 'Porcelain pot', quantity: 1, unit_price: 4500,
			unit_cost: 1500 }] });
	const other = await openDispute({ order_ref: 'ORD-5002', buyer_ref: 'cust-502',
		description: 'A mug with a chipped handle',
		items: [{ sku: 'MUG-2', title: 'Mug', quantity: 1, unit_price: 1200 }] });
	await call(keys.admin, 'POST', `/v1/disputes/${other.id}/messages`, { direction: 'outbound',
		channel: 'email', body: 'Was the teapot in the same parcel as the mug?' });

	const page = await newPage();
	await signIn(page, keys.agent);
	// words: Enter searches, best match first, as the API ranks them
	await page.getByRole('searchbox', { name: /^Search/ }).fill('teapot');
	await page.getByRole('searchbox', { name: /^Search/ }).press('Enter');
	await page.waitForURL(/q=teapot/);
	await page.locator('tbody tr a', { hasText: 'ORD-5001' }).waitFor();
	const api = listed(await call(keys.agent, 'GET', '/v1/disputes?q=teapot'));
	assert.ok(api.some((d) => d.order_ref === 'ORD-5001'), 'the API finds the description\'s word');
	assert.deepEqual(await page.locator('tbody tr td:not(.pick) a').allTextContents(),
		api.map((d) => d.order_ref), 'the API\'s order, best match first');
	assert.ok(!(await page.locator('tbody tr a').allTextContents()).includes('ORD-2003'));
	await page.locator('th', { hasText: 'Match' }).waitFor();
	assert.equal(await page.locator('tbody tr').first().locator('td[data-rank]').textContent(), '#1');
	assert.equal(await page.locator('tbody tr').first().locator('td[data-rank]')
		.getAttribute('data-rank'), String(api[0].search.rank));
	await page.getByText(/match "teapot", best match first/).waitFor();
	await shot(page, 'search');
	// a reload keeps the search
	await page.reload();
	await page.locator('tbody tr a', { hasText: 'ORD-5001' }).waitFor();
	assert.equal(await page.getByRole('searchbox', { name: /^Search/ }).inputValue(), 'teapot');
	// words combine with the other filters: no resolved dispute has them
	await page.getByLabel('State').selectOption('resolved');
	await page.getByRole('button', { name: 'Apply filters' }).click();
	await page.waitForURL(/state=resolved/);
	await page.getByText('No disputes match.').waitFor();
	assert.match(page.url(), /q=teapot/);
	// an exact order reference
	await page.getByRole('link', { name: 'Clear' }).click();
	await page.waitForURL(/#\/queue$/);
	await page.getByLabel(/^Order reference/).fill('ORD-2003');
	await page.getByLabel(/^Order reference/).press('Enter');
	await page.waitForURL(/order_ref=ORD-2003/);
	await page.locator('tbody tr').first().waitFor();
	assert.deepEqual(await page.locator('tbody tr td:not(.pick) a').allTextContents(), ['ORD-2003']);
	// a SKU
	await page.getByLabel(/^Order reference/).fill('');
	await page.getByLabel(/^SKU/).fill('MUG-2');
	await page.getByRole('button', { name: 'Apply filters' }).click();
	await page.waitForURL(/sku=MUG-2/);
	await page.locator('tbody tr a', { hasText: 'ORD-5002' }).waitFor();
	assert.deepEqual(await page.locator('tbody tr td:not(.pick) a').allTextContents(), ['ORD-5002']);
	// the words of an internal note find nothing
	await call(keys.admin, 'POST', `/v1/disputes/${other.id}/messages`, { direction: 'internal',
		channel: 'other', body: 'Zanzibar warehouse mixed the parcels up' });
	await page.getByRole('link', { name: 'Clear' }).click();
	await page.waitForURL(/#\/queue$/);
	await page.getByRole('searchbox', { name: /^Search/ }).fill('zanzibar');
	await page.getByRole('searchbox', { name: /^Search/ }).press('Enter');
	await page.waitForURL(/q=zanzibar/);
	await page.getByText('No disputes match.').waitFor();
	assertCalm(page);

	// a storefront finds its own disputes only
	const everyone = listed(await call(keys.agent, 'GET', '/v1/disputes?q=cracked&limit=100'));
	assert.ok(everyone.some((d) => d.order_ref === 'ORD-9001'), 'an agent finds other-shop\'s');
	await signOut(page);
	await signIn(page, keys.shop);
	await page.goto(base + '/ui/#/queue?q=cracked');
	await page.locator('tbody tr a').first().waitFor();
	const shops = await page.locator('tbody tr td a').allTextContents();
	assert.ok(shops.length > 0 && !shops.includes('ORD-9001'), 'not other-shop\'s: ' + shops);
	assert.equal(await page.locator('input[data-select]').count(), 0);
	assertCalm(page);
	await page.context().close();
});

let claimed = null;

test('an agent claims the most urgent dispute, and assignment is shown, refused and handed over', async () => {
	// two disputes long overdue: the older is the most urgent of all
	const file = path.join(data, 'claim.json');
	const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/dispute.json')));
	const day = 24 * 3600 * 1000;
	fs.writeFileSync(file, JSON.stringify({ ...doc, order_ref: 'ORD-4002', storefront: 'demo-shop' }));
	redressAt(Date.now() - 20 * day, 'open', file);
	fs.writeFileSync(file, JSON.stringify({ ...doc, order_ref: 'ORD-4001', storefront: 'demo-shop' }));
	claimed = JSON.parse(redressAt(Date.now() - 40 * day, 'open', file, '--json')).id;

	const page = await newPage();
	await signIn(page, keys.bob);
	await page.getByRole('button', { name: 'Claim next' }).click();
	await page.getByRole('heading', { name: 'Dispute ORD-4001' }).waitFor();
	assert.equal(page.url().split('#/d/')[1], claimed);
	await page.locator('[data-assignee="bob"]', { hasText: 'bob (you)' }).waitFor();
	assert.equal((await call(keys.bob, 'GET', `/v1/disputes/${claimed}`)).assignee, 'bob');
	await shot(page, 'claimed');
	// the next claim is the next most urgent
	await page.getByRole('link', { name: 'Queue' }).click();
	await page.getByRole('button', { name: 'Claim next' }).click();
	await page.getByRole('heading', { name: 'Dispute ORD-4002' }).waitFor();
	// "assigned to me" lists both
	await page.goto(base + '/ui/#/queue');
	await page.getByLabel('Assigned to me').check();
	await page.getByRole('button', { name: 'Apply filters' }).click();
	await page.waitForURL(/assignee=me/);
	await page.locator('tbody tr a', { hasText: 'ORD-4001' }).waitFor();
	assert.deepEqual((await page.locator('tbody tr td:not(.pick) a').allTextContents()).sort(),
		['ORD-4001', 'ORD-4002']);
	assertCalm(page);

	// another agent may not take it: the 409 names the assignee
	await signOut(page);
	await signIn(page, keys.agent);
	await page.goto(base + '/ui/#/d/' + claimed);
	await page.getByRole('heading', { name: 'Dispute ORD-4001' }).waitFor();
	await page.getByText('Only bob or an admin may change this dispute').waitFor();
	await page.getByRole('button', { name: 'Take' }).click();
	await page.getByRole('alert').filter({ hasText: 'assigned to bob' }).waitFor();
	assert.match(await page.getByRole('alert').textContent(), /Refused \(409\)/);
	expectRefusal(page, 409);
	assert.equal((await call(keys.agent, 'GET', `/v1/disputes/${claimed}`)).assignee, 'bob');
	await shot(page, 'assigned-elsewhere');
	assertCalm(page);

	// an admin hands it over to alice, then takes it off her
	await signOut(page);
	await signIn(page, keys.admin);
	await page.goto(base + '/ui/#/d/' + claimed);
	await page.getByRole('heading', { name: 'Dispute ORD-4001' }).waitFor();
	assert.equal(await page.getByRole('button', { name: 'Take' }).count(), 0, 'an admin is no agent');
	const names = await page.getByLabel('Assign to').locator('option').allTextContents();
	assert.ok(names.includes('alice') && !names.includes('bob'), 'the other agents: ' + names);
	await page.getByLabel('Assign to').selectOption('alice');
	await page.getByRole('button', { name: 'Assign', exact: true }).click();
	await page.getByText('ORD-4001 is assigned to alice.').waitFor();
	await page.locator('[data-assignee="alice"]').waitFor();
	assert.equal((await call(keys.admin, 'GET', `/v1/disputes/${claimed}`)).assignee, 'alice');
	await page.getByRole('button', { name: 'Unassign' }).click();
	await page.getByText('Nobody has this dispute yet.').waitFor();
	assert.equal((await call(keys.admin, 'GET', `/v1/disputes/${claimed}`)).assignee ?? null, null);
	assertCalm(page);
	await page.context().close();
});

test('the agents view counts each agent\'s open, overdue and awaiting-reply disputes', async () => {
	const page = await newPage();
	await signIn(page, keys.agent);
	await page.getByRole('link', { name: 'Agents' }).click();
	await page.getByRole('heading', { name: 'Agents' }).waitFor();
	const agents = (await call(keys.agent, 'GET', '/v1/agents')).items;
	assert.deepEqual(await page.locator('tr[data-agent]').evaluateAll((els) =>
		els.map((e) => e.getAttribute('data-agent'))), agents.map((a) => a.name));
	for (const a of agents) {
		const cells = await page.locator(`tr[data-agent="${a.name}"] td.num`).allTextContents();
		assert.deepEqual(cells, [String(a.open), String(a.overdue), String(a.awaiting_reply)]);
	}
	const bob = agents.find((a) => a.name === 'bob');
	assert.equal(bob.open, 1, 'bob has ORD-4002');
	await shot(page, 'agents');
	// an agent's name lists their disputes
	await page.getByRole('link', { name: 'bob' }).click();
	await page.waitForURL(/assignee=bob/);
	await page.locator('tbody tr a', { hasText: 'ORD-4002' }).waitFor();
	assertCalm(page);
	await page.context().close();
});

test('an agent escalates two disputes at once, and a failing one shows its problem', async () => {
	const a = await openDispute({ order_ref: 'ORD-6001' });
	const b = await openDispute({ order_ref: 'ORD-6002' });
	const c = await openDispute({ order_ref: 'ORD-6003' });
	const resolved = listed(await call(keys.agent, 'GET', '/v1/disputes?order_ref=ORD-2002'))[0];
	assert.equal(resolved.state, 'resolved');

	const page = await newPage();
	await signIn(page, keys.agent);
	await page.getByLabel('Select ORD-6001').check();
	await page.getByLabel('Select ORD-6002').check();
	await page.getByText('2 disputes selected.').waitFor();
	await page.getByLabel('Action').selectOption('escalate');
	await page.getByLabel(/^Note/).fill('Both carriers lost the parcel');
	await shot(page, 'bulk');
	await page.getByRole('button', { name: 'Apply to selected' }).click();
	await page.getByText('escalate: 2 succeeded, 0 failed.').waitFor();
	for (const d of [a, b]) {
		await page.locator(`li[data-result="${d.id}"]`, { hasText: 'escalated' }).waitFor();
		const now = await call(keys.agent, 'GET', `/v1/disputes/${d.id}`);
		assert.equal(now.state, 'escalated');
	}
	// the list is read again: both show escalated, nothing is selected
	await page.locator(`tr[data-id="${a.id}"] .badge.escalated`).waitFor();
	await page.locator(`tr[data-id="${b.id}"] .badge.escalated`).waitFor();
	await page.getByText('No dispute selected.').waitFor();
	assert.equal(await page.locator('input[data-select]:checked').count(), 0);

	// one that cannot be escalated (resolved) fails with its own problem
	await page.getByLabel('Select ORD-6003').check();
	await page.getByLabel('Select ORD-2002').check();
	await page.getByRole('button', { name: 'Apply to selected' }).click();
	await page.getByText('escalate: 1 succeeded, 1 failed.').waitFor();
	const bulk = await call(keys.agent, 'POST', '/v1/disputes/bulk-events',
		{ ids: [resolved.id], event: 'escalate' });
	assert.equal(bulk.results[0].ok, false);
	const failed = page.locator(`li[data-result="${resolved.id}"]`);
	await failed.getByText('failed').waitFor();
	assert.ok((await failed.textContent()).includes(bulk.results[0].problem.detail),
		'the failure\'s detail: ' + bulk.results[0].problem.detail);
	assert.equal((await call(keys.agent, 'GET', `/v1/disputes/${c.id}`)).state, 'escalated');
	assert.equal((await call(keys.agent, 'GET', `/v1/disputes/${resolved.id}`)).state, 'resolved');
	await shot(page, 'bulk-results');

	// select all shown, and assign the two escalated ones to bob
	await page.getByLabel(/^Order reference/).fill('ORD-6001');
	await page.getByRole('button', { name: 'Apply filters' }).click();
	await page.waitForURL(/order_ref=ORD-6001/);
	await page.locator('tbody tr').first().waitFor();
	await page.getByLabel('Select all shown').check();
	await page.getByText('1 dispute selected.').waitFor();
	await page.getByLabel('Action').selectOption('assign');
	await page.getByLabel('Assign to').selectOption('bob');
	await page.getByRole('button', { name: 'Apply to selected' }).click();
	await page.getByText('assign: 1 succeeded, 0 failed.').waitFor();
	assert.equal((await call(keys.agent, 'GET', `/v1/disputes/${a.id}`)).assignee, 'bob');
	await page.locator(`tr[data-id="${a.id}"]`, { hasText: 'bob' }).waitFor();
	// a storefront gets no checkboxes and no claim
	await signOut(page);
	await signIn(page, keys.shop);
	assert.equal(await page.locator('input[data-select]').count(), 0);
	assert.equal(await page.getByRole('button', { name: 'Claim next' }).count(), 0);
	assertCalm(page);
	await page.context().close();
});

test('the dispute page shows the buyer\'s history and lists the buyer\'s disputes', async () => {
	// buyer cust-900: one dispute refunded in full, one withdrawn, then a third
	const first = await openDispute({ order_ref: 'ORD-7001', buyer_ref: 'cust-900',
		reason: 'not_received' });
	await call(keys.agent, 'POST', `/v1/disputes/${first.id}/events`, { event: 'investigate' });
	const offers = await call(keys.agent, 'GET', `/v1/disputes/${first.id}/offers`);
	const refund = offers.offers.find((o) => o.type === 'refund_keep_item');
	await call(keys.agent, 'POST', `/v1/disputes/${first.id}/events`,
		{ event: 'make_offer', fields: { offer_id: refund.offer_id } });
	await call(keys.shop, 'POST', `/v1/disputes/${first.id}/events`, { event: 'accept_offer' });
	await call(keys.shop, 'POST', `/v1/disputes/${first.id}/events`,
		{ event: 'refund_issued', fields: { payment_ref: 'PSP-7001' } });
	const second = await openDispute({ order_ref: 'ORD-7002', buyer_ref: 'cust-900',
		reason: 'not_received' });
	await call(keys.shop, 'POST', `/v1/disputes/${second.id}/events`, { event: 'withdraw' });
	const third = await openDispute({ order_ref: 'ORD-7003', buyer_ref: 'cust-900',
		reason: 'damaged' });
	const history = (await call(keys.agent, 'GET', `/v1/disputes/${third.id}`)).buyer_history;
	assert.equal(history.disputes, 2);
	assert.equal(history.by_reason.not_received, 2);
	assert.deepEqual(history.refunded, [{ amount: refund.buyer_refund, currency: 'USD' }]);

	const page = await newPage();
	await signIn(page, keys.agent);
	await page.goto(base + '/ui/#/d/' + third.id);
	await page.getByRole('heading', { name: 'Dispute ORD-7003' }).waitFor();
	const card = page.locator('section.buyer');
	await card.getByText('Buyer cust-900 opened 2 other disputes at demo-shop in the last 365 days.').waitFor();
	assert.deepEqual(await card.locator('table', { hasText: 'By reason' }).locator('tbody tr')
		.allInnerTexts(), ['not received\t2']);
	assert.equal(await card.locator('table', { hasText: 'By outcome' })
		.locator('tbody tr', { hasText: 'refunded' }).locator('td').textContent(), '1');
	assert.equal(await card.locator('[data-refunded]').textContent(), usd(refund.buyer_refund));
	await scrollTo(page, '#buyer-h');
	await shot(page, 'buyer-history');
	await card.getByRole('link', { name: 'List this buyer\'s disputes' }).click();
	await page.getByRole('heading', { name: 'Buyer cust-900' }).waitFor();
	await page.locator('tbody tr a', { hasText: 'ORD-7003' }).waitFor();
	const api = listed(await call(keys.agent, 'GET', '/v1/buyers/cust-900/disputes?storefront=demo-shop'));
	assert.deepEqual((await page.locator('tbody tr a').allTextContents()).sort(),
		api.map((d) => d.order_ref).sort());
	assert.deepEqual(api.map((d) => d.order_ref).sort(), ['ORD-7001', 'ORD-7002', 'ORD-7003']);
	// a dispute without a buyer's history shows none
	assertCalm(page);
	await page.context().close();
});

test('when nothing is left to claim, the console says so', async () => {
	// every open dispute claimed, by bob, through the API
	for (let i = 0; i < 100; i++) {
		const res = await fetch(base + '/v1/queue/claim', { method: 'POST',
			headers: { Authorization: 'Bearer ' + keys.bob } });
		await res.arrayBuffer();
		if (res.status === 204)
			break;
		assert.equal(res.status, 200);
	}
	const page = await newPage();
	await signIn(page, keys.agent);
	await page.getByRole('button', { name: 'Claim next' }).click();
	await page.getByText('Nothing to claim: no open dispute is waiting for an agent.').waitFor();
	await page.getByRole('heading', { name: 'Queue' }).waitFor();
	assertCalm(page);
	await page.context().close();
});

test('a buyer with more disputes than a page holds loads the rest with "Load more"', async () => {
	// 101 disputes of one buyer: the console asks for 100 a page
	for (let i = 0; i < 101; i++)
		await openDispute({ order_ref: 'ORD-8' + String(i).padStart(3, '0'),
			buyer_ref: 'cust-many' });
	const page = await newPage();
	await signIn(page, keys.agent);
	await page.goto(base + '/ui/#/buyer/cust-many?storefront=demo-shop');
	await page.getByRole('heading', { name: 'Buyer cust-many' }).waitFor();
	await page.locator('tbody tr').nth(99).waitFor();
	assert.equal(await page.locator('tbody tr').count(), 100);
	await page.getByRole('button', { name: 'Load more' }).click();
	await page.locator('tbody tr').nth(100).waitFor();
	assert.equal(await page.locator('tbody tr').count(), 101);
	assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
	assert.deepEqual((await page.locator('tbody tr a').allTextContents()).sort(),
		Array.from({ length: 101 }, (_, i) => 'ORD-8' + String(i).padStart(3, '0')));
	assertCalm(page);
	await page.context().close();
});
