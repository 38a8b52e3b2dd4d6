// The page's whole behaviour. Messages only update state; drawing and DOM updates happen
// once per animation frame, and every buffer has a fixed size, so a 10 Hz stream (or a
// 50x simulation) neither stalls the page nor grows its memory.
'use strict';
(() => {
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// A token given once (address or form) is remembered on this device; a refused one forgotten.
const store = { get: () => { try { return localStorage.vwToken || ''; } catch (e) { return ''; } },
  set: (v) => { try { localStorage.vwToken = v; } catch (e) {} } };
let token = params.get('token') || store.get();
if (token) store.set(token);
const simAvailable = document.body.dataset.simulation === 'true';

// ---- history: per stream, a fixed ring of typed arrays (5 min at 10 Hz) ----
const CAP = 3000, MAX_STREAMS = 32;
const ring = () => ({ T: new Float64Array(CAP), V: new Float32Array(CAP), S: new Float32Array(CAP),
  K: new Uint16Array(CAP), F: new Uint8Array(CAP), head: 0, count: 0, lastT: -Infinity });
const ring0 = { head: 0, count: 0 };

const KINDS = ['spike', 'dip', 'drift', 'level_shift', 'dropout', 'stuck', 'noise', 'oscillation', 'out_of_range', 'lost_frames', 'pattern'];
const KIND_COLORS = { spike: '#d1122f', dip: '#0a5bd3', drift: '#7a2fc2', level_shift: '#8a4b12', dropout: '#596170',
  stuck: '#00806f', noise: '#c65200', oscillation: '#c0177a', out_of_range: '#8f6b00', lost_frames: '#2f4858', pattern: '#00739a', other: '#555b66' };
const kindBit = (k) => { const i = KINDS.indexOf(k); return 1 << (i < 0 ? 15 : i); };
const kindName = (bit) => bit === 15 ? 'other' : KINDS[bit];
const kindColor = (k) => KIND_COLORS[k] || KIND_COLORS.other;
const kindLabel = (k) => String(k).replace(/_/g, ' ');

let cfg = { thr: 0.7, watch: 0.49, crit: 0.88, rate: 10 };
let version = '', configSource = '';
// A board (device_status: state, path, firmware) sends one stream, named after it, or one per
// analog channel, `<board>/<channel>`, each scored apart with its own name, unit and history.
// Names and units come from the agent's settings file: text only, never markup.
const boards = new Map(), streams = new Map(), lastAnoms = new Map();
// Until a tile is picked, the chart follows the first stream by name (A0 before A1).
let focus = null, picked = false;
const byId = (a, b) => a.localeCompare(b, undefined, { numeric: true });
let chartDirty = true, uiDirty = true, listDirty = false, tilesDirty = false, sparkDirty = false;
let range = 300, clockOffset = null;
// History (issue 19): null until /api/history answers, then whether the agent keeps it.
// `browse`: `voltwatch serve --db`, a stored history with no live device (status says read-only).
// `agg`: the followed stream's buckets for a range over 5 min (or any range when browsing),
// [t, min, max, mean, count, anomalies] as /api/history gives them, extended live.
let hist = null, browse = false, stored = null, agg = null, rangePicked = false, histDirty = false, openEp = null;
let view = {};

// ---- connection ----
let ws = null, live = false, attempt = 0, retryTimer = 0, retryAt = 0, connState = 'connecting';
let authBlocked = false, pendingError = '', missedTotal = 0, noteUntil = 0;

function setConn(state, text) {
  connState = state;
  const c = $('conn'); c.dataset.state = state; c.textContent = text;
  for (const id of ['sim-start', 'sim-stop', 'sim-reset']) $(id).disabled = !live;
}
function note(text, seconds) { $('note').textContent = text; noteUntil = performance.now() + (seconds || 10) * 1000; }

function connect() {
  clearTimeout(retryTimer); retryAt = 0;
  if (ws) { ws.onclose = null; ws.onmessage = null; try { ws.close(); } catch (e) {} ws = null; }
  if (authBlocked) return;
  live = false; pendingError = '';
  setConn('connecting', attempt ? 'Reconnecting…' : 'Connecting…');
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws'
    + (token ? '?token=' + encodeURIComponent(token) : '');
  let sock;
  try { sock = new WebSocket(url); } catch (e) { retry(); return; }
  ws = sock;
  sock.onmessage = (m) => {
    if (sock !== ws) return;
    let msg; try { msg = JSON.parse(m.data); } catch (e) { return; }
    if (msg && typeof msg.event === 'string') handle(msg.event, msg.data || {});
  };
  sock.onclose = (e) => {
    if (sock !== ws) return;
    ws = null; const wasLive = live; live = false;
    if (e.code === 1008) { authFail(pendingError || e.reason); return; }
    if (e.code === 1013) note('The agent has too many clients; retrying.', 15);
    else if (wasLive) note('Connection to the agent lost; reconnecting.', 10);
    retry();
  };
}
function retry() {
  attempt++;
  const delay = Math.min(15000, 500 * 2 ** Math.min(attempt - 1, 5)) * (0.8 + Math.random() * 0.4);
  retryAt = performance.now() + delay;
  retryTimer = setTimeout(connect, delay);
  showRetry();
}
function showRetry() {
  if (!retryAt || live || authBlocked) return;
  if (!navigator.onLine) { setConn('offline', 'Offline'); return; }
  setConn('retry', 'Retry in ' + Math.max(1, Math.ceil((retryAt - performance.now()) / 1000)) + ' s');
}
function send(event, data) {
  if (!ws || !live) return false;
  ws.send(JSON.stringify({ event, data: data || {} })); return true;
}

function authFail(message) {
  authBlocked = true; live = false; clearTimeout(retryTimer); retryAt = 0; noteUntil = 0; $('note').textContent = '';
  if (ws) { ws.onclose = null; try { ws.close(); } catch (e) {} ws = null; }
  store.set('');
  setConn('auth', token ? 'Token refused' : 'Token required');
  $('banner-text').textContent = token
    ? 'The agent refused this access token. Enter the right one to see live data.'
    : 'This agent requires an access token. Open the page as ' + location.origin + '/?token=YOUR_TOKEN, or enter it here.';
  $('banner-detail').textContent = message ? 'Agent says: ' + message : '';
  $('banner').hidden = false;
}
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('token-input').value.trim(); if (!value) return;
  token = value; params.set('token', token); store.set(token);
  history.replaceState(null, '', location.pathname + '?' + params.toString());
  $('token-input').value = ''; $('banner').hidden = true;
  authBlocked = false; attempt = 0; connect();
});

