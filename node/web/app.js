// The bully-cluster dashboard: one card per configured node, a timeline of protocol events and two
// charts, live from the event-bus bridge (cluster.status, cluster.events). When the node serving
// the bridge goes away, it reconnects through another node of the cluster.
'use strict';

const DOWN_AFTER_MS = 1500;       // a node whose status stopped arriving for this long is shown DOWN
const HISTORY_MS = 60000;         // chart window
const MAX_EVENTS = 200;
const COLORS = ['#4fa3e0', '#f5b942', '#6fcf97', '#e0565b', '#b283f0', '#56c2c9', '#f08ac0', '#c9c956'];

const state = {
  cluster: '',
  configured: [],                 // [{id, url}]
  chaosEnabled: false,
  statuses: new Map(),            // id -> {status, seenAt}
  events: [],                     // newest first
  terms: new Map(),               // id -> [[time, term]]
  commits: [],                    // [[time, commitIndex]] of whichever node led
  connectedTo: null,              // base URL of the node whose bridge we use
  bus: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function clock(ts) {
  const d = new Date(ts);
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

// ------------------------------------------------------------------ data in

function onStatus(status) {
  const now = Date.now();
  state.statuses.set(status.nodeId, { status, seenAt: now });
  const series = state.terms.get(status.nodeId) || [];
  series.push([now, status.term]);
  state.terms.set(status.nodeId, series);
  if (status.role === 'COORDINATOR') {
    state.commits.push([now, status.commitIndex]);
  }
}

function onEvent(event) {
  state.events.unshift(event);
  if (state.events.length > MAX_EVENTS) state.events.length = MAX_EVENTS;
  renderTimeline();
}

async function fetchJson(url, timeoutMs = 1500) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok) throw new Error(url + ' answered ' + response.status);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

/** Connects the bridge of the node at {@code base}; on loss, tries the other nodes in turn. */
function connect(base) {
  const bus = new EventBus(base + '/eventbus');
  state.bus = bus;
  bus.onopen = () => {
    state.connectedTo = base;
    setConnection('live through ' + base, false);
    bus.registerHandler('cluster.status', (err, message) => { if (!err) onStatus(message.body); });
    bus.registerHandler('cluster.events', (err, message) => { if (!err) onEvent(message.body); });
  };
  bus.onclose = () => {
    if (state.bus !== bus) return;
    setConnection('lost the connection to ' + base + '; reconnecting through another node…', true);
    state.bus = null;
    setTimeout(() => reconnect(base), 300);
  };
}

async function reconnect(lost) {
  const candidates = state.configured.map(n => n.url).filter(url => url !== lost).concat([lost]);
  for (const url of candidates) {
    try {
      const snapshot = await fetchJson(url + '/api/cluster');
      absorb(snapshot);
      connect(url);
      return;
    } catch (e) {
      // that node is down too; try the next one
    }
  }
  setConnection('no node of the cluster answers; retrying…', true);
  setTimeout(() => reconnect(lost), 1000);
}

/** Takes a /api/cluster snapshot: configured nodes, latest statuses and recent events. */
function absorb(snapshot) {
  state.cluster = snapshot.cluster;
  state.configured = snapshot.configured;
  state.chaosEnabled = snapshot.chaosEnabled;
  const now = Date.now();
  for (const status of snapshot.nodes) {
    const seenAt = now - status.ageMs;
    const known = state.statuses.get(status.nodeId);
    if (!known || known.seenAt < seenAt) {
      state.statuses.set(status.nodeId, { status, seenAt });
      const series = state.terms.get(status.nodeId) || [];
      series.push([seenAt, status.term]);
      series.sort((a, b) => a[0] - b[0]);
      state.terms.set(status.nodeId, series);
    }
  }
  if (state.events.length === 0) state.events = snapshot.events.slice(0, MAX_EVENTS);
  document.getElementById('cluster-name').textContent = state.cluster;
  renderTimeline();
}

function setConnection(text, lost) {
  const line = document.getElementById('connection');
  line.textContent = text;
  line.classList.toggle('lost', lost);
}

// ------------------------------------------------------------------ chaos

async function chaos(node, fault) {
  let token = sessionStorage.getItem('bully.adminToken');
  if (!token) {
    token = prompt('Admin token (admin.token in the node configuration)');
    if (!token) return;
    sessionStorage.setItem('bully.adminToken', token);
  }
  try {
    const response = await fetch(node.url + '/admin/chaos/' + fault, {
      method: 'POST', headers: { Authorization: 'Bearer ' + token },
    });
    if (response.status === 401) sessionStorage.removeItem('bully.adminToken');
    if (!response.ok) alert('Node ' + node.id + ' answered ' + response.status + ': ' + await response.text());
  } catch (e) {
    // a node that dies or pauses may not answer: that is the point
  }
}

// ------------------------------------------------------------------ rendering

function roleOf(id, now) {
  const known = state.statuses.get(id);
  if (!known || now - known.seenAt > DOWN_AFTER_MS) return 'DOWN';
  return known.status.role;
}

function lagOf(status) {
  if (status.role === 'COORDINATOR') {
    const lags = (status.followers || []).map(f => f.lag);
    return lags.length ? 'max ' + Math.max(...lags) : '0';
  }
  return String(status.behind ?? 0);
}

function megabytes(bytes) {
  return bytes < 0 ? '—' : (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0) + ' MB';
}

function renderNodes() {
  const now = Date.now();
  const container = document.getElementById('nodes');
  const cards = state.configured.map(node => {
    const role = roleOf(node.id, now);
    const known = state.statuses.get(node.id);
    const status = known ? known.status : null;
    const sinceHeartbeat = status ? (status.role === 'COORDINATOR' ? '—' : status.lastHeartbeatAgoMs + ' ms ago') : '—';
    const rows = [
      ['term', status ? status.term : '—'],
      ['follows', status && status.coordinatorId != null ? 'node ' + status.coordinatorId : '—'],
      ['last index', status ? status.lastIndex : '—'],
      ['commit index', status ? status.commitIndex : '—'],
      // How far this node's documents include the committed log: a read there sees at least this much.
      ['applied index', status && status.appliedIndex != null ? status.appliedIndex : '—'],
      // Entries before it were applied and left the store (log.retainEntries), or a snapshot took their place.
      ['first index', status && status.firstIndex != null ? status.firstIndex : '—'],
      ['snapshot', status && status.snapshotIndex ? 'up to ' + status.snapshotIndex : '—'],
      ['store', status && status.storeBytes != null ? megabytes(status.storeBytes) : '—'],
      ['lag', status ? lagOf(status) : '—'],
      // How long a silence this node now takes for a failure, learned from the pauses it has seen.
      ['failure timeout', status && status.failureTimeoutMs != null ? status.failureTimeoutMs + ' ms' : '—'],
      ['heartbeat', role === 'DOWN' ? 'none for ' + (known ? Math.round((now - known.seenAt) / 1000) + ' s' : 'ever') : sinceHeartbeat],
    ];
    const card = el('article', { class: 'card ' + role, 'data-node': node.id, 'data-role': role },
      el('h3', {}, 'Node ' + node.id, el('span', { class: 'role' }, role)),
      el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-field': k }, String(v))])));
    if (status && status.storeTrouble) {
      // A store write failing and being retried: the node holds back everything that depends on it.
      card.append(el('p', { class: 'store-trouble', 'data-field': 'store-trouble' }, 'store: ' + status.storeTrouble));
    }
    const refused = status && status.messagesRejected ? Object.entries(status.messagesRejected).filter(([, n]) => n > 0) : [];
    if (refused.length > 0) {
      // Protocol messages refused before they reached the protocol: forged, replayed or malformed. An intrusion.
      card.append(el('p', { class: 'intrusion', 'data-field': 'refused' },
        'refused: ' + refused.map(([reason, n]) => n + ' ' + reason).join(', ')));
    }
    if (status && status.strangers && status.strangers.length > 0) {
      // Members of the cluster manager that are no configured node: what they say of themselves does not hold.
      card.append(el('p', { class: 'intrusion', 'data-field': 'strangers' }, 'strangers: ' + status.strangers.join('; ')));
    }
    if (state.chaosEnabled) {
      card.append(el('div', { class: 'chaos' },
        el('button', { onclick: () => chaos(node, 'die') }, 'kill'),
        el('button', { onclick: () => chaos(node, 'pause?ms=5000') }, 'pause 5 s'),
        el('button', { onclick: () => chaos(node, 'isolate') }, 'isolate'),
        el('button', { onclick: () => chaos(node, 'heal') }, 'heal'),
        el('button', { onclick: () => chaos(node, 'start-election'), title: 'start an election now, as if it had noticed a failure' }, 'elect'),
        el('button', { onclick: () => chaos(node, 'die-during-announcement'), title: 'die while announcing its next win (seed case 3a)' }, 'die announcing'),
        el('button', { onclick: () => chaos(node, 'die-during-election'), title: 'die on the next election message (seed case 3b)' }, 'die electing')));
    }
    return card;
  });
  container.replaceChildren(...cards);
}

function renderTimeline() {
  const list = document.getElementById('timeline');
  list.replaceChildren(...state.events.map(event =>
    el('li', { class: event.kind },
      el('time', { datetime: new Date(event.ts).toISOString() }, clock(event.ts)),
      el('span', {}, event.text))));
}

function polyline(points, color) {
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.map(p => p.join(',')).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', color);
  line.setAttribute('stroke-width', '2');
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  return line;
}

function svgText(x, y, text) {
  const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
  t.setAttribute('x', x);
  t.setAttribute('y', y);
  t.textContent = text;
  return t;
}

function renderCharts() {
  const now = Date.now();
  const since = now - HISTORY_MS;
  const x = t => ((t - since) / HISTORY_MS) * 600;

  // Term per node, as steps.
  for (const [id, series] of state.terms) {
    while (series.length > 2 && series[1][0] < since) series.shift();
  }
  let maxTerm = 1;
  let minTerm = Infinity;
  for (const series of state.terms.values()) {
    for (const [, term] of series) { maxTerm = Math.max(maxTerm, term); minTerm = Math.min(minTerm, term); }
  }
  if (!isFinite(minTerm)) minTerm = 0;
  const low = Math.max(0, minTerm - 1);
  const y = term => 150 - ((term - low) / Math.max(1, maxTerm - low)) * 135;
  const termChart = document.getElementById('term-chart');
  const legend = document.getElementById('term-legend');
  const termLines = [];
  const legendItems = [];
  [...state.terms.keys()].sort((a, b) => a - b).forEach((id, i) => {
    const series = state.terms.get(id);
    const color = COLORS[i % COLORS.length];
    const points = [];
    series.forEach(([t, term], k) => {
      const tx = Math.max(0, x(t));
      if (k > 0) points.push([tx, y(series[k - 1][1])]);
      points.push([tx, y(term)]);
    });
    if (series.length && roleOf(id, now) !== 'DOWN') points.push([600, y(series[series.length - 1][1])]);
    termLines.push(polyline(points, color));
    legendItems.push(el('span', {}, el('i', { style: 'background:' + color }), 'node ' + id));
  });
  termChart.replaceChildren(svgText(4, 12, 'term ' + maxTerm), svgText(4, 156, 'term ' + low), ...termLines);
  legend.replaceChildren(...legendItems);

  // Committed writes per second, from the leader's commit index.
  while (state.commits.length > 2 && state.commits[1][0] < since) state.commits.shift();
  const perSecond = [];
  for (let s = 0; s < HISTORY_MS / 1000; s++) {
    const from = since + s * 1000;
    const inWindow = state.commits.filter(([t]) => t >= from && t < from + 1000);
    const before = state.commits.filter(([t]) => t < from).pop();
    const first = before ? before[1] : (inWindow[0] ? inWindow[0][1] : null);
    const last = inWindow.length ? inWindow[inWindow.length - 1][1] : first;
    perSecond.push(first == null || last == null ? 0 : Math.max(0, last - first));
  }
  const peak = Math.max(10, ...perSecond);
  const writesChart = document.getElementById('writes-chart');
  const points = perSecond.map((v, s) => [s * 10 + 5, 150 - (v / peak) * 135]);
  writesChart.replaceChildren(svgText(4, 12, peak + '/s'), svgText(4, 156, '0'), polyline(points, COLORS[2]));
  document.getElementById('writes-now').textContent =
    'last full second: ' + perSecond[perSecond.length - 2] + ' writes/s';
}

function render() {
  renderNodes();
  renderCharts();
}

/** The collections of the node serving this page, with their number of documents (GET /api/collections). */
async function renderCollections() {
  const body = document.querySelector('#collections tbody');
  try {
    const answer = await fetchJson('/api/collections');
    const rows = Object.entries(answer.collections).map(([name, count]) =>
      el('tr', { 'data-collection': name }, el('td', {}, name), el('td', {}, String(count))));
    body.replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: '2' }, 'none yet'))]));
  } catch (e) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: '2' }, 'not readable: ' + e.message)));
  }
}

// ------------------------------------------------------------------ start

async function start() {
  try {
    absorb(await fetchJson('/api/cluster'));
  } catch (e) {
    setConnection('could not load the cluster snapshot: ' + e.message, true);
  }
  connect(window.location.origin);
  render();
  setInterval(render, 250);
  renderCollections();
  setInterval(renderCollections, 2000);
}

start();
