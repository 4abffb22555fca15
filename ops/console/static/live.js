// The live tab: the day's figures and charts, the calls in progress, the
// queues with their waiting callers, the agents. The stream's snapshot
// fills it; updates change only what changed.
import { t } from './i18n.js';
import { $, h, api, canOperate, fmtDur, fmtTime, pct, setZone } from './util.js';

export const state = {
  offset: 0, // the server's clock less ours, in ms
  calls: new Map(), // call id → row
  waiting: [],
  queues: [],
  agents: [],
  day: null,
  series: { slot_minutes: 5, points: [] },
};

const rows = new Map(); // call id → <tr>
const clocks = new Map(); // call id → [cell, started ms]

export const now = () => Date.now() + state.offset;

function clock(iso) {
  state.offset = new Date(iso).getTime() - Date.now();
}

export function snapshot(m) {
  setZone(m.zone);
  clock(m.now);
  state.calls = new Map(m.calls.map((c) => [c.call_id, c]));
  state.waiting = m.waiting ?? [];
  state.queues = m.queues ?? [];
  state.agents = m.agents ?? [];
  state.day = m.day;
  state.series = m.series;
  redraw();
}

export function update(m) {
  clock(m.now);
  if (m.calls) {
    for (const id of m.calls.del) {
      state.calls.delete(id);
      rows.get(id)?.remove();
      rows.delete(id);
      clocks.delete(id);
    }
    for (const c of m.calls.set) {
      state.calls.set(c.call_id, c);
      drawCall(c);
    }
    countCalls();
  }
  if (m.waiting) { state.waiting = m.waiting; drawWaiting(); drawQueues(); }
  if (m.queues) { state.queues = m.queues; drawQueues(); }
  if (m.agents) { state.agents = m.agents; drawAgents(); }
  if (m.day) { state.day = m.day; drawFigures(); }
  if (m.point) {
    const ps = state.series.points;
    if (ps.length && ps[ps.length - 1].i === m.point.i) ps[ps.length - 1] = m.point;
    else if (ps.length && m.point.i < ps[ps.length - 1].i) state.series.points = [m.point]; // a new day
    else ps.push(m.point);
    drawCharts();
  }
}

export function redraw() {
  $('#calls tbody').replaceChildren();
  rows.clear();
  clocks.clear();
  const calls = [...state.calls.values()].sort((a, b) => (a.started < b.started ? -1 : 1));
  for (const c of calls) drawCall(c);
  countCalls();
  drawWaiting();
  drawQueues();
  drawAgents();
  drawFigures();
  drawCharts();
}

export function tickClock() {
  const n = now();
  for (const [cell, started] of clocks.values()) cell.textContent = fmtDur((n - started) / 1000);
  for (const c of document.querySelectorAll('[data-since]')) c.textContent = fmtDur((n - Number(c.dataset.since)) / 1000);
  $('#clock').textContent = state.day ? fmtTime(new Date(n).toISOString()) : '';
}

function countCalls() {
  $('#calls-count').textContent = state.calls.size;
  $('#calls-none').hidden = state.calls.size > 0;
}

// drawCall adds or redraws the row of a call; new calls go on top.
function drawCall(c) {
  const started = new Date(c.started).getTime();
  const time = h('td', { class: 'num' }, fmtDur((now() - started) / 1000));
  const st = c.state === 'ringing' ? t('state.ringing_call') : t('state.answered');
  const tr = h('tr', { 'data-id': c.call_id },
    h('td', { class: 'caller' }, c.caller || '—'),
    h('td', {}, c.flow),
    h('td', { class: 'step' }, c.step || ''),
    time,
    h('td', { class: 'line line-' + (c.line || 'none') }, c.line ? t('line.' + c.line) : ''),
    h('td', {}, st + (c.held ? ' · ' + t('held') : '')),
    h('td', {}, c.queue ? `${c.queue} #${c.position}` : ''),
    h('td', {}, c.agent || ''),
    canOperate() ? h('td', {}, h('button', { type: 'button', class: 'small', onclick: () => hangup(c.call_id) }, t('btn.hangup'))) : null,
  );
  const old = rows.get(c.call_id);
  if (old) old.replaceWith(tr);
  else $('#calls tbody').prepend(tr);
  rows.set(c.call_id, tr);
  clocks.set(c.call_id, [time, started]);
}

async function hangup(id) {
  if (!confirm(t('confirm.hangup'))) return;
  try {
    await api('POST', `/api/calls/${encodeURIComponent(id)}/hangup`);
  } catch (e) {
    alert(e.message);
  }
}

function drawWaiting() {
  const n = now();
  const body = state.waiting.map((w) => h('tr', { 'data-id': w.call_id },
    h('td', {}, w.queue),
    h('td', { class: 'num' }, String(w.position)),
    h('td', { class: 'caller' }, w.caller || '—'),
    h('td', { class: 'num', 'data-since': new Date(w.joined).getTime() }, fmtDur((n - new Date(w.joined).getTime()) / 1000)),
    h('td', { class: 'num' }, fmtDur(w.estimated_wait_seconds)),
  ));
  $('#waiting tbody').replaceChildren(...body);
  $('#waiting-none').hidden = state.waiting.length > 0;
}