async function api(path) {
  const res = await fetch(path, { cache: 'no-store', headers: token ? { Authorization: 'Bearer ' + token } : {} });
  let body = null; try { body = await res.json(); } catch (e) {}
  if (res.status === 401) { authFail(body && body.error); throw new Error('unauthorized'); }
  if (!res.ok) throw new Error((body && body.error) || String(res.status));
  return body;
}

// ---- events ----
function handle(event, d) {
  switch (event) {
    case 'anomaly_result': onResult(d, true); break;
    case 'device_status': onStatus(d); break;
    case 'hello': onHello(d); break;
    case 'missed':
      missedTotal += d.count | 0;
      note('Missed ' + (d.count | 0) + ' results (' + missedTotal + ' in all): this connection is too slow.', 15); break;
    case 'simulation_started':
      simState('running', d.reset ? 'Rewound to the start and running.'
        : 'Running' + (d.scenario ? ' · ' + d.scenario : '') + (d.speed ? ' · ' + d.speed + '×' : '') + '.'); break;
    case 'simulation_stopped': simState('stopped', 'Stopped: the device stays connected but silent.'); break;
    case 'error':
      if (!live) pendingError = d.message || '';
      else { note(d.message || 'error', 12); if ($('sim-state').dataset.state === 'pending') simState('error', d.message || 'error'); }
      break;
  }
}

function onHello(h) {
  live = true; attempt = 0; retryAt = 0; authBlocked = false;
  $('banner').hidden = true;
  setConn('live', 'Live');
  version = h.version || ''; configSource = h.config_source || '';
  applyConfig(h.config);
  for (const s of h.devices || []) onStatus(s);
  for (const r of h.recent || []) onResult(r, false);
  api('/api/anomalies?limit=50').then((a) => seedAnomalies(a.anomalies || [])).catch(() => {});
  agg = null; loadStatus(); loadHistory();
  uiDirty = chartDirty = true;
}

function applyConfig(c) {
  if (!c) return;
  const thr = typeof c.anomaly_threshold === 'number' ? c.anomaly_threshold : 0.7;
  cfg = { thr, watch: c.watch_threshold ?? thr * 0.7, crit: c.critical_threshold ?? thr + (1 - thr) * 0.6,
    rate: c.sample_rate > 0 ? c.sample_rate : 10 };
  $('thr').textContent = thr.toFixed(2);
  $('footer').textContent = 'voltwatch ' + version + ' · alarm at score ' + thr.toFixed(2) + ' · '
    + (c.window_size || '?') + '-sample window · ' + cfg.rate + ' samples/s · ' + configSource;
}

const isApp = (n) => n === 'app' || n.startsWith('app:');
function board(id) {
  if (!boards.has(id)) boards.set(id, { id });
  return boards.get(id);
}
function stream(id) {
  if (!streams.has(id) && streams.size < MAX_STREAMS && !isApp(id)) {
    streams.set(id, { id, board: id, name: null, unit: 'V', r: ring(), n: 0, nAtStatus: 0, arrival: 0, snaps: [] }); tilesDirty = true;
  }
  return streams.get(id);
}
// A result or an /api/status entry says which board and channel a stream is, its name and unit.
const str = (v) => typeof v === 'string' && v ? v : null;
function describe(s, x) {
  const c = str(x.channel), name = str(x.name), unit = str(x.unit) || 'V';
  if (c) { s.channel = c; s.board = str(x.board) || (s.id.endsWith('/' + c) ? s.id.slice(0, -c.length - 1) : s.id); }
  if (name !== s.name || unit !== s.unit) { s.name = name; s.unit = unit; tilesDirty = listDirty = true; }
}
const cur = () => streams.get(focus);
const label = (s) => s.name || s.id;
const named = (s) => !!(s && (s.name || s.channel));
const unitOf = (id) => { const s = streams.get(id); return s ? s.unit : 'V'; };
function onStatus(x) {
  if (!x || !x.device || isApp(x.device)) return;
  const b = board(x.device);
  b.state = x.state || b.state; b.path = x.path || b.path; b.firmware = x.firmware || b.firmware;
  uiDirty = true;
}

function onResult(r, isLive) {
  if (!r || typeof r.voltage !== 'number' || typeof r.timestamp !== 'number') return;
  const s = stream(r.device || 'device');
  if (!s) return;
  describe(s, r);
  if (isLive) {
    if (browse) { browse = false; agg = null; histDirty = true; }
    if (agg && agg.P && agg.dev === s.id) extend(r);
    s.n++; s.arrival = performance.now();
    const off = r.timestamp - Date.now() / 1000;
    clockOffset = clockOffset === null || off > clockOffset ? off : clockOffset + (off - clockOffset) * 0.05;
  }
  if (!picked && (!focus || byId(s.id, focus) < 0)) { focus = s.id; chartDirty = histDirty = true; }
  push(s.r, r); s.last = r; s.value = r.voltage;
  if (s.id === focus) chartDirty = true;
  if (r.is_anomaly) addAnomaly(r);
  uiDirty = sparkDirty = true;
}

