// Shared by the console's modules: the session, the API client and a
// small element builder.

// S is the session: the bearer token (sessionStorage, gone with the tab),
// who it is, and the API's operations (from /api/openapi.json).
export const S = {
  token: sessionStorage.getItem('kefu.token') || '',
  agentId: sessionStorage.getItem('kefu.agent') || '',
  me: null,
  ops: new Set(),
};

// hooks are set by app.js.
export const hooks = { unauthorized: () => {}, logout: () => {} };

export const $ = (sel) => document.querySelector(sel);

// h makes an element: h('td', {class: 'x'}, 'text', child...).
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k !== undefined && k !== null) e.append(k);
  return e;
}

export class APIError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

// api calls the ops API with the session's token; it returns the JSON
// answer (null for 204) or throws an APIError with the answer's error.
export async function api(method, path, body) {
  const headers = {};
  if (S.token) headers.Authorization = 'Bearer ' + S.token;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401 && path !== '/console/login') {
    hooks.unauthorized();
    throw new APIError(401, (await res.json().catch(() => ({}))).error || 'log in');
  }
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  if (!ct.includes('json')) {
    if (!res.ok) throw new APIError(res.status, res.statusText);
    return res;
  }
  const data = await res.json();
  if (!res.ok) throw new APIError(res.status, data.error || res.statusText);
  return data;
}

// blob fetches a binary answer (a recording, a WAV) with the token.
export async function blob(path) {
  const res = await fetch(path, { headers: S.token ? { Authorization: 'Bearer ' + S.token } : {} });
  if (!res.ok) throw new APIError(res.status, (await res.json().catch(() => ({}))).error || res.statusText);
  return URL.createObjectURL(await res.blob());
}

// has reports whether the API serves an operation ("POST /api/x/{id}/y").
export const has = (op) => S.ops.has(op);

export const role = () => S.me?.role ?? 'viewer';
export const canOperate = () => role() === 'operator';


// zone is the hotline's time zone (the stream's snapshot says which).
let zone;
export function setZone(z) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: z });
    zone = z;
  } catch { zone = undefined; }
}

// fmtDur writes seconds as 0:07, 12:03 or 1:02:03.
export function fmtDur(sec) {
  if (!(sec >= 0)) sec = 0;
  sec = Math.floor(sec);
  const s = sec % 60, m = Math.floor(sec / 60) % 60, hh = Math.floor(sec / 3600);
  const p = (n) => String(n).padStart(2, '0');
  return hh ? `${hh}:${p(m)}:${p(s)}` : `${m}:${p(s)}`;
}

// fmtTime writes a time in the hotline's zone: 09:30:05, or with the date
// when it is not today.
export function fmtTime(iso, withDate) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const o = { timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
  if (withDate) Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit' });
  return new Intl.DateTimeFormat('sv-SE', o).format(d);
}

// pct writes a share as a percentage.
export const pct = (x) => (x * 100).toFixed(1) + '%';

// itemsOf takes a list answer: a plain array, or a page {items, total}.
export const itemsOf = (x) => (Array.isArray(x) ? x : x?.items ?? []);
