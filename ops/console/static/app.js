// The console's core: log-in, the API client, the tabs and the live
// stream. The other modules draw the tabs.
import { t, setLang, getLang } from './i18n.js';
import { S, $, api, hooks } from './util.js';
import * as live from './live.js';
import * as work from './work.js';
import * as flows from './flows.js';
import * as desk from './desk.js';

function showLogin() {
  stopStream();
  $('#login').hidden = false;
  $('#tabs').hidden = true;
  for (const s of document.querySelectorAll('.tab')) s.hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
}

async function start() {
  try {
    S.me = await api('GET', '/console/api/me');
  } catch (e) {
    if (e.status !== 401) $('#login-error').textContent = e.message;
    return;
  }
  if (S.me.role === 'agent') S.agentId = S.me.agent_id;
  document.body.dataset.role = S.me.role;
  document.body.classList.toggle('is-agent', !!S.agentId);
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  $('#logout').hidden = !S.token;
  $('#who').textContent = `${S.me.name} · ${t('role.' + S.me.role)}` + (S.agentId && S.me.role !== 'agent' ? ` · ${S.agentId}` : '');
  try {
    const doc = await api('GET', '/api/openapi.json');
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      for (const m of Object.keys(ops)) S.ops.add(m.toUpperCase() + ' ' + path);
    }
  } catch { /* an older kefu: the buttons that need an operation stay hidden */ }
  show(location.hash.slice(1) || (S.agentId ? 'agent' : 'live'));
  startStream();
}

// show opens a tab.
function show(tab) {
  if (!['live', 'work', 'flows', 'agent'].includes(tab)) tab = 'live';
  if (tab === 'agent' && !S.agentId) tab = 'live';
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('on', b.dataset.tab === tab);
  if (location.hash.slice(1) !== tab) history.replaceState(null, '', '#' + tab);
  if (tab === 'work') work.open();
  if (tab === 'flows') flows.open();
}

// The live stream: server-sent events read with fetch, so that the token
// goes in a header. On a drop it connects again and gets a fresh snapshot.
let streamAbort = null;
let retry = 0;

function stopStream() {
  streamAbort?.abort();
  streamAbort = null;
}

async function startStream() {
  stopStream();
  const ctl = new AbortController();
  streamAbort = ctl;
  try {
    const res = await fetch('/console/events', {
      headers: S.token ? { Authorization: 'Bearer ' + S.token } : {}, signal: ctl.signal, cache: 'no-store',
    });
    if (res.status === 401) { showLogin(); return; }
    if (!res.ok) throw new Error(res.statusText);
    setConn(true);
    retry = 0;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        dispatch(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
    }
  } catch (e) {
    if (ctl.signal.aborted) return;
  }
  if (streamAbort !== ctl) return;
  setConn(false);
  retry = Math.min(retry + 1, 5);
  setTimeout(() => { if (streamAbort === ctl) startStream(); }, 500 * retry);
}

// stats are what the stream brought and how long the page took to take
// each event in (ms), for the browser tests' measurements.
const stats = (window.kefuStats = { events: 0, chars: 0, handleMs: [] });

function dispatch(block) {
  const t0 = performance.now();
  let event = 'message', data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!data) return;
  handle(event, JSON.parse(data));
  stats.events++;
  stats.chars += block.length;
  stats.handleMs.push(performance.now() - t0);
  if (stats.handleMs.length > 4000) stats.handleMs.splice(0, 2000);
}

function handle(event, msg) {
  if (event === 'snapshot') {
    $('#version').textContent = msg.version;
    live.snapshot(msg);
    desk.update(live.state);
  } else if (event === 'update') {
    if (msg.version) $('#version').textContent = msg.version;
    live.update(msg);
    desk.update(live.state);
  }
}

function setConn(ok) {
  const c = $('#conn');
  c.className = 'conn ' + (ok ? 'on' : 'off');
  c.title = t(ok ? 'conn.live' : 'conn.lost');
  c.dataset.state = ok ? 'live' : 'lost';
}

// Clocks: every second the times in call and the waits are counted on
// from the server's clock (the stream's now).
setInterval(() => {
  live.tickClock();
  desk.update(live.state);
}, 1000);

function wire() {
  setLang(getLang());
  $('#lang').textContent = getLang() === 'en' ? '中文' : 'EN';
  $('#lang').onclick = () => {
    setLang(getLang() === 'en' ? 'zh' : 'en');
    $('#lang').textContent = getLang() === 'en' ? '中文' : 'EN';
    live.redraw();
    desk.update(live.state);
  };
  for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => show(b.dataset.tab);
  $('#token-form').onsubmit = async (ev) => {
    ev.preventDefault();
    S.token = $('#token').value.trim();
    S.agentId = '';
    sessionStorage.setItem('kefu.token', S.token);
    sessionStorage.removeItem('kefu.agent');
    $('#login-error').textContent = '';
    await start();
    if (!S.me) $('#login-error').textContent = 'unknown token';
  };
  $('#agent-form').onsubmit = async (ev) => {
    ev.preventDefault();
    $('#login-error').textContent = '';
    try {
      const s = await api('POST', '/console/login', { agent: $('#agent-id').value.trim(), password: $('#agent-password').value });
      S.token = s.token;
      S.agentId = s.agent_id;
      sessionStorage.setItem('kefu.token', S.token);
      sessionStorage.setItem('kefu.agent', S.agentId);
      $('#agent-password').value = '';
      await start();
      show('agent');
    } catch (e) {
      $('#login-error').textContent = e.message;
    }
  };
  $('#logout').onclick = () => logout();
  live.wire();
  work.wire();
  flows.wire();
  desk.wire();
}

// logout ends an agent's session and forgets the token.
async function logout() {
  if (S.token) await fetch('/console/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + S.token } }).catch(() => {});
  sessionStorage.removeItem('kefu.token');
  sessionStorage.removeItem('kefu.agent');
  S.token = '';
  S.agentId = '';
  S.me = null;
  showLogin();
}

hooks.unauthorized = showLogin;
hooks.logout = logout;
wire();
start().then(() => { if (!S.me) showLogin(); });