function put(g, t, v, sc, k, f) {
  if (!(t > g.lastT)) return;
  g.lastT = t;
  const i = (g.head + g.count) % CAP;
  g.T[i] = t; g.V[i] = v; g.S[i] = sc; g.K[i] = k; g.F[i] = f;
  if (g.count < CAP) g.count++; else g.head = (g.head + 1) % CAP;
}
function push(g, r) {
  let k = 0;
  if (r.is_anomaly) { for (const x of r.kinds || []) k |= kindBit(x); if (!k) k = 1 << 15; }
  put(g, r.timestamp, r.voltage, Math.min(1, Math.max(0, +r.anomaly_score || 0)), k, r.is_anomaly ? 1 : 0);
}
// The last 5 minutes from history, before what the ring holds: one point a second (the mean),
// no score, anomalous seconds marked without a kind.
function prefill(s, P) {
  const g = s.r, n = ring(), t1 = g.count ? g.T[g.head] : Infinity;
  for (const p of P) if (p[0] + 0.5 < t1) put(n, p[0] + 0.5, p[3], NaN, 0, p[5] > 0 ? 1 : 0);
  for (let j = 0; j < g.count; j++) { const i = (g.head + j) % CAP; put(n, g.T[i], g.V[i], g.S[i], g.K[i], g.F[i]); }
  s.r = n;
}
// A live result goes into the current bucket of a long range (or starts the next one).
function extend(r) {
  const P = agg.P, st = agg.step, b = Math.floor(r.timestamp / st) * st, l = P[P.length - 1], v = r.voltage, a = r.is_anomaly ? 1 : 0;
  if (l && l[0] === b) { l[1] = Math.min(l[1], v); l[2] = Math.max(l[2], v); l[3] += (v - l[3]) / ++l[4]; l[5] += a; }
  else if (!l || b > l[0]) { P.push([b, v, v, v, 1, a]); while (P[0][0] < b - agg.range - st) P.shift(); }
}

// ---- recent anomalies: one list item per alarm episode (bounded) ----
// Results carry the id of the episode they belong to; /api/anomalies lists episodes. A result
// seen twice (in hello's recent and live) is counted once: the last keys are remembered.
const MAX_SEEN = 200, MAX_ITEMS = 50;
let items = [];
const seen = new Set(), seenOrder = [];
const keyOf = (r) => (r.device || '') + '|' + r.seq + '|' + r.timestamp;
function remember(r) {
  const k = keyOf(r); if (seen.has(k)) return false;
  seen.add(k); seenOrder.push(k);
  while (seenOrder.length > MAX_SEEN) seen.delete(seenOrder.shift());
  return true;
}
function itemFor(device, ep) { return ep == null ? null : items.find((x) => x.device === device && x.ep === ep); }
function addKinds(it, kinds, reasons) {
  for (const [i, k] of kinds.entries()) if (!it.kinds.includes(k)) { it.kinds.push(k); if (reasons[i]) it.reasons.push(reasons[i]); }
}
function place(it) {
  sumAt = statusTick + 5;
  items.push(it); items.sort((a, b) => b.t0 - a.t0);
  if (items.length > MAX_ITEMS) items.length = MAX_ITEMS;
}
function group(r) {
  const kinds = r.kinds || [], reasons = r.reasons || [];
  let it = itemFor(r.device, r.episode);
  // An agent without episodes: results of one kind within 3 s are one alarm, as before.
  if (!it && r.episode == null) {
    const top = items[0];
    if (top && top.ep == null && top.device === r.device && top.kinds.join(' ') === kinds.join(' ')
      && r.timestamp >= top.t1 && r.timestamp - top.t1 <= 3) it = top;
  }
  if (it) {
    it.n++; it.t0 = Math.min(it.t0, r.timestamp); it.t1 = Math.max(it.t1, r.timestamp);
    addKinds(it, kinds, reasons);
    if (r.anomaly_score >= it.score) { it.score = +r.anomaly_score; it.v = r.voltage; it.sev = r.severity; }
    return;
  }
  place({ device: r.device, ep: r.episode, kinds: [...kinds], reasons: [...reasons], t0: r.timestamp, t1: r.timestamp,
    score: +r.anomaly_score || 0, v: r.voltage, sev: r.severity, n: 1 });
}
function addAnomaly(r) {
  if (!remember(r)) return;
  group(r);
  const la = lastAnoms.get(r.device);
  if (!la || r.timestamp >= la.timestamp) lastAnoms.set(r.device, r);
  listDirty = true;
}
// /api/anomalies: episodes, newest first ({device, id, start, end, peak_score, peak_voltage,
// severity, kinds, reasons, samples, open}).
function seedAnomalies(list) {
  let added = false;
  for (const e of list) {
    if (!e || typeof e.start !== 'number' || itemFor(e.device, e.id)) continue;
    place({ device: e.device, ep: e.id, kinds: [...(e.kinds || [])], reasons: [...(e.reasons || [])], t0: e.start, t1: e.end,
      score: +e.peak_score || 0, v: typeof e.peak_voltage === 'number' ? e.peak_voltage : NaN, sev: e.severity,
      n: typeof e.samples === 'number' ? e.samples : 1 });
    const la = lastAnoms.get(e.device);
    if (!la || e.end >= la.timestamp) lastAnoms.set(e.device, { kinds: e.kinds || [], timestamp: e.end });
    added = true;
  }
  if (added) listDirty = uiDirty = true;
}

// A stream that falls silent: the agent opens its dropout episode before any result says so
// (docs/DESIGN.md), so the list is fetched once per silence to show it while it lasts.
function listSilences() {
  if (!live || browse) return;
  let fetch = false;
  for (const s of streams.values()) {
    const age = ageOf(s), silent = !!s.last && age !== null && age > staleAfter();
    if (silent && !s.silenceListed) fetch = true;
    s.silenceListed = silent;
  }
  if (fetch) api('/api/anomalies?limit=50').then((a) => seedAnomalies(a.anomalies || [])).catch(() => {});
}

