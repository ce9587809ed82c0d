/*
 * The redress web console: a page of views over the public HTTP API
 * (/v1), for agents working the queue and auditors reading histories.
 *
 * It has no power of its own: every call carries the API key the user
 * pasted (kept in this tab's sessionStorage, sent nowhere but /v1), and the
 * server decides what that key may see and do. It must never put text from
 * the API into the page as HTML: everything is built with DOM calls and
 * textContent, and no innerHTML, eval or inline script or style is used
 * (the page's Content-Security-Policy forbids them anyway).
 */
'use strict';

(function () {
	const KEY_STORE = 'redress.key';
	const SVG_NS = 'http://www.w3.org/2000/svg';
	const REASONS = ['not_received', 'damaged', 'defective', 'missing_parts',
		'not_as_described', 'wrong_item', 'late_delivery', 'changed_mind',
		'other'];
	const CHANNELS = ['chat', 'email', 'phone', 'platform', 'carrier', 'web',
		'other'];
	const OFFER_TYPES = ['refund_keep_item', 'refund_with_return',
		'reshipment', 'partial_discount'];
	const PREVIEW_LIMIT = 5 * 1024 * 1024;
	/* The channels of a message (not those of a dispute or evidence). */
	const MESSAGE_CHANNELS = ['chat', 'email', 'phone', 'platform', 'sms',
		'other'];
	/* Messages are read MESSAGE_PAGE at a time; the first MESSAGE_PAGES
	 * pages when the page opens, later ones on asking. */
	const MESSAGE_PAGE = 100;
	const MESSAGE_PAGES = 2;

	const main = document.getElementById('main');
	const cache = { me: null, kinds: null, workflow: null, workflows: null,
		templates: null };
	let renderSeq = 0;

	/* ---- building the page: DOM only, text as text --------------------- */

	function setProps(el, props) {
		if (!props)
			return;
		for (const [name, value] of Object.entries(props)) {
			if (value === null || value === undefined || value === false)
				continue;
			if (name === 'class')
				el.setAttribute('class', value);
			else if (name === 'text')
				el.textContent = String(value);
			else if (name.startsWith('on'))
				el.addEventListener(name.slice(2), value);
			else if (['value', 'checked', 'disabled', 'selected',
				  'required', 'readOnly'].includes(name))
				el[name] = value;
			else if (name === 'href' && !/^(#|blob:)/.test(String(value)))
				throw new Error('refused link ' + value);
			else
				el.setAttribute(name, value === true ? '' : String(value));
		}
	}

	function append(el, children) {
		for (const child of children.flat(Infinity)) {
			if (child === null || child === undefined || child === false)
				continue;
			el.appendChild(child instanceof Node ? child
				: document.createTextNode(String(child)));
		}
		return el;
	}

	function h(tag, props, ...children) {
		const el = document.createElement(tag);

		setProps(el, props);
		return append(el, children);
	}

	function s(tag, attrs, ...children) {
		const el = document.createElementNS(SVG_NS, tag);

		for (const [name, value] of Object.entries(attrs || {}))
			el.setAttribute(name, String(value));
		return append(el, children);
	}

	let uid = 0;
	function newId(prefix) {
		uid += 1;
		return prefix + '-' + uid;
	}

	/* A labelled control: <label for> + the control. */
	function field(labelText, control, hint) {
		if (!control.id)
			control.id = newId('f');
		return h('div', { class: 'field' },
			h('label', { for: control.id }, labelText,
				hint ? h('span', { class: 'hint' }, ' ' + hint) : null),
			control);
	}

	function select(options, value, props) {
		const el = h('select', props);

		for (const opt of options) {
			const [v, label] = Array.isArray(opt) ? opt : [opt, opt];
			el.appendChild(h('option', { value: v, selected: v === value },
				label));
		}
		return el;
	}

	function toast(text) {
		const box = document.getElementById('toast');

		box.replaceChildren(h('p', null, text));
		clearTimeout(toast.timer);
		toast.timer = setTimeout(() => box.replaceChildren(), 5000);
	}

	function badge(text, cls) {
		return h('span', { class: 'badge ' + (cls || text || '') }, text || '—');
	}

	/* ---- the API --------------------------------------------------------- */

	class ApiError extends Error {
		constructor(status, problem) {
			super(problem && problem.detail ? problem.detail
				: 'the server answered ' + status);
			this.status = status;
			this.problem = problem || {};
		}
	}

	function key() {
		return sessionStorage.getItem(KEY_STORE);
	}

	function randomKey() {
		if (crypto.randomUUID)
			return crypto.randomUUID();
		const bytes = crypto.getRandomValues(new Uint8Array(16));
		return Array.from(bytes, (b) => b.toString(16).padStart(2, '0'))
			.join('');
	}

	async function api(method, path, opts) {
		const o = opts || {};
		const headers = { Authorization: 'Bearer ' + key() };
		let body;

		if (o.json !== undefined) {
			headers['Content-Type'] = 'application/json';
			body = JSON.stringify(o.json);
		} else if (o.form) {
			body = o.form;
		}
		if (o.ifMatch)
			headers['If-Match'] = '"' + o.ifMatch + '"';
		if (method === 'POST')
			headers['Idempotency-Key'] = randomKey();
		const res = await fetch(path, { method, headers, body,
			cache: 'no-store', credentials: 'omit',
			referrerPolicy: 'no-referrer' });
		if (!res.ok) {
			let problem = null;
			try {
				problem = await res.json();
			} catch (e) {
				problem = null;
			}
			if (res.status === 401 && path !== '/v1/me') {
				signOut('Your API key is no longer valid; sign in again.');
			}
			throw new ApiError(res.status, problem);
		}
		return o.raw ? res : res.json();
	}

	function errorBox(err) {
		const p = err.problem || {};

		return h('div', { class: 'error', role: 'alert' },
			h('strong', null, err.status ? 'Refused (' + err.status + '): '
				: 'Error: '),
			err.message,
			p.guard ? h('span', { class: 'small' }, ' [guard: ' + p.guard + ']')
				: null,
			p.field ? h('span', { class: 'small' }, ' [field: ' + p.field + ']')
				: null);
	}

	/* ---- money and time ---------------------------------------------------- */

	function exponent(currency) {
		try {
			return new Intl.NumberFormat('en', { style: 'currency', currency })
				.resolvedOptions().maximumFractionDigits;
		} catch (e) {
			return 2;
		}
	}

	/* Minor units as text with the currency's decimals; no floating point. */
	function money(minor, currency) {
		if (minor === null || minor === undefined)
			return '—';
		const e = exponent(currency);
		const neg = minor < 0;
		const digits = String(Math.abs(minor)).padStart(e + 1, '0');
		const whole = e ? digits.slice(0, -e) : digits;
		const frac = e ? '.' + digits.slice(-e) : '';

		return (neg ? '-' : '') + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') +
			frac + ' ' + currency;
	}

	/* "12.50" in currency -> 1250 minor units; throws on bad input. */
	function parseMoney(text, currency) {
		const e = exponent(currency);
		const m = /^(\d+)(?:\.(\d+))?$/.exec(String(text).trim());

		if (!m || (m[2] && m[2].length > e))
			throw new Error('"' + text + '" is not an amount in ' + currency +
				' (e.g. ' + (e ? '12.' + '5'.padEnd(e, '0') : '12') + ')');
		return Number(m[1] + (m[2] || '').padEnd(e, '0'));
	}

	function timeEl(iso) {
		if (!iso)
			return h('span', { class: 'muted' }, '—');
		const d = new Date(iso);

		return h('time', { datetime: iso, title: iso },
			d.toLocaleString(undefined, { dateStyle: 'medium',
				timeStyle: 'short' }));
	}

	function duration(seconds) {
		const min = Math.round(Math.abs(seconds) / 60);

		if (min === 0)
			return Math.abs(seconds) < 1 ? '0' : 'under 1 min';
		if (min < 60)
			return min + ' min';
		if (min < 24 * 60)
			return Math.floor(min / 60) + ' h' + (min % 60 ? ' ' + (min % 60) + ' min' : '');
		const hours = Math.round(min / 60);
		return Math.floor(hours / 24) + ' d' + (hours % 24 ? ' ' + (hours % 24) + ' h' : '');
	}

	/* An SLA or reply countdown, kept current by tick(). */
	function dueEl(deadline, none) {
		if (!deadline || !deadline.at)
			return h('span', { class: 'muted' }, none || 'no deadline');
		const el = h('span', { class: 'due', 'data-due': deadline.at,
			title: deadline.event ? deadline.event + ' at ' + deadline.at
				: 'due at ' + deadline.at });
		paintDue(el);
		return el;
	}

	function paintDue(el) {
		const left = (Date.parse(el.getAttribute('data-due')) - Date.now()) / 1000;

		el.classList.toggle('overdue', left < 0);
		el.classList.toggle('soon', left >= 0 && left < 4 * 3600);
		el.textContent = left < 0 ? 'overdue by ' + duration(left)
			: 'due in ' + duration(left);
	}

	function tick() {
		for (const el of document.querySelectorAll('[data-due]'))
			paintDue(el);
	}

	/* ---- what the console caches per key --------------------------------------- */

	async function me() {
		if (!cache.me)
			cache.me = await api('GET', '/v1/me');
		return cache.me;
	}

	async function kinds() {
		if (!cache.kinds)
			cache.kinds = (await api('GET', '/v1/evidence-kinds')).kinds;
		return cache.kinds;
	}

	/* The buyer-facing texts: their moments, variables and locales. */
	async function templates() {
		if (!cache.templates)
			cache.templates = await api('GET', '/v1/templates');
		return cache.templates;
	}

	/* Every loaded workflow definition. */
	async function workflows() {
		if (!cache.workflows)
			cache.workflows = (await api('GET', '/v1/workflows')).workflows;
		return cache.workflows;
	}

	/* The latest "dispute" workflow, for its states and descriptions. */
	async function workflow() {
		if (!cache.workflow) {
			const all = await workflows();
			cache.workflow = all.filter((w) => w.name === 'dispute')
				.sort((a, b) => b.version - a.version)[0] || all[0];
		}
		return cache.workflow;
	}

	function canWrite(who) {
		return who && who.role !== 'auditor';
	}

	function signOut(message) {
		sessionStorage.removeItem(KEY_STORE);
		cache.me = cache.kinds = cache.workflow = cache.workflows = null;
		cache.templates = null;
		signOut.message = message || null;
		if (location.hash !== '#/login')
			location.hash = '#/login';
		else
			render();
	}

	/* ---- navigation ------------------------------------------------------------------ */

	function paintChrome(who, path) {
		const nav = document.getElementById('nav');
		const whoBox = document.getElementById('who');
		const links = [['#/queue', 'Queue'], ['#/overview', 'Overview']];

		if (who && who.role !== 'storefront')
			links.push(['#/agents', 'Agents']);
		if (canWrite(who))
			links.push(['#/new', 'Open a dispute']);
		nav.replaceChildren(...(who ? links.map(([href, text]) =>
			h('a', { href, 'aria-current': '#' + path === href ? 'page' : null },
				text)) : []));
		whoBox.replaceChildren(...(who ? [
			h('span', null, who.name + ' · ' + who.role +
				(who.storefront ? ' · ' + who.storefront : '')),
			h('button', { type: 'button', class: 'secondary',
				onclick: () => signOut('Signed out.') }, 'Sign out'),
		] : []));
	}

	const routes = [
		[/^\/login$/, viewLogin],
		[/^\/queue$/, viewQueue],
		[/^\/new$/, viewNew],
		[/^\/overview$/, viewOverview],
		[/^\/agents$/, viewAgents],
		[/^\/buyer\/([^/]+)$/, viewBuyer],
		[/^\/d\/([0-9A-Za-z]{26})$/, viewDispute],
		[/^\/d\/([0-9A-Za-z]{26})\/audit$/, viewAudit],
	];

	function parseHash() {
		const raw = location.hash.replace(/^#/, '') || '/queue';
		const at = raw.indexOf('?');

		return {
			path: at < 0 ? raw : raw.slice(0, at),
			query: new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)),
		};
	}

	async function render() {
		const seq = ++renderSeq;
		const { path, query } = parseHash();
		let who = null;

		if (!key() && path !== '/login') {
			location.hash = '#/login';
			return;
		}
		if (key()) {
			try {
				who = await me();
			} catch (err) {
				if (err.status === 401) {
					signOut('That API key is not valid.');
					return;
				}
				main.replaceChildren(errorBox(err));
				return;
			}
		}
		paintChrome(who, path);
		const route = routes.find(([re]) => re.test(path));
		if (!route) {
			main.replaceChildren(h('h1', { tabindex: '-1' }, 'Not found'),
				h('p', null, h('a', { href: '#/queue' }, 'Back to the queue')));
			return;
		}
		const args = route[0].exec(path).slice(1);
		main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
		try {
			const node = await route[1](query, ...args);
			if (seq !== renderSeq)
				return;
			main.replaceChildren(node);
		} catch (err) {
			if (seq !== renderSeq)
				return;
			main.replaceChildren(h('h1', { tabindex: '-1' }, 'Could not load'),
				errorBox(err));
		}
		const heading = main.querySelector('h1');
		if (heading && render.moved) {
			heading.setAttribute('tabindex', '-1');
			heading.focus();
		}
		render.moved = false;
	}

	function go(hash) {
		render.moved = true;
		if (location.hash === hash)
			render();
		else
			location.hash = hash;
	}

	/* ---- sign in ------------------------------------------------------------------------ */

	async function viewLogin() {
		const input = h('input', { type: 'password', autocomplete: 'off',
			spellcheck: 'false', required: true, placeholder: 'rdk_…' });
		const problems = h('div', { 'aria-live': 'polite' });
		const form = h('form', { class: 'card', onsubmit: async (ev) => {
			ev.preventDefault();
			problems.replaceChildren();
			sessionStorage.setItem(KEY_STORE, input.value.trim());
			cache.me = null;
			try {
				await me();
				signOut.message = null;
				go('#/queue');
			} catch (err) {
				sessionStorage.removeItem(KEY_STORE);
				problems.replaceChildren(errorBox(err.status === 401
					? new Error('That API key is not valid.') : err));
			}
		} },
		field('API key', input, '(agent, auditor, storefront or admin)'),
		h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
		problems);

		return h('div', null,
			h('h1', null, 'Sign in to the redress console'),
			signOut.message ? h('p', { class: 'notice' }, signOut.message) : null,
			form,
			h('p', { class: 'muted small' }, 'The key stays in this browser ' +
				'tab (session storage) and is sent only to this server\'s ' +
				'/v1 API. The console can do exactly what the key may do ' +
				'through the API, nothing more.'));
	}

	/* ---- the queue ----------------------------------------------------------------------- */

	/* The query parameters of the queue the API takes as they are. */
	const LIST_FILTERS = ['q', 'order_ref', 'buyer_ref', 'sku', 'state', 'reason',
		'assignee'];
	/* The events the queue applies to many disputes at once. */
	const BULK_EVENTS = [['assign', 'Assign to…'], ['escalate', 'Escalate'],
		['withdraw', 'Withdraw']];
	const BULK_LIMIT = 500;

	/* Agents and admins work the queue: claim, assign, act on many. */
	function works(who) {
		return who && (who.role === 'agent' || who.role === 'admin');
	}

	/* The names of the agents (GET /v1/agents), or null if unreadable. */
	async function agentNames() {
		try {
			return (await api('GET', '/v1/agents')).items.map((a) => a.name);
		} catch (err) {
			return null;
		}
	}

	/* A choice of agent: their names, or a text field when unknown. */
	function agentChooser(names, props) {
		if (names && names.length)
			return select(names, names[0], props);
		return h('input', Object.assign({ type: 'text', maxlength: '127',
			placeholder: 'agent key name' }, props));
	}

	/* The page of disputes an API answer holds, whichever its member. */
	/*
	 * A "Load more" button: GETs url() (the next page), gives the page to
	 * add, and shows in box what failed, the button enabled again to retry.
	 * add repaints, and enables the button when there is more.
	 */
	function loadMore(url, box, add) {
		const more = h('button', { type: 'button', class: 'secondary',
			onclick: async () => {
				more.disabled = true;
				try {
					add(await api('GET', url()));
				} catch (err) {
					more.disabled = false;
					box.replaceChildren(errorBox(err));
				}
			} }, 'Load more');
		return more;
	}

	function pageItems(page) {
		return page.items || page.disputes || [];
	}

	async function viewQueue(query) {
		const wf = await workflow();
		const who = await me();
		const states = Object.keys(wf.states || {});
		const awaiting = query.get('awaiting_reply') === 'true';
		const words = (query.get('q') || '').trim();
		const natural = words ? 'rank' : awaiting ? 'reply' : 'due';
		let sort = query.get('sort') || natural;
		const params = new URLSearchParams();
		const agents = works(who) ? agentNames() : Promise.resolve(null);

		if (sort === 'rank' && !words)
			sort = awaiting ? 'reply' : 'due';
		for (const name of LIST_FILTERS)
			if ((query.get(name) || '').trim())
				params.set(name, query.get(name).trim());
		if (query.get('overdue') === 'true')
			params.set('overdue', 'true');
		if (awaiting)
			params.set('awaiting_reply', 'true');
		params.set('limit', '100');

		const text = (name, props) => h('input', Object.assign({ type: 'text',
			value: query.get(name) || '', spellcheck: 'false' }, props));
		const qInput = text('q', { type: 'search', maxlength: '500',
			placeholder: 'words of the order, buyer, SKU, title, description or messages' });
		const orderRef = text('order_ref');
		const buyerRef = text('buyer_ref');
		const sku = text('sku');
		const stateSel = select([['', 'any state'], ...states], query.get('state') || '');
		const reasonSel = select([['', 'any reason'], ...REASONS], query.get('reason') || '');
		const mine = h('input', { type: 'checkbox', id: newId('f'),
			checked: query.get('assignee') === 'me' });
		const assignee = h('input', { type: 'text', disabled: mine.checked,
			value: query.get('assignee') === 'me' ? '' : query.get('assignee') || '' });
		const overdue = h('input', { type: 'checkbox', id: newId('f'),
			checked: query.get('overdue') === 'true' });
		const awaitingBox = h('input', { type: 'checkbox', id: newId('f'),
			checked: awaiting });
		const sortSel = select([['due', 'due time, soonest first'],
			['reply', 'reply due, most overdue first'],
			['newest', 'newest first'],
			['rank', 'best match first']], sort);
		let sortChosen = !!query.get('sort');

		mine.addEventListener('change', () => {
			assignee.disabled = mine.checked;
		});
		sortSel.addEventListener('change', () => {
			sortChosen = true;
		});
		const filters = h('form', { class: 'card', role: 'search',
			'aria-label': 'Search and filters',
			onsubmit: (ev) => {
				ev.preventDefault();
				const q = new URLSearchParams();
				const put = (name, value) => {
					if (value.trim())
						q.set(name, value.trim());
				};
				put('q', qInput.value);
				put('order_ref', orderRef.value);
				put('buyer_ref', buyerRef.value);
				put('sku', sku.value);
				put('state', stateSel.value);
				put('reason', reasonSel.value);
				put('assignee', mine.checked ? 'me' : assignee.value);
				if (overdue.checked) q.set('overdue', 'true');
				if (awaitingBox.checked) q.set('awaiting_reply', 'true');
				const usual = qInput.value.trim() ? 'rank'
					: awaitingBox.checked ? 'reply' : 'due';
				if (sortChosen && sortSel.value !== usual)
					q.set('sort', sortSel.value);
				go('#/queue' + (q.toString() ? '?' + q : ''));
			} },
		h('div', { class: 'searchrow' },
			field('Search', qInput, '(all the words; Enter searches)'),
			h('button', { type: 'submit' }, 'Search')),
		h('div', { class: 'fields' },
			field('Order reference', orderRef, '(exact)'),
			field('Buyer reference', buyerRef, '(exact)'),
			field('SKU', sku, '(exact)'),
			field('State', stateSel), field('Reason', reasonSel),
			field('Assignee', assignee), field('Sort by', sortSel)),
		h('div', { class: 'actions' },
			works(who) ? h('label', { class: 'check', for: mine.id }, mine,
				'Assigned to me') : null,
			h('label', { class: 'check', for: overdue.id }, overdue, 'Overdue only'),
			h('label', { class: 'check', for: awaitingBox.id }, awaitingBox,
				'Awaiting a reply only'),
			h('span', { class: 'spacer' }),
			h('a', { class: 'button secondary', href: awaiting
				? '#/queue?awaiting_reply=true' : '#/queue' }, 'Clear'),
			h('button', { type: 'submit' }, 'Apply filters')));

		let rows = [];
		let next = null;
		const selected = new Set();
		const tableBox = h('div');
		const moreBox = h('div', { 'aria-live': 'polite' });
		const found = h('p', { class: 'muted small', 'aria-live': 'polite' });
		const more = loadMore(() => '/v1/disputes?' + params + '&cursor=' +
			encodeURIComponent(next), moreBox, (page) => {
			rows = rows.concat(pageItems(page));
			next = page.next_cursor;
			paint();
		});
		const bulk = works(who) ? bulkForm({ selected, agents,
			names: () => new Map(rows.map((d) => [d.id, d.order_ref])),
			refresh: () => load() }) : null;

		function paint() {
			const sorted = rows.slice();
			const clock = sort === 'due' ? 'deadline'
				: sort === 'reply' ? 'reply_deadline' : null;
			if (clock)
				sorted.sort((a, b) => {
					const da = a[clock] ? Date.parse(a[clock].at) : Infinity;
					const db = b[clock] ? Date.parse(b[clock].at) : Infinity;
					return da - db;
				});
			more.disabled = false;
			moreBox.replaceChildren();
			for (const id of Array.from(selected))
				if (!rows.some((d) => d.id === id))
					selected.delete(id);
			const one = rows.length === 1 && !next;
			found.textContent = words ? rows.length + (next ? '+' : '') +
				(one ? ' dispute matches "' : ' disputes match "') + words + '"' +
				(sort === 'rank' ? ', best match first.' : '.') : '';
			tableBox.replaceChildren();
			append(tableBox, [sorted.length === 0
				? h('p', { class: 'muted' }, awaiting
					? 'No buyer is waiting for a reply.' : 'No disputes match.')
				: queueTable(sorted, { ranked: sort === 'rank' && !!words,
					selected: bulk ? selected : null,
					onSelect: bulk ? bulk.update : null }),
			next ? h('p', null, more,
				h('span', { class: 'muted small' }, sort === 'rank' || sort === 'newest'
					? '' : ' (sorted within what is loaded)')) : null]);
			if (bulk)
				bulk.update();
			tick();
		}

		async function load() {
			const first = await api('GET', '/v1/disputes?' + params);
			rows = pageItems(first);
			next = first.next_cursor;
			paint();
		}

		await load();
		const tab = (href, label, current) => h('a', { href,
			'aria-current': current ? 'page' : null }, label);
		return h('div', null,
			h('div', { class: 'row' },
				h('h1', null, 'Queue'),
				h('span', { class: 'spacer' }),
				works(who) ? claimButton() : null,
				canWrite(who) ? h('a', { class: 'button', href: '#/new' },
					'Open a dispute') : null),
			h('nav', { class: 'tabs', 'aria-label': 'Views of the queue' },
				tab('#/queue', 'All disputes', !awaiting),
				tab('#/queue?awaiting_reply=true', 'Awaiting reply', awaiting)),
			awaiting ? h('p', { class: 'muted small' }, 'Disputes whose buyer ' +
				'wrote and has had no answer yet, with the time left to ' +
				'reply (counted in the storefront\'s business hours when it has a calendar).') : null,
			filters, bulk ? bulk.form : null,
			h('section', { class: 'card', 'aria-label': 'Disputes' },
				found, tableBox, moreBox));
	}

	/*
	 * "Claim next": the most urgent unassigned open dispute becomes the
	 * caller's (POST /v1/queue/claim) and opens; 204 is an empty queue.
	 */
	function claimButton() {
		const said = h('span', { class: 'small', role: 'status' });
		const button = h('button', { type: 'button', onclick: async () => {
			button.disabled = true;
			said.replaceChildren();
			try {
				const res = await api('POST', '/v1/queue/claim', { json: {},
					raw: true });
				if (res.status === 204) {
					said.replaceChildren(h('span', { class: 'notice' },
						'Nothing to claim: no open dispute is waiting for an agent.'));
					button.disabled = false;
					return;
				}
				const d = await res.json();
				toast('You claimed ' + d.order_ref + '.');
				go('#/d/' + d.id);
			} catch (err) {
				said.replaceChildren(errorBox(err));
				button.disabled = false;
			}
		} }, 'Claim next');
		return h('span', { class: 'claim' }, said, button);
	}

	/* Assign, escalate or withdraw the selected disputes in one call. */
	function bulkForm(ctx) {
		const { selected, agents, names, refresh } = ctx;
		const count = h('span', { class: 'count', 'aria-live': 'polite' });
		const eventSel = select(BULK_EVENTS, 'escalate');
		const whoBox = h('div');
		const note = h('input', { type: 'text', maxlength: '4096' });
		const results = h('div', { 'aria-live': 'polite' });
		const apply = h('button', { type: 'submit', disabled: true },
			'Apply to selected');
		let chooser = null;

		agents.then((list) => {
			/* not `required`: hidden unless assigning, checked on submit */
			chooser = agentChooser(list, {});
			whoBox.replaceChildren(field('Assign to', chooser));
			whoBox.hidden = eventSel.value !== 'assign';
		});
		whoBox.hidden = true;
		eventSel.addEventListener('change', () => {
			whoBox.hidden = eventSel.value !== 'assign';
		});

		function update() {
			count.textContent = selected.size === 0 ? 'No dispute selected.'
				: selected.size + (selected.size === 1 ? ' dispute' : ' disputes') +
					' selected.';
			apply.disabled = selected.size === 0;
		}

		const form = h('form', { class: 'card bulk', 'aria-label': 'Act on the selected disputes',
			onsubmit: async (ev) => {
				ev.preventDefault();
				results.replaceChildren();
				const event = eventSel.value;
				const body = { ids: Array.from(selected), event };
				if (!body.ids.length)
					return;
				if (body.ids.length > BULK_LIMIT) {
					results.replaceChildren(errorBox(new Error('At most ' + BULK_LIMIT +
						' disputes at once; ' + body.ids.length + ' are selected.')));
					return;
				}
				if (event === 'assign') {
					const name = chooser ? chooser.value.trim() : '';
					if (!name) {
						results.replaceChildren(errorBox(new Error('Choose whom to assign them to.')));
						return;
					}
					body.fields = { assignee: name };
				}
				if (note.value.trim())
					body.note = note.value.trim();
				apply.disabled = true;
				const orders = names();
				try {
					const r = await api('POST', '/v1/disputes/bulk-events', { json: body });
					selected.clear();
					note.value = '';
					results.replaceChildren(bulkReport(r, event, orders));
					try {
						await refresh();
					} catch (err) {
						results.appendChild(errorBox(err));
					}
				} catch (err) {
					results.replaceChildren(errorBox(err));
				}
				update();
			} },
		h('div', { class: 'row' },
			h('strong', null, 'With the selected: '), count),
		h('div', { class: 'fields' },
			field('Action', eventSel), whoBox,
			field('Note', note, '(optional, kept in each history)'),
			h('div', { class: 'apply' }, apply)),
		results);
		update();
		return { form, update };
	}

	/* What a bulk call did to each dispute, failures with their problem. */
	function bulkReport(r, event, orders) {
		const failed = r.failed || 0;
		const label = (id) => orders.get(id) || id;
		return h('div', { class: 'bulk-results' },
			h('p', { class: failed ? 'error' : 'notice', role: failed ? 'alert' : 'status' },
				event + ': ' + r.succeeded + ' succeeded, ' + failed + ' failed.'),
			h('ul', { class: 'results' }, (r.results || []).map((it) =>
				h('li', { class: it.ok ? 'ok' : 'failed', 'data-result': it.id },
					h('a', { href: '#/d/' + it.id }, label(it.id)), ': ',
					it.ok ? ['done, now ', badge(it.state), ' (version ' + it.version + ')']
						: [h('strong', null, 'failed'), ' (' + (it.problem && it.problem.status
							? it.problem.status : '?') + '): ',
						(it.problem && (it.problem.detail || it.problem.title)) ||
							'refused']))));
	}

	function queueTable(list, opts) {
		const o = opts || {};
		const head = ['Order', 'Reason', 'State', 'Assignee', 'SLA', 'Reply',
			'Storefront', 'Opened'];
		let all = null;

		if (o.selected) {
			all = h('input', { type: 'checkbox', id: newId('f'),
				checked: list.length > 0 && list.every((d) => o.selected.has(d.id)),
				onchange: () => {
					for (const d of list)
						if (all.checked)
							o.selected.add(d.id);
						else
							o.selected.delete(d.id);
					for (const box of tbody.querySelectorAll('input[data-select]'))
						box.checked = all.checked;
					o.onSelect();
				} });
		}
		const tbody = h('tbody', null, list.map((d, i) => h('tr',
			{ 'data-id': d.id },
			o.selected ? h('td', { class: 'pick' }, h('input', { type: 'checkbox',
				'data-select': d.id, 'aria-label': 'Select ' + d.order_ref,
				checked: o.selected.has(d.id),
				onchange: (ev) => {
					if (ev.target.checked)
						o.selected.add(d.id);
					else
						o.selected.delete(d.id);
					all.checked = list.every((x) => o.selected.has(x.id));
					o.onSelect();
				} })) : null,
			o.ranked ? h('td', { 'data-label': 'Match', class: 'num',
				'data-rank': d.search ? String(d.search.rank) : null,
				title: d.search ? 'relevance ' + d.search.rank : null },
			'#' + (i + 1)) : null,
			h('td', { 'data-label': 'Order' },
				h('a', { href: '#/d/' + d.id }, d.order_ref),
				h('div', { class: 'muted small mono' }, d.id)),
			h('td', { 'data-label': 'Reason' }, d.reason),
			h('td', { 'data-label': 'State' }, badge(d.state),
				d.outcome ? ' ' + d.outcome : null),
			h('td', { 'data-label': 'Assignee' }, d.assignee || '—'),
			h('td', { 'data-label': 'SLA' }, dueEl(d.deadline)),
			h('td', { 'data-label': 'Reply', 'data-reply': d.reply_deadline
				? String(d.reply_deadline.since_message) : null },
			dueEl(d.reply_deadline, '—')),
			h('td', { 'data-label': 'Storefront' }, d.storefront),
			h('td', { 'data-label': 'Opened' }, timeEl(d.created_at)))));
		const table = h('table', { class: 'stack queue' },
			h('thead', null, h('tr', null,
				o.selected ? h('th', { scope: 'col', class: 'pick' },
					h('span', { class: 'visually' }, 'Selected')) : null,
				o.ranked ? h('th', { scope: 'col', class: 'num' }, 'Match') : null,
				head.map((t) => h('th', { scope: 'col' }, t)))),
			tbody);
		return all ? h('div', null, h('label', { class: 'check pickall', for: all.id },
			all, 'Select all shown'), table) : table;
	}

	/* ---- opening a dispute -------------------------------------------------------------------- */

	async function viewNew() {
		const who = await me();
		const problems = h('div', { 'aria-live': 'polite' });
		const input = (props) => h('input', Object.assign({ type: 'text' }, props));
		const f = {
			order_ref: input({ required: true }),
			storefront: input({ required: true, value: who.storefront || '',
				readOnly: !!who.storefront }),
			buyer_ref: input({ required: true }),
			currency: input({ required: true, value: 'USD', maxlength: '3',
				pattern: '[A-Z]{3}' }),
			reason: select(REASONS, 'damaged'),
			channel: select(CHANNELS, 'chat'),
			locale: input({ placeholder: 'de-DE' }),
			description: h('textarea'),
			shipping_paid: input({ inputmode: 'decimal', value: '0' }),
			ship_cost: input({ inputmode: 'decimal' }),
			return_cost: input({ inputmode: 'decimal' }),
		};
		const itemsBody = h('tbody');
		const addItem = () => {
			const row = {
				sku: input({ required: true, 'aria-label': 'SKU' }),
				title: input({ 'aria-label': 'Title' }),
				quantity: h('input', { type: 'number', min: '1', value: '1',
					required: true, 'aria-label': 'Quantity' }),
				unit_price: input({ required: true, inputmode: 'decimal',
					'aria-label': 'Unit price' }),
				unit_cost: input({ inputmode: 'decimal',
					'aria-label': 'Unit cost' }),
			};
			const tr = h('tr', null,
				Object.entries(row).map(([name, el]) =>
					h('td', { 'data-label': el.getAttribute('aria-label') }, el)),
				h('td', null, h('button', { type: 'button', class: 'secondary',
					onclick: () => {
						if (itemsBody.children.length > 1)
							tr.remove();
					} }, 'Remove')));
			tr.item = row;
			itemsBody.appendChild(tr);
		};
		addItem();

		const form = h('form', { onsubmit: async (ev) => {
			ev.preventDefault();
			problems.replaceChildren();
			const cur = f.currency.value.trim().toUpperCase();
			try {
				const doc = {
					order_ref: f.order_ref.value.trim(),
					storefront: f.storefront.value.trim(),
					buyer_ref: f.buyer_ref.value.trim(),
					currency: cur,
					reason: f.reason.value,
					channel: f.channel.value,
					items: Array.from(itemsBody.children, (tr) => {
						const it = tr.item;
						const item = { sku: it.sku.value.trim(),
							quantity: Number(it.quantity.value),
							unit_price: parseMoney(it.unit_price.value, cur) };
						if (it.title.value.trim())
							item.title = it.title.value.trim();
						if (it.unit_cost.value.trim())
							item.unit_cost = parseMoney(it.unit_cost.value, cur);
						return item;
					}),
					shipping_paid: parseMoney(f.shipping_paid.value || '0', cur),
				};
				if (f.locale.value.trim())
					doc.locale = f.locale.value.trim();
				if (f.description.value.trim())
					doc.description = f.description.value.trim();
				for (const name of ['ship_cost', 'return_cost'])
					if (f[name].value.trim())
						doc[name] = parseMoney(f[name].value, cur);
				const d = await api('POST', '/v1/disputes', { json: doc });
				toast('Dispute ' + d.order_ref + ' opened.');
				go('#/d/' + d.id);
			} catch (err) {
				problems.replaceChildren(errorBox(err));
			}
		} },
		h('section', { class: 'card' },
			h('h2', null, 'The order'),
			h('div', { class: 'fields' },
				field('Order reference', f.order_ref),
				field('Storefront', f.storefront),
				field('Buyer reference', f.buyer_ref),
				field('Currency', f.currency, '(ISO 4217)'),
				field('Reason', f.reason),
				field('Channel', f.channel),
				field('Locale', f.locale, '(optional)')),
			field('Description', f.description, '(optional)')),
		h('section', { class: 'card' },
			h('h2', null, 'Items and costs'),
			h('p', { class: 'muted small' }, 'Amounts in the currency above, ' +
				'e.g. 100.00; costs may be left empty when unknown.'),
			h('table', { class: 'stack' },
				h('thead', null, h('tr', null, ['SKU', 'Title', 'Quantity',
					'Unit price', 'Unit cost', ''].map((t) =>
					h('th', { scope: 'col' }, t)))),
				itemsBody),
			h('p', null, h('button', { type: 'button', class: 'secondary',
				onclick: addItem }, 'Add an item')),
			h('div', { class: 'fields' },
				field('Shipping paid by the buyer', f.shipping_paid),
				field('Seller\'s shipping cost', f.ship_cost, '(optional)'),
				field('Return label cost', f.return_cost, '(optional)'))),
		problems,
		h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Open the dispute')));
		return h('div', null, h('h1', null, 'Open a dispute'), form);
	}

	/* ---- one dispute: summary, actions, offers, evidence, timeline ------------------------ */

	async function viewDispute(query, id) {
		const who = await me();
		const [d, actions, history, evidence, kindList, messages, texts, agents,
			defs] = await Promise.all([
				api('GET', '/v1/disputes/' + id),
				api('GET', '/v1/disputes/' + id + '/actions'),
				api('GET', '/v1/disputes/' + id + '/history'),
				api('GET', '/v1/disputes/' + id + '/evidence'),
				kinds(),
				readMessages(id, 0, MESSAGE_PAGES),
				writesToBuyer(who) ? templates() : null,
				works(who) ? agentNames() : null,
				workflows(),
			]);
		let offers = null;
		let offersError = null;
		try {
			offers = await api('GET', '/v1/disputes/' + id + '/offers');
		} catch (err) {
			offersError = err;
		}
		const reload = () => go('#/d/' + id);
		const terminal = d.state === 'resolved' || d.state === 'closed';

		return h('div', null,
			h('div', { class: 'row' },
				h('h1', null, 'Dispute ' + d.order_ref),
				badge(d.state), d.outcome ? badge(d.outcome, 'ok') : null,
				h('span', { class: 'spacer' }),
				h('a', { class: 'button secondary', href: '#/d/' + id + '/audit' },
					'History and audit')),
			h('div', { class: 'grid' },
				summaryCard(d),
				actionsCard(d, actions, offers, reload,
					ownerBox(d, who, agents, terminal, exclusive(d, defs),
						reload))),
			d.buyer_history ? buyerCard(d) : null,
			itemsCard(d),
			offersCard(d, offers, offersError, actions, reload),
			evidenceCard(d, evidence.evidence, kindList,
				canWrite(who) && !terminal, reload),
			threadCard({ d, who, actions, events: history.events,
				evidence: evidence.evidence, messages, texts, reload }));
	}

	function dl(pairs) {
		return h('dl', { class: 'fields' }, pairs.filter(Boolean).map(([k, v]) =>
			h('div', null, h('dt', { class: 'muted small' }, k), h('dd', null, v))));
	}

	function summaryCard(d) {
		return h('section', { class: 'card', 'aria-labelledby': 'sum-h' },
			h('h2', { id: 'sum-h' }, 'Summary'),
			dl([
				['Storefront', d.storefront],
				['Buyer', d.buyer_ref || '—'],
				['Reason', d.reason],
				['Channel', d.channel],
				['Assignee', d.assignee || 'nobody yet'],
				['SLA', dueEl(d.deadline)],
				d.reply_deadline ? ['Reply to the buyer', dueEl(d.reply_deadline)]
					: null,
				['Opened', timeEl(d.created_at)],
				['Updated', timeEl(d.updated_at)],
				['Version', String(d.version)],
				['Workflow', d.workflow.name + ' v' + d.workflow.version],
			]),
			d.description ? h('p', null, d.description) : null,
			h('p', { class: 'muted small mono' }, d.id));
	}

	/* The events of ownership: applied by the assignee's buttons. */
	const OWNER_EVENTS = ['assign', 'unassign'];

	/*
	 * Who has the dispute, and for agents and admins: Take (assign it to
	 * oneself), Assign to an agent chosen among GET /v1/agents, Unassign.
	 * A dispute assigned to someone else answers an agent 409, naming them.
	 */
	function ownerBox(d, who, agents, terminal, only, reload) {
		if (!works(who) || terminal)
			return null;
		const problems = h('div', { 'aria-live': 'polite' });
		const others = agents ? agents.filter((n) => n !== d.assignee) : null;
		const chooser = agentChooser(others, { required: true });

		async function send(body, said) {
			problems.replaceChildren();
			try {
				await api('POST', '/v1/disputes/' + d.id + '/events',
					{ json: body, ifMatch: d.version });
				toast(said);
				reload();
			} catch (err) {
				problems.replaceChildren(errorBox(err.status === 412
					? new Error('The dispute changed meanwhile; reload it and try again.')
					: err));
			}
		}

		const take = who.role === 'agent' && d.assignee !== who.name
			? h('button', { type: 'button', onclick: () => send({ event: 'assign',
				fields: { assignee: who.name } }, 'You took ' + d.order_ref + '.') },
			'Take') : null;
		const unassign = d.assignee ? h('button', { type: 'button', class: 'secondary',
			onclick: () => send({ event: 'unassign' }, 'Nobody has ' + d.order_ref +
				' now.') }, 'Unassign') : null;
		const assign = h('form', { class: 'row assign', 'aria-label': 'Assign the dispute',
			onsubmit: (ev) => {
				ev.preventDefault();
				const name = chooser.value.trim();
				if (name)
					send({ event: 'assign', fields: { assignee: name } },
						d.order_ref + ' is assigned to ' + name + '.');
			} },
		field('Assign to', chooser),
		h('button', { type: 'submit', class: 'secondary' }, 'Assign'));

		return h('div', { class: 'owner', role: 'group', 'aria-labelledby': 'own-h' },
			h('h3', { id: 'own-h' }, 'Assignee'),
			h('p', { 'data-assignee': d.assignee || '' }, d.assignee
				? [h('strong', null, d.assignee), d.assignee === who.name ? ' (you)' : '']
				: 'Nobody has this dispute yet.'),
			only && who.role === 'agent' && d.assignee && d.assignee !== who.name
				? h('p', { class: 'muted small' }, 'Only ' + d.assignee + ' or an admin ' +
					'may change this dispute; ask them to reassign it.') : null,
			h('div', { class: 'row' }, take, unassign),
			assign, problems);
	}

	/* Whether d's workflow lets only the assignee (and admins) write. */
	function exclusive(d, defs) {
		const def = (defs || []).find((w) => w.name === d.workflow.name &&
			w.version === d.workflow.version);
		return !(def && def.assignment && def.assignment.exclusive === false);
	}

	function countTable(title, what, counts) {
		const rows = Object.entries(counts || {}).filter(([, n]) => n > 0)
			.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
		return h('table', { class: 'counts' },
			h('caption', null, title),
			h('thead', null, h('tr', null, h('th', { scope: 'col' }, what),
				h('th', { scope: 'col', class: 'num' }, 'disputes'))),
			h('tbody', null, rows.length ? rows.map(([k, n]) => h('tr', null,
				h('th', { scope: 'row' }, k.replace(/_/g, ' ')),
				h('td', { class: 'num' }, String(n))))
				: h('tr', null, h('td', { colspan: '2', class: 'muted' }, 'none'))));
	}

	/* The same storefront's other disputes of this buyer, lately. */
	function buyerCard(d) {
		const b = d.buyer_history;
		const where = ' at ' + d.storefront + ' in the last ' + b.window_days + ' days';
		const refunded = (b.refunded || []).filter((r) => r.amount);

		return h('section', { class: 'card buyer', 'aria-labelledby': 'buyer-h' },
			h('h2', { id: 'buyer-h' }, 'Buyer history'),
			h('p', null, b.disputes === 0
				? 'No other dispute of buyer ' + b.buyer_ref + where + '.'
				: b.truncated
					? 'Buyer ' + b.buyer_ref + ' opened more than ' + b.disputes +
						' other disputes' + where + '; the ' + b.disputes +
						' most recent are counted here.'
					: 'Buyer ' + b.buyer_ref + ' opened ' + b.disputes + ' other dispute' +
						(b.disputes === 1 ? '' : 's') + where + '.'),
			b.disputes ? h('div', { class: 'histories' },
				countTable('By reason', 'reason', b.by_reason),
				countTable('By outcome', 'outcome', b.by_outcome),
				dl([['Refunded to this buyer', refunded.length
					? h('span', { 'data-refunded': '' }, refunded.map((r) =>
						money(r.amount, r.currency)).join(', '))
					: 'nothing']])) : null,
			h('p', null, h('a', { class: 'button secondary', href: '#/buyer/' +
				encodeURIComponent(b.buyer_ref) + '?storefront=' +
				encodeURIComponent(d.storefront) }, 'List this buyer\'s disputes')));
	}

	function itemsCard(d) {
		const total = d.items.reduce((sum, it) => sum + it.quantity * it.unit_price, 0);
		return h('section', { class: 'card', 'aria-labelledby': 'items-h' },
			h('h2', { id: 'items-h' }, 'Items and costs'),
			h('table', { class: 'stack' },
				h('thead', null, h('tr', null, ['SKU', 'Title', 'Quantity',
					'Unit price', 'Unit cost'].map((t, i) =>
					h('th', { scope: 'col', class: i >= 2 ? 'num' : null }, t)))),
				h('tbody', null, d.items.map((it) => h('tr', null,
					h('td', { 'data-label': 'SKU' }, it.sku),
					h('td', { 'data-label': 'Title' }, it.title || '—'),
					h('td', { 'data-label': 'Quantity', class: 'num' }, String(it.quantity)),
					h('td', { 'data-label': 'Unit price', class: 'num' },
						money(it.unit_price, d.currency)),
					h('td', { 'data-label': 'Unit cost', class: 'num' },
						money(it.unit_cost, d.currency)))))),
			dl([
				['Price of the items', money(total, d.currency)],
				['Shipping paid by the buyer', money(d.shipping_paid, d.currency)],
				['Seller\'s shipping cost', money(d.ship_cost, d.currency)],
				['Return label', money(d.return_cost, d.currency)],
			]));
	}

	function offerLabel(o, currency) {
		const parts = [o.type.replace(/_/g, ' ')];
		if (o.buyer_refund)
			parts.push('refund ' + money(o.buyer_refund, currency));
		if (o.buyer_copay)
			parts.push('buyer pays ' + money(o.buyer_copay, currency));
		return parts.join(', ');
	}

	/* The events the key's role may apply now, as buttons with their forms. */
	function actionsCard(d, actions, offers, reload, owner) {
		const box = h('div');
		/* assign and unassign have their buttons by the assignee */
		const list = actions.events.filter((o) => !OWNER_EVENTS.includes(o.event));
		const pending = actions.pending_offer;
		const formBox = h('div');

		function open(opt, preset) {
			formBox.replaceChildren(eventForm(d, actions, opt, offers, preset,
				reload, () => formBox.replaceChildren()));
			const first = formBox.querySelector('select, input, textarea, button');
			if (first)
				first.focus();
		}
		actionsCard.open = open;

		if (list.length === 0 && !owner)
			box.appendChild(h('p', { class: 'muted' }, 'Your role (' +
				actions.role + ') has nothing to do in state ' + actions.state + '.'));
		box.appendChild(h('div', { class: 'row', role: 'group',
			'aria-label': 'Events you may apply' },
		list.map((opt) => h('button', { type: 'button',
			class: opt.ready ? null : 'secondary',
			disabled: !opt.ready,
			'data-event': opt.event,
			title: opt.ready ? (opt.description || opt.event)
				: opt.blocked.detail,
			onclick: () => open(opt) }, opt.event.replace(/_/g, ' ')))));
		for (const opt of list.filter((o) => !o.ready))
			box.appendChild(h('p', { class: 'muted small' },
				opt.event + ': ' + opt.blocked.detail));
		return h('section', { class: 'card', 'aria-labelledby': 'act-h' },
			h('h2', { id: 'act-h' }, 'What you can do now'),
			owner,
			pending ? h('p', { class: 'notice' }, 'Offer awaiting the buyer: ',
				h('strong', null, offerLabel(pending, d.currency)),
				' (', h('code', null, pending.offer_id), ')') : null,
			box, formBox);
	}

	function eventForm(d, actions, opt, offers, preset, reload, close) {
		const problems = h('div', { 'aria-live': 'polite' });
		const controls = {};
		const rows = [];

		for (const name of opt.fields) {
			let control;
			if (name === 'offer_id' && offers && offers.offers.length) {
				control = select(offers.offers.map((o) => [o.offer_id,
					o.rank + '. ' + offerLabel(o, d.currency) + ' — seller cost ' +
					money(o.seller_cost, d.currency)]), preset || offers.offers[0].offer_id);
			} else if (name === 'amount') {
				control = h('input', { type: 'text', inputmode: 'decimal',
					required: true });
				rows.push(field('Amount', control, '(in ' + d.currency +
					', e.g. 60.00: what the buyer asks)'));
				controls[name] = control;
				continue;
			} else {
				control = h('input', { type: 'text', required: true });
			}
			controls[name] = control;
			rows.push(field(name.replace(/_/g, ' '), control));
		}
		const note = h('textarea', { maxlength: '4096' });
		rows.push(field('Note', note, '(optional, kept in the history)'));

		return h('form', { class: 'eventform', 'aria-label': opt.event,
			onsubmit: async (ev) => {
				ev.preventDefault();
				problems.replaceChildren();
				const fields = {};
				try {
					/* amounts go in minor units, as everywhere in the API */
					for (const [name, control] of Object.entries(controls))
						fields[name] = name === 'amount'
							? parseMoney(control.value, d.currency)
							: control.value.trim();
				} catch (err) {
					problems.replaceChildren(errorBox(err));
					return;
				}
				const body = { event: opt.event };
				if (Object.keys(fields).length)
					body.fields = fields;
				if (note.value.trim())
					body.note = note.value.trim();
				try {
					const after = await api('POST', '/v1/disputes/' + d.id + '/events',
						{ json: body, ifMatch: actions.version });
					toast(opt.event + ' applied: the dispute is now ' + after.state + '.');
					reload();
				} catch (err) {
					problems.replaceChildren(errorBox(err.status === 412
						? new Error('The dispute changed meanwhile; reload it and try again.')
						: err));
				}
			} },
		h('h3', null, opt.event.replace(/_/g, ' ')),
		opt.description ? h('p', { class: 'muted small' }, opt.description) : null,
		rows, problems,
		h('div', { class: 'actions' },
			h('button', { type: 'submit' }, 'Apply ' + opt.event.replace(/_/g, ' ')),
			h('button', { type: 'button', class: 'secondary', onclick: close }, 'Cancel')));
	}

	function offersCard(d, offers, offersError, actions, reload) {
		const make = actions.events.find((o) => o.event === 'make_offer' && o.ready);
		let body;

		if (offersError) {
			body = errorBox(offersError);
		} else if (!offers.offers.length) {
			body = h('p', { class: 'muted' }, 'The engine proposes no offer now.');
		} else {
			body = h('table', { class: 'stack' },
				h('thead', null, h('tr', null, ['#', 'Offer', 'Seller cost',
					'How it is computed', ''].map((t) => h('th', { scope: 'col' }, t)))),
				h('tbody', null, offers.offers.map((o) => h('tr',
					{ class: o.rank === 1 ? 'offer-best' : null },
					h('td', { 'data-label': 'Rank' }, String(o.rank)),
					h('td', { 'data-label': 'Offer' }, h('strong', null,
						offerLabel(o, d.currency)),
					h('div', { class: 'muted small mono' }, o.offer_id)),
					h('td', { 'data-label': 'Seller cost', class: 'num' },
						money(o.seller_cost, d.currency)),
					h('td', { 'data-label': 'How' }, o.explanation,
						h('ul', { class: 'breakdown' }, (o.breakdown || []).map((b) =>
							h('li', null, b.label + ': ' + money(b.amount, d.currency))))),
					h('td', null, make ? h('button', { type: 'button',
						class: 'secondary', 'data-offer': o.offer_id,
						onclick: () => actionsCard.open(make, o.offer_id) },
					'Offer this') : null)))));
		}
		const cut = offers && offers.cut.length ? h('details', { class: 'data' },
			h('summary', null, offers.cut.length + ' offers not proposed, and why'),
			h('ul', null, offers.cut.map((o) => h('li', null,
				offerLabel(o, d.currency) + ': ' + o.cut_reason)))) : null;
		return h('section', { class: 'card', 'aria-labelledby': 'off-h' },
			h('h2', { id: 'off-h' }, 'Offers, cheapest for the seller first'),
			body, cut);
	}

	/* ---- evidence ---------------------------------------------------------------------------------- */

	function evidenceName(ev) {
		return ev.original_name || ('evidence ' + ev.n);
	}

	function extension(ev) {
		const m = /\.([A-Za-z0-9]{1,10})$/.exec(ev.path || '');
		return m ? m[1] : 'bin';
	}

	function download(blob, name) {
		const url = URL.createObjectURL(blob);
		const a = h('a', { href: url, download: name });
		document.body.appendChild(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(url), 60000);
	}

	/* Show evidence as what it is: image, audio, video, text or a download. */
	async function preview(disputeId, ev, box) {
		const type = ev.content_type || '';
		box.replaceChildren(h('p', { class: 'muted small' }, 'Loading…'));
		try {
			const res = await api('GET', '/v1/disputes/' + disputeId +
				'/evidence/' + ev.n, { raw: true });
			const blob = await res.blob();
			const label = 'Evidence ' + ev.n + ': ' + evidenceName(ev);
			let node;
			if (/^image\/(jpeg|png|gif|webp)$/.test(type)) {
				node = h('img', { src: URL.createObjectURL(blob), alt: label });
			} else if (/^audio\//.test(type) ||
				   (type === 'video/webm' && ev.kind === 'call_recording')) {
				node = h('audio', { controls: true, src: URL.createObjectURL(blob),
					'aria-label': label });
			} else if (/^video\//.test(type)) {
				node = h('video', { controls: true, src: URL.createObjectURL(blob),
					'aria-label': label });
			} else if (/^text\//.test(type) || type === 'application/json' ||
				   type === 'message/rfc822') {
				const text = await blob.text();
				node = h('pre', { 'aria-label': label }, text.length > 200000
					? text.slice(0, 200000) + '\n… (cut; download for the rest)'
					: text);
			} else {
				node = h('p', null, 'No preview for ' + type + '. ',
					h('button', { type: 'button', class: 'secondary',
						onclick: () => download(blob, 'evidence-' + ev.n + '.' +
							extension(ev)) }, 'Download'));
			}
			box.replaceChildren(node);
		} catch (err) {
			box.replaceChildren(errorBox(err));
		}
	}

	function evidenceList(d, list, auto) {
		if (!list.length)
			return h('p', { class: 'muted' }, 'No evidence yet.');
		return h('ul', { class: 'timeline' }, list.map((ev) => {
			const box = h('div', { class: 'preview' });
			const li = h('li', { class: 'evidence', 'data-evidence': String(ev.n) },
				h('div', { class: 'what' }, '#' + ev.n + ' ',
					h('span', { class: 'evname' }, evidenceName(ev)),
					' ', badge(ev.kind), ev.withdrawn ? badge('withdrawn', 'bad') : null),
				h('div', { class: 'meta' }, ev.content_type + ', ' + ev.size +
					' bytes, via ' + ev.channel + ', by ' + ev.submitted_by + ', added ',
					timeEl(ev.added_at),
					ev.captured_at ? [', captured ', timeEl(ev.captured_at)] : null),
				ev.note ? h('p', { class: 'evnote' }, ev.note) : null,
				ev.withdrawn_reason ? h('p', { class: 'muted' },
					'Withdrawn: ' + ev.withdrawn_reason) : null,
				h('div', { class: 'row' },
					h('button', { type: 'button', class: 'secondary',
						onclick: () => preview(d.id, ev, box) }, 'Preview'),
					h('button', { type: 'button', class: 'secondary',
						onclick: async () => {
							const res = await api('GET', '/v1/disputes/' + d.id +
								'/evidence/' + ev.n, { raw: true });
							download(await res.blob(), 'evidence-' + ev.n + '.' +
								extension(ev));
						} }, 'Download'),
					h('span', { class: 'muted small mono', title: 'SHA-256' },
						ev.sha256.slice(0, 16) + '…')),
				box);
			if (auto && ev.size <= PREVIEW_LIMIT)
				preview(d.id, ev, box);
			return li;
		}));
	}

	function evidenceCard(d, list, kindList, writable, reload) {
		return h('section', { class: 'card', 'aria-labelledby': 'ev-h' },
			h('h2', { id: 'ev-h' }, 'Evidence'),
			evidenceList(d, list, false),
			writable ? uploadForm(d, kindList, reload) : null);
	}

	function localInput(date) {
		const pad = (n) => String(n).padStart(2, '0');
		return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' +
			pad(date.getDate()) + 'T' + pad(date.getHours()) + ':' +
			pad(date.getMinutes());
	}

	function guessKind(file) {
		const t = file.type || '';
		if (t.startsWith('image/'))
			return 'photo';
		if (t.startsWith('audio/'))
			return 'call_recording';
		if (t.startsWith('video/'))
			return 'video';
		if (t === 'application/pdf')
			return 'invoice';
		return null;
	}

	/* Drop a file (or choose one), say what it is, upload it. */
	function uploadForm(d, kindList, reload) {
		const problems = h('div', { 'aria-live': 'polite' });
		const chosenText = h('p', { class: 'chosen', 'aria-live': 'polite' },
			'No file chosen.');
		const fileInput = h('input', { type: 'file', id: newId('file') });
		const kindSel = select(kindList.map((k) => [k.name, k.name]), 'photo');
		const kindHint = h('span', { class: 'hint' });
		const channelSel = select(CHANNELS, d.channel);
		const captured = h('input', { type: 'datetime-local' });
		const note = h('textarea', { maxlength: '4096' });
		let chosen = null;

		const showHint = () => {
			const k = kindList.find((x) => x.name === kindSel.value);
			kindHint.textContent = k ? ' (' + k.content_types.join(', ') +
				(k.requires.length ? '; needs ' + k.requires.join(', ') : '') + ')' : '';
		};
		kindSel.addEventListener('change', showHint);
		showHint();
		const choose = (file) => {
			chosen = file || null;
			if (!chosen) {
				chosenText.textContent = 'No file chosen.';
				return;
			}
			chosenText.textContent = 'Chosen: ' + chosen.name + ' (' + chosen.size +
				' bytes)';
			const guess = guessKind(chosen);
			if (guess && kindList.some((k) => k.name === guess)) {
				kindSel.value = guess;
				showHint();
			}
			if (!captured.value)
				captured.value = localInput(new Date(chosen.lastModified || Date.now()));
		};
		fileInput.addEventListener('change', () => choose(fileInput.files[0]));

		const zone = h('div', { class: 'dropzone', 'data-dropzone': '' },
			h('p', null, 'Drop a file here, or choose one:'),
			h('label', { for: fileInput.id }, 'File'), fileInput, chosenText);
		zone.addEventListener('dragover', (ev) => {
			ev.preventDefault();
			zone.classList.add('over');
		});
		zone.addEventListener('dragleave', () => zone.classList.remove('over'));
		zone.addEventListener('drop', (ev) => {
			ev.preventDefault();
			zone.classList.remove('over');
			if (ev.dataTransfer && ev.dataTransfer.files.length)
				choose(ev.dataTransfer.files[0]);
		});

		return h('form', { class: 'eventform', 'aria-label': 'Add evidence',
			onsubmit: async (ev) => {
				ev.preventDefault();
				problems.replaceChildren();
				if (!chosen) {
					problems.replaceChildren(errorBox(new Error('Choose or drop a file first.')));
					return;
				}
				const form = new FormData();
				form.append('kind', kindSel.value);
				form.append('channel', channelSel.value);
				if (captured.value)
					form.append('captured_at', new Date(captured.value).toISOString()
						.replace(/\.\d{3}Z$/, 'Z'));
				if (note.value.trim())
					form.append('note', note.value.trim());
				form.append('file', chosen, chosen.name);
				try {
					const row = await api('POST', '/v1/disputes/' + d.id + '/evidence',
						{ form });
					toast('Evidence ' + row.n + ' added (' + row.content_type + ').');
					reload();
				} catch (err) {
					problems.replaceChildren(errorBox(err));
				}
			} },
		h('h3', null, 'Add evidence'), zone,
		h('div', { class: 'fields' },
			field('Kind', kindSel, null), field('Channel', channelSel),
			field('Captured at', captured, '(your local time)')),
		kindHint,
		field('Note', note, '(optional)'),
		problems,
		h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Upload')));
	}

	/* ---- the thread: messages, events and evidence, oldest first ----------------------------------- */

	function writesToBuyer(who) {
		return who && (who.role === 'agent' || who.role === 'admin');
	}

	/* Up to `pages` pages of messages numbered above `after`. */
	async function readMessages(id, after, pages) {
		let items = [];
		let next = after;

		for (let i = 0; i < pages && next !== null; i++) {
			const page = await api('GET', '/v1/disputes/' + id +
				'/messages?after=' + next + '&limit=' + MESSAGE_PAGE);
			items = items.concat(page.items);
			next = page.next_after;
		}
		return { items, next };
	}

	const DIRECTION_LABEL = {
		inbound: 'From the buyer',
		outbound: 'To the buyer',
		internal: 'Internal note — not visible to the storefront',
	};

	function callLength(seconds) {
		const min = Math.floor(seconds / 60);
		const sec = seconds % 60;
		return (min ? min + ' min' : '') + (min && sec ? ' ' : '') +
			(sec || !min ? sec + ' s' : '');
	}

	function eventItem(e, byN) {
		const ev = e.event === 'evidence_added' && e.fields ? byN.get(String(e.fields.n)) : null;
		const fields = Object.entries(e.fields || {})
			.filter(([k]) => !(ev && (k === 'n' || k === 'kind')));
		return h('li', { class: ev ? 'evidence' : (e.actor.role === 'system' ? 'system' : null),
			'data-seq': String(e.seq) },
		h('div', { class: 'what' }, e.event.replace(/_/g, ' '),
			e.from && e.from !== e.to ? ' · ' + e.from + ' → ' + e.to : ''),
		h('div', { class: 'meta' }, e.actor.role + ':' + e.actor.name, ' · ',
			timeEl(e.at), ' · #' + e.seq),
		ev ? h('p', null, 'Evidence #' + ev.n + ' ', h('span', { class: 'evname' },
			evidenceName(ev)), ' (' + ev.kind + ', via ' + ev.channel + ')') : null,
		fields.length ? h('p', { class: 'small' }, fields.map(([k, v]) =>
			k + ' = ' + v).join(', ')) : null,
		e.note ? h('p', { class: 'evnote' }, e.note) : null);
	}

	function messageItem(m, byN) {
		return h('li', { class: 'msg ' + m.direction, 'data-message': String(m.n),
			'data-direction': m.direction },
		h('div', { class: 'bubble' },
			h('div', { class: 'what' }, DIRECTION_LABEL[m.direction] || m.direction,
				m.call ? ' · phone call' : ''),
			h('div', { class: 'meta' }, m.author + ' (' + m.role + ') · via ' +
				m.channel, m.language ? ' · ' + m.language : '', ' · ',
			timeEl(m.created_at), ' · message ' + m.n),
			m.call ? h('p', { class: 'call' }, 'Call from ' + m.call.caller +
				', ' + callLength(m.call.duration_seconds)) : null,
			h('p', { class: 'msgbody' }, m.body),
			m.evidence && m.evidence.length ? h('p', { class: 'small' },
				'Refers to evidence ', m.evidence.map((n, i) => {
					const ev = byN.get(String(n));
					return [i ? ', ' : '', '#' + n, ev ? [' ', h('span',
						{ class: 'evname' }, evidenceName(ev))] : null];
				})) : null,
			m.template ? h('p', { class: 'muted small' }, 'From the template ' +
				m.template) : null));
	}

	/*
	 * One list of everything, in time order (then by the dispute's
	 * version): the messages, and the events other than "message" (the
	 * messages stand for them), evidence additions among them. While
	 * messages remain unread, nothing after the last one read is shown.
	 */
	function threadItems(events, messages, more, byN) {
		const entries = messages.map((m) => ({ at: Date.parse(m.created_at),
			order: m.version, node: () => messageItem(m, byN) }));
		for (const e of events)
			if (e.event !== 'message')
				entries.push({ at: Date.parse(e.at), order: e.seq,
					node: () => eventItem(e, byN) });
		entries.sort((a, b) => a.at - b.at || a.order - b.order);
		const last = messages[messages.length - 1];
		return entries.filter((x) => !more || !last || x.at < Date.parse(last.created_at) ||
			(x.at === Date.parse(last.created_at) && x.order <= last.version))
			.map((x) => x.node());
	}

	function threadCard(ctx) {
		const { d, who, events, evidence, messages } = ctx;
		const byN = new Map(evidence.map((ev) => [String(ev.n), ev]));
		const list = h('ol', { class: 'timeline thread' });
		const moreBox = h('div');
		let loaded = messages.items;
		let next = messages.next;

		function paint() {
			list.replaceChildren(...threadItems(events, loaded, next !== null, byN));
			moreBox.replaceChildren();
			if (next !== null)
				moreBox.appendChild(h('p', null, h('button', { type: 'button',
					class: 'secondary', onclick: async (ev) => {
						ev.target.disabled = true;
						try {
							const page = await readMessages(d.id, next, 1);
							loaded = loaded.concat(page.items);
							next = page.next;
							paint();
						} catch (err) {
							moreBox.appendChild(errorBox(err));
							ev.target.disabled = false;
						}
					} }, 'Load later messages'),
				h('span', { class: 'muted small' }, ' (' + loaded.length +
					' messages shown so far)')));
		}
		paint();

		const writes = canWrite(who);
		return h('section', { class: 'card', 'aria-labelledby': 'thread-h' },
			h('h2', { id: 'thread-h' }, 'Thread, oldest first'),
			h('p', { class: 'muted small' }, 'The conversation with the buyer ' +
				'from every channel, with the events and evidence of the dispute ' +
				'in between' + (who.role === 'storefront' ? '.'
					: '; internal notes are set apart.')),
			list, moreBox,
			writes ? composer(ctx) : null,
			writes ? callForm(ctx) : null);
	}

	/* ---- writing to the thread ------------------------------------------------------------------------------ */

	/*
	 * A form's fields with a place for the server's word on each: a
	 * problem naming a `field` is shown under that field, any other above
	 * the buttons.
	 */
	function problemSpots(general) {
		const spots = new Map();
		return {
			field(name, labelText, control, hint) {
				const spot = h('div', { 'aria-live': 'polite' });
				spots.set(name, { spot, control });
				const box = field(labelText, control, hint);
				box.appendChild(spot);
				return box;
			},
			clear() {
				general.replaceChildren();
				for (const { spot, control } of spots.values()) {
					spot.replaceChildren();
					control.removeAttribute('aria-invalid');
				}
			},
			show(err) {
				let name = (err.problem && err.problem.field) || '';
				name = name.replace(/^template\.vars\./, 'vars.')
					.replace(/\[\d+\]$/, '');
				let at = spots.get(name);
				while (!at && name.includes('.')) {
					name = name.slice(0, name.lastIndexOf('.'));
					at = spots.get(name);
				}
				if (!at || at.control.closest('[hidden]')) {
					general.replaceChildren(errorBox(err));
					return;
				}
				at.spot.replaceChildren(errorBox(err));
				at.control.setAttribute('aria-invalid', 'true');
				at.control.focus();
			},
		};
	}

	/* "1, 3" -> [1, 3] */
	function evidenceNumbers(text) {
		const parts = text.split(/[\s,]+/).filter(Boolean);
		if (!parts.every((p) => /^\d+$/.test(p)))
			throw Object.assign(new Error('Evidence numbers such as 1, 3.'),
				{ problem: { field: 'evidence' } });
		return parts.map(Number);
	}

	/* Which of a template's variables the dispute gives itself. */
	function givenVars(d, actions, events) {
		const given = new Set(['order_ref', 'agent_name']);
		if (d.items.length)
			given.add('item');
		const offer = !!actions.pending_offer ||
			events.some((e) => e.event === 'accept_offer');
		return { given, offer };
	}
	const OFFER_VARS = ['amount', 'buyer_pays', 'respond_by'];

	function varInput(d, v, optional) {
		if (v.type === 'money')
			return { control: h('input', { type: 'text', inputmode: 'decimal',
				required: !optional }), hint: '(in ' + d.currency + ', e.g. 115.00' +
				(optional ? '; empty: the offer\'s' : '') + ')',
			value: (c) => parseMoney(c.value, d.currency) };
		if (v.type === 'date')
			return { control: h('input', { type: 'datetime-local',
				required: !optional }), hint: '(your local time' +
				(optional ? '; empty: the offer\'s' : '') + ')',
			value: (c) => new Date(c.value).toISOString().replace(/\.\d{3}Z$/, 'Z') };
		return { control: h('input', { type: 'text', required: !optional,
			maxlength: '512' }), hint: optional ? '(optional)' : null,
		value: (c) => c.value.trim() };
	}

	/* Write to the buyer, note for colleagues, or record what the buyer wrote. */
	function composer(ctx) {
		const { d, who, actions, events, texts, reload } = ctx;
		const shop = who.role === 'storefront';
		const general = h('div', { 'aria-live': 'polite' });
		const spots = problemSpots(general);
		const directions = shop ? [['inbound', 'what the buyer wrote']]
			: [['outbound', 'Outbound: to the buyer'],
				['internal', 'Internal note: for colleagues only'],
				['inbound', 'Inbound: what the buyer wrote']];
		const dirSel = select(directions, directions[0][0]);
		const channels = MESSAGE_CHANNELS.filter((c) => c !== 'phone');
		const usual = channels.includes(d.channel) ? d.channel : 'email';
		const channelSel = select(channels, usual);
		const items = (texts && texts.items) || [];
		const tmplSel = select([['', 'none: write the text'],
			...items.map((t) => [t.name, t.name.replace(/_/g, ' ')])], '');
		const tmplAbout = h('p', { class: 'muted small' });
		const varsBox = h('div', { class: 'fields' });
		const body = h('textarea', { maxlength: '65536', rows: '4' });
		const language = h('input', { type: 'text', value: d.locale || '',
			placeholder: 'de-DE', maxlength: '35' });
		const zone = h('input', { type: 'text', placeholder: 'Europe/Berlin' });
		const refs = h('input', { type: 'text', inputmode: 'numeric',
			placeholder: '1, 3' });
		const previewBox = h('div', { 'aria-live': 'polite' });
		const previewBtn = h('button', { type: 'button', class: 'secondary' },
			'Preview');
		let vars = [];

		const tmplField = spots.field('template', 'Template', tmplSel,
			'(in the buyer\'s language)');
		const bodyField = spots.field('body', shop ? 'What your buyer wrote'
			: 'Message', body, '(line breaks are kept)');
		const zoneField = spots.field('time_zone', 'Time zone of the dates', zone,
			'(optional; the storefront\'s by default)');
		const tmplBox = h('div', null, tmplAbout, varsBox, zoneField);

		function template() {
			return items.find((t) => t.name === tmplSel.value) || null;
		}

		function paint() {
			const dir = dirSel.value;
			const t = dir === 'outbound' ? template() : null;
			tmplField.hidden = dir !== 'outbound' || !items.length;
			tmplBox.hidden = !t;
			bodyField.hidden = !!t;
			body.required = !t;
			previewBtn.hidden = !t;
			previewBox.replaceChildren();
			zoneField.hidden = !t || !t.vars.some((v) => v.type === 'date');
			vars = [];
			varsBox.replaceChildren();
			tmplAbout.replaceChildren();
			if (!t)
				return;
			const { given, offer } = givenVars(d, actions, events);
			const fromDispute = t.vars.filter((v) => given.has(v.name));
			tmplAbout.append(t.description || '', fromDispute.length
				? ' Filled in by the dispute: ' + fromDispute.map((v) => v.name)
					.join(', ') + '.' : '');
			for (const v of t.vars.filter((x) => !given.has(x.name))) {
				const optional = offer && OFFER_VARS.includes(v.name);
				const input = varInput(d, v, optional);
				input.name = v.name;
				vars.push(input);
				const box = spots.field('vars.' + v.name, v.name.replace(/_/g, ' '),
					input.control, input.hint);
				if (v.description)
					box.appendChild(h('p', { class: 'muted small' }, v.description));
				varsBox.appendChild(box);
			}
		}

		dirSel.addEventListener('change', () => {
			/* a note is for colleagues: no buyer's language, no buyer's channel */
			if (dirSel.value === 'internal') {
				if (language.value === (d.locale || ''))
					language.value = '';
				channelSel.value = 'other';
			} else {
				if (!language.value)
					language.value = d.locale || '';
				if (channelSel.value === 'other')
					channelSel.value = usual;
			}
			paint();
		});
		tmplSel.addEventListener('change', paint);

		/* The template and its variables as the API takes them. */
		function templateRequest() {
			const t = template();
			const values = {};
			for (const v of vars) {
				if (!v.control.value.trim())
					continue;
				try {
					values[v.name] = v.value(v.control);
				} catch (err) {
					err.problem = { field: 'vars.' + v.name };
					throw err;
				}
			}
			return { name: t.name, vars: values };
		}

		function common(req) {
			if (language.value.trim())
				req.language = language.value.trim();
			if (!zoneField.hidden && zone.value.trim())
				req.time_zone = zone.value.trim();
			return req;
		}

		previewBtn.addEventListener('click', async () => {
			spots.clear();
			previewBox.replaceChildren(h('p', { class: 'muted small' }, 'Rendering…'));
			try {
				const r = await api('POST', '/v1/disputes/' + d.id +
					'/messages/preview', { json: common({ template: templateRequest() }) });
				previewBox.replaceChildren(h('div', { class: 'rendered',
					'data-preview': r.template_locale },
				h('p', { class: 'muted small' }, 'What the buyer will read, in ' +
					r.language + ' (the ' + r.template_locale + ' text):'),
				r.fell_back ? h('p', { class: 'notice' }, 'There is no text in ' +
					(language.value.trim() || d.locale || 'the buyer\'s language') +
					'; this is the English one.') : null,
				h('p', { class: 'msgbody' }, r.body)));
			} catch (err) {
				previewBox.replaceChildren();
				spots.show(err);
			}
		});

		paint();
		return h('form', { class: 'eventform composer', 'aria-label': shop
			? 'What your buyer wrote' : 'Write a message',
		onsubmit: async (ev) => {
			ev.preventDefault();
			spots.clear();
			const t = dirSel.value === 'outbound' ? template() : null;
			try {
				const req = common({ direction: dirSel.value,
					channel: channelSel.value });
				if (t)
					req.template = templateRequest();
				else
					req.body = body.value.replace(/\r\n?/g, '\n');
				if (refs.value.trim())
					req.evidence = evidenceNumbers(refs.value);
				const m = await api('POST', '/v1/disputes/' + d.id + '/messages',
					{ json: req });
				toast((m.direction === 'internal' ? 'Internal note ' : 'Message ') +
					m.n + ' recorded.');
				reload();
			} catch (err) {
				spots.show(err);
			}
		} },
		h('h3', null, shop ? 'What your buyer wrote' : 'Write a message'),
		shop ? h('p', { class: 'muted small' }, 'Record here what your buyer ' +
			'wrote to you, on any channel; the seller\'s agents answer it.') : null,
		h('div', { class: 'fields' },
			shop ? null : spots.field('direction', 'Direction', dirSel),
			spots.field('channel', 'Channel', channelSel),
			spots.field('language', 'Language', language, '(BCP 47)')),
		tmplField, tmplBox, bodyField,
		spots.field('evidence', 'Refers to evidence', refs, '(numbers; optional)'),
		previewBox, general,
		h('div', { class: 'actions' }, previewBtn,
			h('button', { type: 'submit' }, 'Send')));
	}

	/* A phone call: who called, how long, what was said, its recording. */
	function callForm(ctx) {
		const { d, who, evidence, reload } = ctx;
		const shop = who.role === 'storefront';
		const general = h('div', { 'aria-live': 'polite' });
		const spots = problemSpots(general);
		const dirSel = select(shop ? [['inbound', 'the buyer called']]
			: [['inbound', 'the buyer called us'], ['outbound', 'we called the buyer']],
		'inbound');
		const caller = h('input', { type: 'text', value: 'buyer', required: true,
			maxlength: '127' });
		const minutes = h('input', { type: 'number', min: '0', max: '1440',
			value: '0', required: true });
		const seconds = h('input', { type: 'number', min: '0', max: '59',
			value: '0', required: true });
		const summary = h('textarea', { maxlength: '65536', rows: '3',
			required: true });
		const recordings = evidence.filter((ev) => ev.kind === 'call_recording' &&
			!ev.withdrawn);
		const recordingSel = select([['', 'none'], ...recordings.map((ev) =>
			[String(ev.n), '#' + ev.n + ' ' + evidenceName(ev)])], '');

		dirSel.addEventListener('change', () => {
			if (dirSel.value === 'outbound' && caller.value === 'buyer')
				caller.value = who.name;
			else if (dirSel.value === 'inbound' && caller.value === who.name)
				caller.value = 'buyer';
		});

		return h('details', { class: 'eventform callform' },
			h('summary', null, 'Log a call'),
			h('form', { 'aria-label': 'Log a call', onsubmit: async (ev) => {
				ev.preventDefault();
				spots.clear();
				const req = { direction: dirSel.value, channel: 'phone',
					body: summary.value.replace(/\r\n?/g, '\n'),
					call: { caller: caller.value.trim(),
						duration_seconds: Number(minutes.value || 0) * 60 +
							Number(seconds.value || 0) } };
				if (recordingSel.value)
					req.evidence = [Number(recordingSel.value)];
				try {
					const m = await api('POST', '/v1/disputes/' + d.id + '/messages',
						{ json: req });
					toast('Call logged as message ' + m.n + '.');
					reload();
				} catch (err) {
					spots.show(err);
				}
			} },
			h('p', { class: 'muted small' }, 'A call leaves no trace by itself: ' +
				'log who called, how long it took and what was said.'),
			h('div', { class: 'fields' },
				shop ? null : spots.field('direction', 'Call', dirSel),
				spots.field('call.caller', 'Caller', caller, '(who called)'),
				spots.field('call.duration_seconds', 'Minutes', minutes),
				field('Seconds', seconds),
				recordings.length ? spots.field('evidence', 'Recording', recordingSel,
					'(call recording evidence)') : null),
			spots.field('body', 'Summary of the call', summary),
			general,
			h('div', { class: 'actions' },
				h('button', { type: 'submit' }, 'Log the call'))));
	}

	/* ---- the auditor's view: history as commits, previews, verify, export ----------------------- */

	const CHECKS = [
		['ref', 'The dispute has its own ref in the git repository'],
		['head', 'The index points at the ref\'s head commit'],
		['object', 'Every commit and file object can be read'],
		['history', 'The history is linear and append-only (no event or evidence changed once written)'],
		['hash', 'Every evidence file re-hashes to the SHA-256 in its metadata'],
		['index', 'The index (dispute, events, evidence, offers) matches git'],
	];

	async function viewAudit(query, id) {
		const [d, history, evidence] = await Promise.all([
			api('GET', '/v1/disputes/' + id),
			api('GET', '/v1/disputes/' + id + '/history'),
			api('GET', '/v1/disputes/' + id + '/evidence'),
		]);
		const verifyBox = h('div', { 'aria-live': 'polite' });
		const exportBox = h('div', { 'aria-live': 'polite' });
		const bySeq = new Map(history.events.map((e) => [e.seq, e]));

		const verify = h('button', { type: 'button', onclick: async () => {
			verify.disabled = true;
			verifyBox.replaceChildren(h('p', { class: 'muted' }, 'Verifying…'));
			try {
				const r = await api('GET', '/v1/disputes/' + id + '/verify');
				verifyBox.replaceChildren(verifyReport(r));
			} catch (err) {
				verifyBox.replaceChildren(errorBox(err));
			}
			verify.disabled = false;
		} }, 'Verify this dispute');
		const exporter = h('button', { type: 'button', class: 'secondary',
			onclick: async () => {
				exportBox.replaceChildren(h('p', { class: 'muted' }, 'Exporting…'));
				try {
					const res = await api('GET', '/v1/disputes/' + id + '/export',
						{ raw: true });
					const blob = await res.blob();
					download(blob, 'dispute-' + id + '.tar.gz');
					exportBox.replaceChildren(h('p', { class: 'notice' },
						'Exported ' + blob.size + ' bytes: dispute-' + id + '.tar.gz'));
				} catch (err) {
					exportBox.replaceChildren(errorBox(err));
				}
			} }, 'Export (.tar.gz)');

		const commits = history.commits.slice().reverse();
		return h('div', null,
			h('div', { class: 'row' },
				h('h1', null, 'History of ' + d.order_ref),
				badge(d.state), h('span', { class: 'spacer' }),
				h('a', { class: 'button secondary', href: '#/d/' + id }, 'Dispute page')),
			h('div', { class: 'grid' },
				h('section', { class: 'card', 'aria-labelledby': 'ver-h' },
					h('h2', { id: 'ver-h' }, 'Verify'),
					h('p', { class: 'muted small' }, 'Walks every commit, re-hashes ' +
						'every evidence file and compares git with the index.'),
					verify, verifyBox),
				h('section', { class: 'card', 'aria-labelledby': 'exp-h' },
					h('h2', { id: 'exp-h' }, 'Export'),
					h('p', { class: 'muted small' }, 'A self-contained archive: ' +
						'evidence files, metadata, timeline and the verification ' +
						'result, readable without redress.'),
					exporter, exportBox)),
			h('section', { class: 'card', 'aria-labelledby': 'git-h' },
				h('h2', { id: 'git-h' }, 'History as git commits, newest first'),
				h('p', { class: 'muted small' }, 'One commit per change on ref ',
					h('code', null, 'refs/disputes/' + id), '; the same with ',
					h('code', null, 'git log'), '.'),
				h('table', { class: 'stack commits' },
					h('thead', null, h('tr', null, ['Commit', 'When', 'Who',
						'What changed'].map((t) => h('th', { scope: 'col' }, t)))),
					h('tbody', null, commits.map((c, i) => {
						const seq = commits.length - i;
						const e = bySeq.get(seq);
						const lines = c.message.split('\n');
						return h('tr', null,
							h('td', { 'data-label': 'Commit' },
								h('code', { class: 'oid', title: c.commit },
									c.commit.slice(0, 10))),
							h('td', { 'data-label': 'When' }, timeEl(c.at)),
							h('td', { 'data-label': 'Who' }, c.author,
								h('div', { class: 'muted small' }, c.email)),
							h('td', { 'data-label': 'What' }, h('div', null, lines[0]),
								e && Object.keys(e.fields || {}).length
									? h('div', { class: 'small' }, Object.entries(e.fields)
										.map(([k, v]) => k + ' = ' + v).join(', '))
									: null,
								e && e.note ? h('div', { class: 'small evnote' }, e.note)
									: null));
					})))),
			h('section', { class: 'card', 'aria-labelledby': 'evp-h' },
				h('h2', { id: 'evp-h' }, 'Evidence'),
				evidenceList(d, evidence.evidence, true)));
	}

	function verifyReport(r) {
		const failed = new Set(r.findings.map((f) => f.check));
		return h('div', null,
			h('p', { class: r.ok ? 'notice' : 'error', role: r.ok ? null : 'alert' },
				r.ok ? 'Verified: nothing differs.' : r.findings.length +
					' finding(s): the record does not match.'),
			h('ul', { class: 'checks' }, CHECKS.map(([check, text]) =>
				h('li', { class: failed.has(check) ? 'fail' : 'pass',
					'data-check': check },
				h('span', { class: 'mark', 'aria-hidden': 'true' },
					failed.has(check) ? '✗' : '✓'),
				h('span', { class: 'visually' }, failed.has(check) ? 'Failed: '
					: 'Passed: '), text))),
			h('p', { class: 'muted small' }, r.commits + ' commits walked, ' +
				r.files_hashed + ' evidence files (' + r.bytes_hashed +
				' bytes) re-hashed.'),
			r.findings.length ? h('ul', null, r.findings.map((f) =>
				h('li', null, h('strong', null, f.check + ': '), f.detail))) : null);
	}

	/* ---- a buyer's disputes, and the agents -------------------------------------------------- */

	async function viewBuyer(query, raw) {
		let ref = raw;
		try {
			ref = decodeURIComponent(raw);
		} catch (e) {
			ref = raw;
		}
		const storefront = query.get('storefront') || '';
		const params = new URLSearchParams();
		if (storefront)
			params.set('storefront', storefront);
		params.set('limit', '100');
		const path = '/v1/buyers/' + encodeURIComponent(ref) + '/disputes?' + params;
		const tableBox = h('div');
		const moreBox = h('div', { 'aria-live': 'polite' });
		let rows = [];
		let next = null;
		const more = loadMore(() => path + '&cursor=' + encodeURIComponent(next),
			moreBox, (page) => {
				rows = rows.concat(pageItems(page));
				next = page.next_cursor;
				paint();
			});

		function paint() {
			more.disabled = false;
			moreBox.replaceChildren();
			tableBox.replaceChildren(rows.length ? queueTable(rows)
				: h('p', { class: 'muted' }, 'No disputes of this buyer.'));
			if (next)
				tableBox.appendChild(h('p', null, more));
			tick();
		}

		const first = await api('GET', path);
		rows = pageItems(first);
		next = first.next_cursor;
		paint();
		return h('div', null,
			h('h1', null, 'Buyer ' + ref),
			h('p', { class: 'muted small' }, 'The disputes of buyer ' + ref +
				(storefront ? ' at ' + storefront : '') + '.'),
			h('section', { class: 'card', 'aria-label': 'The buyer\'s disputes' },
				tableBox, moreBox));
	}

	async function viewAgents() {
		const who = await me();
		const r = await api('GET', '/v1/agents');
		const head = ['Agent', 'Open', 'Overdue', 'Awaiting reply'];

		return h('div', null,
			h('h1', null, 'Agents'),
			h('p', { class: 'muted small' }, 'Each agent with the open disputes ' +
				'assigned to them, how many of those are past their SLA deadline, ' +
				'and how many have a buyer waiting for a reply.'),
			h('section', { class: 'card', 'aria-label': 'Agents and their disputes' },
				r.items.length ? h('table', { class: 'stack agents' },
					h('thead', null, h('tr', null, head.map((t, i) =>
						h('th', { scope: 'col', class: i ? 'num' : null }, t)))),
					h('tbody', null, r.items.map((a) => h('tr', { 'data-agent': a.name },
						h('td', { 'data-label': 'Agent' },
							h('a', { href: '#/queue?assignee=' + encodeURIComponent(a.name) },
								a.name), who.name === a.name ? ' (you)' : null),
						h('td', { 'data-label': 'Open', class: 'num' }, String(a.open)),
						h('td', { 'data-label': 'Overdue', class: a.overdue
							? 'num due overdue' : 'num' }, String(a.overdue)),
						h('td', { 'data-label': 'Awaiting reply', class: 'num' },
							String(a.awaiting_reply))))))
					: h('p', { class: 'muted' }, 'No agent keys yet.')));
	}

	/* ---- the overview: charts over the running totals ------------------------------------------ */

	/* Horizontal bars, one per row; a table of the same numbers below. */
	function barChart(title, rows, opts) {
		const o = opts || {};
		const W = 440;
		const rowH = 26;
		const labelW = 130;
		const H = Math.max(1, rows.length) * rowH + 8;
		const max = Math.max(1, ...rows.map((r) => r.value));
		const titleId = newId('chart');
		const root = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
			'aria-labelledby': titleId });
		root.appendChild(s('title', { id: titleId }, title + ': ' +
			(rows.map((r) => r.label + ' ' + r.value).join(', ') || 'none')));
		rows.forEach((r, i) => {
			const y = 4 + i * rowH;
			const w = Math.round((W - labelW - 50) * r.value / max);
			root.appendChild(s('text', { x: labelW - 6, y: y + 17, 'text-anchor': 'end',
				class: 'label' }, r.label));
			root.appendChild(s('rect', { x: labelW, y: y + 4, width: Math.max(w, 1),
				height: rowH - 8, class: 'bar ' + (r.cls || '') }));
			root.appendChild(s('text', { x: labelW + w + 6, y: y + 17, class: 'value' },
				o.format ? o.format(r.value) : String(r.value)));
		});
		if (!rows.length)
			root.appendChild(s('text', { x: 8, y: 20, class: 'value' }, 'nothing yet'));
		return chartFigure(title, root, ['', 'count'],
			rows.map((r) => [r.label, String(r.value)]));
	}

	function chartFigure(title, svgNode, head, rows) {
		return h('figure', { class: 'chart' },
			h('figcaption', null, title), svgNode,
			h('details', { class: 'data' }, h('summary', null, 'The numbers'),
				h('table', null, h('thead', null, h('tr', null,
					head.map((t) => h('th', { scope: 'col' }, t)))),
				h('tbody', null, rows.map((r) => h('tr', null,
					r.map((c, i) => h(i ? 'td' : 'th', { class: i ? 'num' : null,
						scope: i ? null : 'row' }, c))))))));
	}

	/* Two bars per offer type: made and accepted. */
	function offersChart(made, accepted) {
		const types = OFFER_TYPES.concat(Object.keys(made).filter((t) =>
			!OFFER_TYPES.includes(t)));
		const W = 440;
		const groupH = 40;
		const labelW = 130;
		const H = types.length * groupH + 8;
		const max = Math.max(1, ...types.map((t) => made[t] || 0));
		const titleId = newId('chart');
		const root = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
			'aria-labelledby': titleId });
		root.appendChild(s('title', { id: titleId }, 'Offers made and accepted by type: ' +
			types.map((t) => t + ' ' + (made[t] || 0) + ' made, ' + (accepted[t] || 0) +
				' accepted').join('; ')));
		types.forEach((t, i) => {
			const y = 4 + i * groupH;
			const wm = Math.round((W - labelW - 90) * (made[t] || 0) / max);
			const wa = Math.round((W - labelW - 90) * (accepted[t] || 0) / max);
			root.appendChild(s('text', { x: labelW - 6, y: y + 22, 'text-anchor': 'end',
				class: 'label' }, t.replace(/_/g, ' ')));
			root.appendChild(s('rect', { x: labelW, y: y + 4, width: Math.max(wm, 1),
				height: 14, class: 'bar' }));
			root.appendChild(s('text', { x: labelW + wm + 6, y: y + 15, class: 'value' },
				(made[t] || 0) + ' made'));
			root.appendChild(s('rect', { x: labelW, y: y + 20, width: Math.max(wa, 1),
				height: 14, class: 'bar alt' }));
			root.appendChild(s('text', { x: labelW + wa + 6, y: y + 31, class: 'value' },
				(accepted[t] || 0) + ' accepted'));
		});
		const fig = chartFigure('Offers made and accepted, by type', root,
			['type', 'made', 'accepted'],
			types.map((t) => [t, String(made[t] || 0), String(accepted[t] || 0)]));
		fig.insertBefore(h('div', { class: 'legend', 'aria-hidden': 'true' },
			h('span', null, h('span', { class: 'swatch' }), 'made'),
			h('span', null, h('span', { class: 'swatch alt' }), 'accepted')),
		fig.querySelector('details'));
		return fig;
	}

	function bucketLabel(le) {
		return le === null ? '> 30 d' : '≤ ' + duration(le);
	}

	/* Columns per resolution bucket, with the median marked. */
	function resolutionChart(res) {
		const W = 440;
		const H = 220;
		const base = 180;
		const n = res.buckets.length;
		const colW = (W - 20) / n;
		const max = Math.max(1, ...res.buckets.map((b) => b.disputes));
		const titleId = newId('chart');
		const root = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
			'aria-labelledby': titleId });
		root.appendChild(s('title', { id: titleId }, 'Time to resolution: ' +
			res.buckets.map((b) => bucketLabel(b.le_s) + ' ' + b.disputes).join(', ') +
			(res.median_s !== null ? '; median about ' + duration(res.median_s) : '')));
		root.appendChild(s('line', { x1: 10, x2: W - 10, y1: base, y2: base, class: 'axis' }));
		res.buckets.forEach((b, i) => {
			const x = 10 + i * colW;
			const hgt = Math.round((base - 30) * b.disputes / max);
			root.appendChild(s('rect', { x: x + 4, y: base - hgt, width: colW - 8,
				height: Math.max(hgt, 1), class: 'bar' }));
			if (b.disputes)
				root.appendChild(s('text', { x: x + colW / 2, y: base - hgt - 4,
					'text-anchor': 'middle', class: 'value' }, String(b.disputes)));
			root.appendChild(s('text', { x: x + colW / 2, y: base + 16,
				'text-anchor': 'middle', class: 'label' },
			b.le_s === null ? '>30d' : duration(b.le_s).replace(/ /g, '')));
		});
		if (res.median_s !== null && res.median_bucket) {
			const i = res.buckets.findIndex((b) => b.le_s === res.median_bucket.to_s);
			const from = res.median_bucket.from_s;
			const to = res.median_bucket.to_s;
			const frac = to === null ? 0 : (res.median_s - from) / Math.max(1, to - from);
			const x = 10 + (i < 0 ? n - 1 : i) * colW + 4 + frac * (colW - 8);
			root.appendChild(s('line', { x1: x, x2: x, y1: 16, y2: base, class: 'median' }));
			root.appendChild(s('text', { x: Math.min(x + 4, W - 110), y: 14,
				class: 'median-label' }, 'median ≈ ' + duration(res.median_s)));
		}
		return chartFigure('Time from opening to outcome', root, ['within', 'disputes'],
			res.buckets.map((b) => [bucketLabel(b.le_s), String(b.disputes)]));
	}

	function tile(label, value, note) {
		return h('div', { class: 'tile' }, h('div', { class: 'muted small' }, label),
			h('div', { class: 'big' }, value), note ? h('div', { class: 'muted small' }, note)
				: null);
	}

	async function viewOverview() {
		const ov = await api('GET', '/v1/overview');
		const byState = Object.entries(ov.disputes.by_state)
			.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])
			.map(([label, value]) => ({ label, value,
				cls: label === 'escalated' ? 'warn' : '' }));
		const byReason = Object.entries(ov.disputes.by_reason)
			.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])
			.map(([label, value]) => ({ label: label.replace(/_/g, ' '), value }));
		const r = ov.resolution;
		return h('div', null,
			h('h1', null, 'Overview' + (ov.storefront ? ' of ' + ov.storefront : '')),
			h('div', { class: 'tiles' },
				tile('Disputes', String(ov.disputes.total)),
				tile('Resolved or closed', String(r.resolved)),
				tile('Median time to outcome', r.median_s === null ? '—'
					: (r.median_bucket.to_s === null ? '> ' : '≈ ') +
						duration(r.median_s), r.median_bucket
					? 'estimated within the bucket ' +
						duration(r.median_bucket.from_s) + ' to ' +
						(r.median_bucket.to_s === null ? 'no bound'
							: duration(r.median_bucket.to_s)) : null),
				tile('SLA breaches', String(ov.sla_breaches),
					'deadlines that fired')),
			h('div', { class: 'grid charts' },
				h('section', { class: 'card' }, barChart('Disputes by state', byState)),
				h('section', { class: 'card' }, barChart('Disputes by reason', byReason)),
				h('section', { class: 'card' }, offersChart(ov.offers.made,
					ov.offers.accepted)),
				h('section', { class: 'card' }, resolutionChart(r))));
	}

	/* ---- start ------------------------------------------------------------------------------------ */

	document.getElementById('skip').addEventListener('click', () => {
		const target = main.querySelector('h1') || main;
		target.setAttribute('tabindex', '-1');
		target.focus();
	});
	window.addEventListener('hashchange', () => {
		render.moved = true;
		render();
	});
	setInterval(tick, 30000);
	render();
}());