function drawQueues() {
  const first = new Map();
  for (const w of state.waiting) {
    const j = new Date(w.joined).getTime();
    if (!first.has(w.queue) || j < first.get(w.queue)) first.set(w.queue, j);
  }
  const n = now();
  const body = state.queues.map((q) => h('tr', { 'data-id': q.queue },
    h('td', {}, q.queue + (q.yields ? ' ⚑' : '') + (q.draining ? ' …' : '')),
    h('td', { class: 'num' }, String(q.waiting)),
    h('td', { class: 'num' }, String(q.agents)),
    first.has(q.queue) ? h('td', { class: 'num', 'data-since': first.get(q.queue) }, fmtDur((n - first.get(q.queue)) / 1000)) : h('td', {}, ''),
    h('td', { class: 'num' }, fmtDur(q.estimated_wait_seconds)),
    h('td', { class: 'num' }, String(q.answered)),
    h('td', { class: 'num' }, String(q.abandoned)),
    h('td', { class: 'num' }, pct(q.service_level)),
    h('td', { class: 'num' + (q.answer_rate < 0.85 ? ' bad' : '') }, pct(q.answer_rate)),
  ));
  $('#queues tbody').replaceChildren(...body);
}

function drawAgents() {
  const n = now();
  const body = state.agents.map((a) => {
    const since = new Date(a.since).getTime();
    const ops = canOperate() ? h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'small', onclick: () => act(a.id, 'ready') }, t('btn.ready')),
      h('button', { type: 'button', class: 'small', onclick: () => act(a.id, 'pause', { reason: 'ops' }) }, t('btn.pause')),
      h('button', { type: 'button', class: 'small', onclick: () => act(a.id, 'signout') }, t('btn.signout')),
    ) : null;
    return h('tr', { 'data-id': a.id },
      h('td', {}, a.id),
      h('td', {}, a.name || ''),
      h('td', { class: 'state state-' + a.state, 'data-state': a.state }, t('state.' + a.state) + (a.reason ? ` (${a.reason})` : '')),
      h('td', { class: 'caller' }, a.caller || (a.queue ? a.queue : '')),
      h('td', { class: 'num', 'data-since': since }, fmtDur((n - since) / 1000)),
      h('td', { class: 'num' }, String(a.calls_today)),
      h('td', { class: 'num' }, String(a.missed)),
      ops,
    );
  });
  $('#agents tbody').replaceChildren(...body);
  $('#agents-none').hidden = state.agents.length > 0;
}

async function act(id, what, body) {
  try {
    await api('POST', `/api/agents/${encodeURIComponent(id)}/${what}`, body);
  } catch (e) {
    alert(e.message);
  }
}

function card(label, value, cls, sub) {
  return h('div', { class: 'fig ' + (cls || '') }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), sub ? h('div', { class: 'sub' }, sub) : null);
}

function drawFigures() {
  const d = state.day;
  if (!d) return;
  $('#figures').replaceChildren(
    card(t('fig.calls'), String(d.calls), 'calls'),
    card(t('fig.waiting'), String(d.waiting), 'waiting'),
    card(t('fig.answered'), String(d.answered), 'answered'),
    card(t('fig.abandoned'), String(d.abandoned), 'abandoned', d.timed_out ? `${t('fig.timedOut')} ${d.timed_out}` : ''),
    card(t('fig.rate'), pct(d.answer_rate), d.answer_rate < d.target ? 'bad' : 'good', `${t('fig.target')} ≥ ${pct(d.target)}`),
    card(t('fig.level'), pct(d.service_level), 'level'),
    card(t('fig.wait'), fmtDur(d.average_wait_seconds), 'wait'),
  );
}

const SVG = 'http://www.w3.org/2000/svg';
const svg = (name, attrs) => {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

// drawCharts draws the day so far: calls in progress and callers waiting
// as lines, answered and abandoned as stacked bars, midnight to midnight.
function drawCharts() {
  const ps = state.series.points;
  const slots = (24 * 60) / (state.series.slot_minutes || 5);
  const W = 480, H = 90;
  const x = (i) => (i / slots) * W;
  const axis = (s) => {
    for (const hr of [6, 12, 18]) {
      s.append(svg('line', { x1: x((hr * 60) / state.series.slot_minutes), x2: x((hr * 60) / state.series.slot_minutes), y1: 0, y2: H, class: 'gridline' }));
    }
  };
  const lines = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', preserveAspectRatio: 'none' });
  axis(lines);
  const top = Math.max(1, ...ps.map((p) => Math.max(p.c, p.w)));
  for (const [key, cls] of [['c', 'calls'], ['w', 'waiting']]) {
    const pts = ps.map((p) => `${x(p.i + 0.5).toFixed(1)},${(H - (p[key] / top) * (H - 4)).toFixed(1)}`).join(' ');
    lines.append(svg('polyline', { points: pts, class: 'line ' + cls }));
  }
  $('#chart-calls').replaceChildren(lines);
  const bars = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', preserveAspectRatio: 'none' });
  axis(bars);
  const most = Math.max(1, ...ps.map((p) => p.a + p.b));
  const bw = Math.max(1, W / slots - 0.3);
  for (const p of ps) {
    const ha = (p.a / most) * (H - 4), hb = (p.b / most) * (H - 4);
    if (ha) bars.append(svg('rect', { x: x(p.i), y: H - ha, width: bw, height: ha, class: 'answered' }));
    if (hb) bars.append(svg('rect', { x: x(p.i), y: H - ha - hb, width: bw, height: hb, class: 'abandoned' }));
  }
  $('#chart-answered').replaceChildren(bars);
}

export function wire() {}