// ---- rendering ----
const pad = (n) => String(n).padStart(2, '0');
function clock(t) {
  const d = new Date(t * 1000), now = new Date();
  const hms = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  return d.toDateString() === now.toDateString() ? hms : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + hms;
}
function ago(seconds) {
  if (seconds < 1.5) return 'just now';
  if (seconds < 90) return Math.round(seconds) + ' s ago';
  if (seconds < 5400) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function badge(k) { const b = el('span', 'kind', kindLabel(k)); b.style.setProperty('--k', kindColor(k)); return b; }
const sevOf = (r) => r.severity || (r.is_anomaly ? 'warning' : 'normal');

// Four significant digits in a fixed number of characters: 2.502 V, 12.61 V, 21.40 °C.
const fmt = (v) => { const a = Math.abs(v); return v.toFixed(a < 10 ? 3 : a < 100 ? 2 : a < 1000 ? 1 : 0); };
const staleAfter = () => Math.max(3, 3 / cfg.rate);
const ageOf = (s) => s && s.arrival ? (performance.now() - s.arrival) / 1000 : null;

function renderReadout() {
  const s = cur(), r = s && s.last;
  $('volts').textContent = r ? fmt(r.voltage) : '–.–––';
  $('unit').textContent = s ? s.unit : 'V';
  $('stream-label').hidden = !named(s);
  if (named(s)) {
    $('stream-name').textContent = label(s);
    $('stream-id').textContent = (s.name ? s.id + ' · ' : '') + (r && r.pin_volts != null ? (+r.pin_volts).toFixed(3) + ' V at the pin' : '');
  }
  $('chart-title').textContent = named(s) ? label(s) : 'Voltage';
  $('lg-trace').textContent = named(s) ? label(s) + ' (' + s.unit + ')' : 'voltage';
  $('score').textContent = r ? (+r.anomaly_score).toFixed(2) : '–.––';
  const sev = r ? sevOf(r) : 'none';
  $('severity').textContent = r ? sev : '—';
  $('severity').dataset.sev = sev; $('readout').dataset.sev = sev;
  $('confidence').textContent = r ? Math.round((+r.confidence || 0) * 100) + '%' : '—';
  renderAges();
}
function renderAges() {
  const s = cur(), latest = s && s.last, age = ageOf(s), lastAnomaly = s && lastAnoms.get(s.id);
  const stale = latest && (age === null || age > staleAfter());
  $('readout').classList.toggle('stale', !!stale);
  $('dev-age').textContent = age === null ? '—' : ago(age);
  let why;
  if (!latest) why = browse ? 'Stored history: no live device.' : live ? 'Waiting for the first sample…' : 'Not connected to the agent.';
  else if (!live) why = 'Not connected: the numbers are the last ones received.';
  else if (stale) why = age === null ? 'No sample since connecting.' : 'No sample for ' + Math.round(age) + ' s.';
  else if (lastAnomaly) why = 'Last anomaly: ' + (lastAnomaly.kinds || []).map(kindLabel).join(', ') + ' at '
    + clock(lastAnomaly.timestamp) + ' (' + ago(Date.now() / 1000 + (clockOffset || 0) - lastAnomaly.timestamp) + ')';
  else why = 'No recent anomalies.';
  $('latest-why').textContent = why;
}
// The device card follows the board of the stream the chart follows.
function renderDevice() {
  const s = cur(), d = s ? boards.get(s.board) : boards.values().next().value;
  const state = d && d.state || (browse ? 'history only' : s ? s.n ? 'connected' : 'waiting' : null);
  const st = $('dev-state');
  st.textContent = state || 'no device yet'; st.dataset.state = state || 'none';
  $('device-name').textContent = s ? s.board : d ? d.id : '';
  $('dev-path').textContent = (d && d.path) || '—';
  $('dev-fw').textContent = (d && d.firmware) || '—';
  $('dev-stream').textContent = s && s.frames != null
    ? (s.frames + s.n - s.nAtStatus) + ' frames · ' + s.invalid + ' invalid · ' + s.lost + ' lost' : '—';
}
// One tile per stream (when there are several): its name, value in its unit, alarm state and a
// one-minute sparkline; a click makes the big readout and chart follow it.
function renderTiles() {
  const all = [...streams.values()], list = $('stream-list');
  $('streams').hidden = all.length < 2;
  if (tilesDirty) {
    tilesDirty = false;
    all.sort((a, b) => byId(a.id, b.id));
    list.replaceChildren(...(all.length < 2 ? [] : all.map((s) => {
      const b = el('button', 'tile'), v = el('span', 't-v num'), li = el('li');
      b.type = 'button'; b.onclick = () => setFocus(s.id);
      v.append(el('span', 't-num'), el('span', 't-u', s.unit));
      s.tile = { b, v: v.firstChild, sev: el('span', 'sev'), a: el('span', 't-a muted'), c: el('canvas') };
      b.append(el('span', 't-name', label(s)), s.tile.sev, v, el('span', 't-id muted', s.name ? s.id : ''), s.tile.c, s.tile.a);
      li.append(b); return li;
    })));
    sparkDirty = true;
  }
  if (all.length < 2) return;
  for (const s of all) {
    const t = s.tile, r = s.last, sev = r ? sevOf(r) : 'none', age = ageOf(s), la = lastAnoms.get(s.id);
    t.v.textContent = s.value != null ? fmt(s.value) : '–';
    t.sev.textContent = r ? sev : '—'; t.sev.dataset.sev = t.b.dataset.sev = sev;
    t.b.setAttribute('aria-pressed', String(s.id === focus));
    t.b.classList.toggle('stale', !!r && (age === null || age > staleAfter()));
    t.a.textContent = la ? 'last alarm ' + clock(la.timestamp) + ' · ' + (la.kinds || []).map(kindLabel).join(', ') : 'no alarms';
  }
}
function setFocus(id) {
  picked = true;
  if (id === focus) return;
  focus = id; uiDirty = chartDirty = histDirty = true;
}
function renderList() {
  const frag = document.createDocumentFragment();
  const many = streams.size > 1;
  for (const it of items) {
    const li = el('li'); li.dataset.sev = it.sev || 'warning';
    const h = el('div', 'a-head');
    h.append(el('time', 'num', clock(it.t0)));
    const ks = el('span', 'kinds'); for (const k of it.kinds) ks.append(badge(k)); h.append(ks);
    h.append(el('span', 'num a-score', 'score ' + it.score.toFixed(2)));
    if (Number.isFinite(it.v)) h.append(el('span', 'num a-v', fmt(it.v) + ' ' + unitOf(it.device)));
    if (it.n > 1) h.append(el('span', 'num a-n', '×' + it.n + ' over ' + (it.t1 - it.t0).toFixed(1) + ' s'));
    const s = streams.get(it.device);
    if (many || named(s)) h.append(el('span', 'a-dev', s ? label(s) : it.device));
    li.append(h, el('p', 'a-why', it.reasons.join(' · ') || '—'));
    // With history, an entry opens its episode's chart: the signal 30 s either side.
    if (hist && it.ep != null) {
      const o = openEp && openEp.it === it && openEp;
      li.className = 'ep'; li.tabIndex = 0; li.setAttribute('aria-expanded', String(!!o));
      li.onclick = () => openEpisode(it);
      li.onkeydown = (e) => e.key === 'Enter' && openEpisode(it);
      if (o) li.append(o.P && o.P.length ? el('canvas', 'ep-chart') : el('p', 'muted', o.P ? o.msg || 'No samples stored.' : 'Loading…'));
    }
    frag.append(li);
  }
  $('anomalies').replaceChildren(frag);
  const c = $('anomalies').querySelector('canvas');
  if (c) mini(c, openEp.P, openEp.P[0][0], openEp.P[openEp.P.length - 1][0], openEp);
  $('anom-empty').hidden = items.length > 0;
  $('anom-count').textContent = items.length ? String(items.length) : '';
}

function openEpisode(it) {
  const o = openEp = openEp && openEp.it === it ? null : { it, P: null };
  listDirty = true;
  if (o) api('/api/episode?device=' + encodeURIComponent(it.device) + '&id=' + it.ep)
    .then((x) => { o.P = (x.points || []).map((p) => [p[0], p[1], p[3]]); }).catch((e) => { o.P = []; o.msg = e.message; }).finally(() => { listDirty = true; });
}
// ---- chart ----
const canvas = $('chart'), ctx = canvas.getContext('2d');
let cw = 300, ch = 150, dpr = 1, legendMask = -1;
const C = {};
function readColors() {
  const cs = getComputedStyle(document.documentElement);
  for (const n of ['fg', 'muted', 'grid', 'line', 'trace', 'score', 'card', 'crit', 'band-w', 'band-c']) C[n] = cs.getPropertyValue('--' + n).trim();
  chartDirty = true;
}
function resize() {
  const r = canvas.getBoundingClientRect();
  dpr = Math.min(window.devicePixelRatio || 1, 3);
  cw = Math.max(1, Math.round(r.width)); ch = Math.max(1, Math.round(r.height));
  canvas.width = Math.round(cw * dpr); canvas.height = Math.round(ch * dpr);
  chartDirty = true;
}
function niceStep(x) {
  const p = 10 ** Math.floor(Math.log10(x)), m = x / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}
const agentNow = () => Date.now() / 1000 + (clockOffset || 0);

// Ranges up to 5 minutes of a live stream draw the ring's samples, longer ones (or a browsed
// store) the buckets from history: each a bar from its min to its max, anomalous buckets marked
// (a dot at the extreme); the lower pane then shows where alarms were instead of the score.
function draw() {
  const W = cw, H = ch, s = cur(), unit = ' ' + (s ? s.unit : 'V').slice(0, 8);
  const A = aggOn() ? (agg && s && agg.dev === s.id && agg.range === range ? agg : {}) : null, P = A && A.P || [];
  const { T, V, S, K, F, head, count } = s && !A ? s.r : ring0;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = '12px system-ui, sans-serif'; ctx.textBaseline = 'middle'; ctx.lineJoin = 'round';
  const R = 8, top = 10, xAxis = 18;
  const sH = Math.max(44, Math.round(H * 0.22)), sBot = H - xAxis, sTop = sBot - sH, vTop = top, vBot = sTop - 16;
  const now = viewEnd(s), t0 = now - range;

  let first = -1, vmin = Infinity, vmax = -Infinity, n = 0, ta = 0, tb = 0;
  if (A) for (let j = 0; j < P.length; j++) {
    const p = P[j]; if (p[0] + A.step <= t0) continue;
    if (first < 0) { first = j; ta = p[0]; }
    n++; tb = p[0]; vmin = Math.min(vmin, p[1]); vmax = Math.max(vmax, p[2]);
  }
  else for (let j = 0; j < count; j++) {
    const i = (head + j) % CAP; if (T[i] < t0) continue;
    if (first < 0) { first = j; ta = T[i]; }
    n++; tb = T[i];
    if (V[i] < vmin) vmin = V[i]; if (V[i] > vmax) vmax = V[i];
  }
  view = { range, points: n, from: ta, to: tb };
  $('legend').classList.toggle('agg', !!A);
  if (first < 0) { vmin = 0; vmax = 5; }
  const span = Math.max(vmax - vmin, 0.05), step = niceStep(span / 4);
  const lo = Math.floor((vmin - span * 0.12) / step) * step, hi = Math.ceil((vmax + span * 0.12) / step) * step;
  const Y = (v) => vBot - (v - lo) / (hi - lo) * (vBot - vTop);
  const SY = (s) => sBot - 2 - s * (sH - 4);
  const dec = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
  const L = Math.max(50, 10 + Math.ceil(Math.max(ctx.measureText(lo.toFixed(dec) + unit).width, ctx.measureText(hi.toFixed(dec) + unit).width)));
  const pw = W - L - R, X = (t) => L + (t - t0) / range * pw;

  // grid, axes
  ctx.lineWidth = 1; ctx.strokeStyle = C.grid; ctx.fillStyle = C.muted; ctx.textAlign = 'right';
  ctx.beginPath();
  for (let n = 0, v = lo; v <= hi + step / 2 && n < 20; v += step, n++) {
    const y = Math.round(Y(v)) + 0.5; ctx.moveTo(L, y); ctx.lineTo(W - R, y);
    ctx.fillText(v.toFixed(dec) + unit, L - 5, y);
  }
  // Live samples are labelled back from "now"; history by the clock (on whole local hours or days).
  const tick = { 60: 10, 300: 60, 3600: 600, 86400: 10800 }[range] || 86400, tz = new Date().getTimezoneOffset() * 60;
  const base = A ? Math.floor((now - tz) / tick) * tick + tz : now;
  // Time labels are placed from the right; one that would overlap is left out.
  let free = W;
  for (let k = 0, t = base; t >= t0 - 0.01; t = base - ++k * tick) {
    const x = Math.round(X(t)) + 0.5, a = Math.round(now - t); ctx.moveTo(x, vTop); ctx.lineTo(x, sBot);
    const d = new Date(t * 1000), label = A ? tick < 86400 ? d.toTimeString().slice(0, 5) : d.toDateString().slice(0, 10)
      : a === 0 ? 'now' : '−' + (tick < 60 ? a + ' s' : a / 60 + ' min');
    const w = ctx.measureText(label).width, left = Math.min(Math.max(x - w / 2, L), W - R - w);
    if (left + w + 6 > free) continue;
    ctx.textAlign = 'left'; ctx.fillText(label, left, sBot + 10); free = left;
  }
  ctx.stroke();

  // score pane: warning band, alarm band, threshold
  if (!A) {
    ctx.fillStyle = C['band-w']; ctx.fillRect(L, SY(cfg.thr), pw, SY(cfg.watch) - SY(cfg.thr));
    ctx.fillStyle = C['band-c']; ctx.fillRect(L, SY(1), pw, SY(cfg.thr) - SY(1));
  }
  ctx.strokeStyle = C.line; ctx.strokeRect(L + 0.5, sTop + 0.5, pw - 1, sH - 1);
  ctx.fillStyle = C.muted; ctx.textAlign = 'right'; ctx.fillText(A ? 'alarms' : 'score', L - 5, sTop + sH / 2);

  const gap = Math.max(1.5, 5 / cfg.rate);
  if (first >= 0 && A) {
    ctx.save(); ctx.beginPath(); ctx.rect(L, 0, pw, H); ctx.clip();
    const st = A.step, bw = Math.max(1.5, st / range * pw);
    for (let j = first; j < P.length; j++) {
      const p = P[j], x = X(p[0]), y = Y(p[2]);
      ctx.fillStyle = C.trace; ctx.fillRect(x, y - 1, bw, Y(p[1]) - y + 2);
      if (!(p[5] > 0)) continue;
      ctx.fillStyle = C.crit; ctx.fillRect(x, sTop + 2, bw, sH - 4);
      ctx.beginPath(); ctx.arc(x + bw / 2, Y(p[3] - p[1] > p[2] - p[3] ? p[1] : p[2]), 3.5, 0, 7); ctx.fill();
    }
    ctx.restore();
  } else if (first >= 0) {
    ctx.save(); ctx.beginPath(); ctx.rect(L, 0, pw, H); ctx.clip();
    // score trace (none for seconds filled in from history)
    ctx.strokeStyle = C.score; ctx.lineWidth = 1.25; ctx.beginPath();
    let pt = -Infinity;
    for (let j = first; j < count; j++) {
      const i = (head + j) % CAP, x = X(T[i]), y = SY(S[i]);
      if (!(S[i] >= 0)) { pt = -Infinity; continue; }
      if (T[i] - pt > gap) ctx.moveTo(x, y); else ctx.lineTo(x, y); pt = T[i];
    }
    ctx.stroke();
    // voltage trace
    ctx.strokeStyle = C.trace; ctx.lineWidth = 2; ctx.beginPath(); pt = -Infinity;
    for (let j = first; j < count; j++) {
      const i = (head + j) % CAP, x = X(T[i]), y = Y(V[i]);
      if (T[i] - pt > gap) { ctx.moveTo(x, y); ctx.lineTo(x + 0.5, y); } else ctx.lineTo(x, y);
      pt = T[i];
    }
    ctx.stroke();
    // anomalies: a tick in the score pane, a dot on the trace, a label where there is room
    let seen = 0, lastLabel = -1e9;
    for (let j = first; j < count; j++) {
      const i = (head + j) % CAP; if (!F[i]) continue;
      const k = K[i]; seen |= k;
      const name = k ? kindName(31 - Math.clz32(k & -k)) : '', col = name ? kindColor(name) : C.crit;
      const x = X(T[i]), y = Y(V[i]);
      ctx.strokeStyle = col; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(x, sBot); ctx.lineTo(x, SY(S[i] >= 0 ? S[i] : cfg.thr)); ctx.stroke();
      ctx.beginPath(); ctx.arc(x, y, 5, 0, 2 * Math.PI); ctx.fillStyle = col; ctx.fill();
      ctx.lineWidth = 1.5; ctx.strokeStyle = C.card; ctx.stroke();
      if (name && x - lastLabel > 70) {
        const text = kindLabel(name), w = ctx.measureText(text).width + 8;
        const ly = y - vTop < 24 ? y + 16 : y - 16, lx = Math.min(Math.max(x - w / 2, L), W - R - w);
        ctx.fillStyle = col; ctx.fillRect(lx, ly - 9, w, 18);
        ctx.fillStyle = '#fff'; ctx.textAlign = 'left'; ctx.fillText(text, lx + 4, ly + 0.5);
        lastLabel = x;
      }
    }
    ctx.restore();
    if (seen !== legendMask) { legendMask = seen; renderLegend(seen); }
  } else {
    ctx.fillStyle = C.muted; ctx.textAlign = 'center'; ctx.font = '15px system-ui, sans-serif';
    ctx.fillText(A ? A.P ? A.err || 'No history in this range' : 'Loading history…' : live ? 'Waiting for samples…' : 'No data yet', L + pw / 2, (vTop + vBot) / 2);
  }
  if (A) return;
  // threshold line over everything in the score pane
  ctx.setLineDash([6, 4]); ctx.strokeStyle = C.crit; ctx.lineWidth = 1.5; ctx.beginPath();
  const ty = Math.round(SY(cfg.thr)) + 0.5; ctx.moveTo(L, ty); ctx.lineTo(W - R, ty); ctx.stroke(); ctx.setLineDash([]);
  ctx.fillStyle = C.crit; ctx.textAlign = 'right'; ctx.font = 'bold 12px system-ui, sans-serif';
  ctx.fillText('alarm ' + cfg.thr.toFixed(2), W - R - 4, Math.max(sTop + 8, ty - 8));
}
function renderLegend(mask) {
  const spans = [];
  for (let b = 0; b < 16; b++) if (mask & (1 << b)) {
    const name = kindName(b); if (!name) continue;
    const s = el('span', 'lg'), dot = el('i', 'sw dot'); dot.style.background = kindColor(name);
    s.append(dot, kindLabel(name)); spans.push(s);
  }
  $('legend-kinds').replaceChildren(...spans);
}

// A small chart: a tile's last minute, or an episode's signal (`o`: then with its highest and
// lowest values beside it and the alarm's span shaded). P holds [t, value, anomaly]; the sparkline
// breaks where samples are more than 1.5 s apart; anomalies are red dots.
function mini(c, P, a, b, o) {
  const w = c.clientWidth, h = c.clientHeight, g = c.getContext('2d'), L = o ? 64 : 0, B = o ? 6 : 0;
  c.width = w * dpr; c.height = h * dpr; g.scale(dpr, dpr);
  let lo = Infinity, hi = -Infinity, pt = -Infinity;
  for (const p of P) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
  const m = Math.max(hi - lo, 0.01 * Math.abs(hi) + 1e-3) / 6, X = (t) => L + (t - a) / (b - a || 1) * (w - L - B / 4),
    Y = (v) => h - B - (v - lo + m) / (hi - lo + 2 * m) * (h - B);
  if (o) { g.fillStyle = C['band-c']; g.fillRect(X(o.it.t0) - 2, 0, X(o.it.t1) - X(o.it.t0) + 4, h - B); }
  g.strokeStyle = C.trace; g.lineWidth = 1.5; g.beginPath();
  for (const p of P) { g[!o && p[0] - pt > 1.5 ? 'moveTo' : 'lineTo'](X(p[0]), Y(p[1])); pt = p[0]; }
  g.stroke(); g.fillStyle = C.crit;
  for (const p of P) if (p[2]) { g.beginPath(); g.arc(X(p[0]), Y(p[1]), 3, 0, 7); g.fill(); }
  if (!o) return;
  const u = ' ' + unitOf(o.it.device).slice(0, 8);
  g.fillStyle = C.muted; g.font = '12px system-ui, sans-serif'; g.textBaseline = 'middle';
  g.fillText(fmt(hi) + u, 2, Y(hi)); g.fillText(fmt(lo) + u, 2, Y(lo));
}
function spark(s) {
  const { T, V, F, head, count } = s.r, t0 = agentNow() - 60, P = [];
  for (let j = 0; j < count; j++) { const i = (head + j) % CAP; if (T[i] >= t0) P.push([T[i], V[i], F[i]]); }
  mini(s.tile.c, P, t0, t0 + 60);
}

// ---- loops: draw per animation frame, clocks per second ----
let lastDraw = 0, lastSpark = 0;
function frame(ts) {
  if (chartDirty || ts - lastDraw > 250) { chartDirty = false; lastDraw = ts; draw(); }
  if (uiDirty || tilesDirty) { uiDirty = false; renderReadout(); renderDevice(); renderTiles(); }
  if (sparkDirty && ts - lastSpark > 250 && streams.size > 1) { sparkDirty = false; lastSpark = ts; for (const s of streams.values()) if (s.tile) spark(s); }
  if (listDirty) { listDirty = false; renderList(); }
  if (histDirty) { histDirty = false; ensure(); }
  requestAnimationFrame(frame);
}
// /api/status lists each board, and each stream with its board, channel, name, unit and
// last_value; a board whose channels are streams is no stream itself.
function loadStatus() {
  api('/api/status').then((st) => {
    const list = (st.devices || []).filter((x) => x && str(x.device) && !isApp(x.device) && x.state !== 'app');
    const parents = new Set(list.map((x) => x.board));
    for (const x of list) {
      const b = board(x.board || x.device);
      b.path = b.path || x.path; b.firmware = b.firmware || x.firmware; b.state = b.state || x.state;
      const s = !parents.has(x.device) && (x.channel || x.results > 0) && stream(x.device);
      if (!s) continue;
      describe(s, x);
      s.frames = x.frames; s.invalid = x.invalid; s.lost = x.lost; s.nAtStatus = s.n;
      if (!s.last && typeof x.last_value === 'number') s.value = x.last_value;
    }
    if (!browse && (st.history || {}).state === 'read-only') { browse = true; applyBrowse(); }
    uiDirty = true;
  }).catch(() => {});
}

// ---- history: which streams the store holds, the chart's ranges, the summary ----
// /api/history answers 404 when the agent runs with --no-history: the page is live only.
function loadHistory() {
  api('/api/history').then((x) => { hist = true; stored = x.streams || []; applyBrowse(); loadSummary(); })
    .catch(() => { hist = false; })
    .finally(() => {
      for (const id of ['hist-ranges', 'csv', 'summary']) $(id).hidden = !hist;
      if (!hist && range > 300) setRange(300);
      $('csv').href = '/api/anomalies?format=csv&limit=10000' + (token ? '&token=' + encodeURIComponent(token) : '');
      histDirty = listDirty = true;
    });
}
function loadSummary() {
  api('/api/summary?window=24h').then((x) => { $('summary').textContent = 'Last 24 h: ' + (x.text || '—'); }).catch(() => {});
}
// Browsing a store: its streams are the page's, shown over 24 h ending at their last sample.
function applyBrowse() {
  if (!browse || !stored) return;
  for (const x of stored) {
    const s = str(x.device) && stream(x.device);
    if (!s) continue;
    describe(s, x); s.span = [+x.first, +x.last];
    if (!picked && (!focus || byId(s.id, focus) < 0)) focus = s.id;
  }
  if (!rangePicked) setRange(86400);
  uiDirty = histDirty = tilesDirty = true;
}
const aggOn = () => hist && (browse || range > 300);
const viewEnd = (s) => browse && s && s.span ? s.span[1] + 1 : agentNow();
// Without a step the agent picks one: 1 s for 5 minutes, at most 2,000 buckets for longer.
const histURL = (d, from, to) => '/api/history?device=' + encodeURIComponent(d) + '&from=' + Math.floor(from) + '&to=' + Math.ceil(to);
// What the followed stream's view needs from history: once, its last 5 minutes before the live
// samples; for a long range (or when browsing), the range's buckets.
function ensure() {
  const s = cur();
  if (!hist || !s) return;
  const end = viewEnd(s);
  if (!browse && !s.filled) {
    s.filled = 1;
    api(histURL(s.id, end - 300, end)).then((h) => prefill(s, h.points || [])).catch(() => {});
  }
  if (!aggOn() || agg && agg.dev === s.id && agg.range === range) return;
  const a = agg = { dev: s.id, range };
  api(histURL(s.id, end - range, end)).then((h) => { a.step = h.step || 1; a.P = h.points || []; }).catch((e) => { a.P = []; a.err = e.message; });
}
function setRange(sec) {
  range = sec;
  for (const o of document.querySelectorAll('.seg button')) o.setAttribute('aria-pressed', String(+o.dataset.win === sec));
  chartDirty = histDirty = true;
}
let statusTick = 0, sumAt = 0;
setInterval(() => {
  const now = performance.now();
  const d = cur();
  if (d) {
    d.snaps.push([now, d.n]); if (d.snaps.length > 6) d.snaps.shift();
    const [t, n] = d.snaps[0], dt = (now - t) / 1000;
    $('dev-rate').textContent = dt > 0.5 && live && !browse ? ((d.n - n) / dt).toFixed(1) + ' /s' : '—';
  }
  renderAges(); renderTiles(); showRetry(); listSilences();
  if (noteUntil && now > noteUntil) { noteUntil = 0; $('note').textContent = ''; }
  if (++statusTick % 10 === 0 && live && !document.hidden) loadStatus();
  if ((statusTick === sumAt || statusTick % 300 === 0) && hist && !document.hidden) loadSummary();
}, 1000);

// ---- simulation controls ----
function simState(state, text) { const p = $('sim-state'); p.dataset.state = state; p.textContent = text; }
function simSend(event, data, text) { if (send(event, data)) simState('pending', text); }
if (simAvailable) {
  $('sim').hidden = false;
  $('sim-start').onclick = () => {
    const data = { speed: parseFloat($('sim-speed').value) || 1 }, sc = $('sim-scenario').value;
    if (sc) data.scenario = sc;
    simSend('start_simulation', data, 'Starting…');
  };
  $('sim-stop').onclick = () => simSend('stop_simulation', {}, 'Stopping…');
  $('sim-reset').onclick = () => simSend('reset_simulation', {}, 'Rewinding…');
}
for (const b of document.querySelectorAll('.seg button')) b.onclick = () => { rangePicked = true; setRange(+b.dataset.win); };

window.addEventListener('online', () => { if (!live && !authBlocked) { attempt = 0; connect(); } });
window.addEventListener('offline', showRetry);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && !live && !authBlocked && retryAt) { attempt = 0; connect(); }
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', readColors);
new ResizeObserver(resize).observe(canvas);

// Read-only hooks for tests and the curious.
window.voltwatch = Object.freeze({
  pointCount: () => { const s = cur(); return s ? s.r.count : 0; }, capacity: CAP, anomalyCount: () => items.length,
  connection: () => connState, device: () => focus, streams: () => streams.size,
  history: () => hist, browsing: () => browse, range: () => range, view: () => ({ ...view }),
  episode: () => openEp && openEp.P && { id: openEp.it.ep, points: openEp.P.length, marked: openEp.P.filter((p) => p[2]).length },
});

readColors(); resize(); setRange(300); setConn('connecting', 'Connecting…');
connect();
requestAnimationFrame(frame);
})();

