// The work lists: callbacks, complaints (deadlines, recordings), survey
// answers, and the nuisance list with its proposals and flags. Each reads
// the existing /api endpoints; a button shows only when the API serves
// its operation.
import { t } from './i18n.js';
import { $, S, h, api, blob, has, canOperate, fmtTime, itemsOf } from './util.js';

let current = 'callbacks';

export function open() {
  draw(current);
}

export function wire() {
  for (const b of document.querySelectorAll('[data-work]')) b.onclick = () => draw(b.dataset.work);
  $('#work-refresh').onclick = () => draw(current);
}

async function draw(which) {
  current = which;
  for (const b of document.querySelectorAll('[data-work]')) b.classList.toggle('on', b.dataset.work === which);
  $('#work-error').textContent = '';
  try {
    const body = await { callbacks, complaints, surveys, nuisance }[which]();
    $('#work-body').replaceChildren(...body);
  } catch (e) {
    $('#work-error').textContent = e.message;
  }
}

// run does an action and redraws the list; errors show above it.
function run(fn) {
  return async () => {
    $('#work-error').textContent = '';
    try {
      await fn();
      await draw(current);
    } catch (e) {
      if (!e.cancelled) $('#work-error').textContent = e.message;
    }
  };
}

// cancelled ends an action the operator thought better of.
function cancelled() {
  throw Object.assign(new Error('cancelled'), { cancelled: true });
}

const btn = (label, fn, cls) => h('button', { type: 'button', class: 'small ' + (cls || ''), onclick: run(fn) }, label);
const th = (...keys) => h('thead', {}, h('tr', {}, ...keys.map((k) => h('th', {}, k ? t(k) : ''))));
const table = (id, head, rows) => (rows.length ? h('table', { id }, head, h('tbody', {}, ...rows)) : h('p', { class: 'muted', id }, t('work.empty')));

async function callbacks() {
  const list = itemsOf(await api('GET', '/api/callbacks'));
  const ops = canOperate();
  const rows = list.map((c) => {
    const open = !c.done && !c.outcome;
    const acts = [];
    if (ops && open) acts.push(btn(t('btn.done'), () => api('POST', `/api/callbacks/${c.id}/done`)));
    if (ops && open && has('POST /api/callbacks/{id}/cancel')) acts.push(btn(t('btn.cancel'), () => api('POST', `/api/callbacks/${c.id}/cancel`, {})));
    if (ops && has('POST /api/callbacks/{id}/requeue')) acts.push(btn(t('btn.requeue'), () => api('POST', `/api/callbacks/${c.id}/requeue`, {})));
    return h('tr', { 'data-id': c.id, class: open ? 'open' : 'closed' },
      h('td', {}, fmtTime(c.at, true)),
      h('td', { class: 'caller' }, c.caller || ''),
      h('td', { class: 'caller' }, c.number || ''),
      h('td', {}, c.reason || ''),
      h('td', {}, c.queue || ''),
      h('td', {}, c.outcome || (c.done ? t('work.done') : t('work.open'))),
      h('td', { class: 'num' }, c.attempts !== undefined ? String(c.attempts) : ''),
      h('td', { class: 'actions' }, ...acts),
    );
  });
  return [table('callbacks', th('col.at', 'col.caller', 'col.number', 'col.reason', 'col.queue', 'col.outcome', 'col.attempts', ''), rows)];
}

async function complaints() {
  const list = itemsOf(await api('GET', '/api/complaints'));
  const ops = canOperate();
  const listen = has('GET /api/complaints/{id}/recording');
  const rows = list.map((c) => {
    const acts = [];
    if (ops && !c.replied) acts.push(btn(t('btn.replied'), () => (confirm(t('confirm.replied')) ? api('POST', `/api/complaints/${c.id}/replied`) : cancelled())));
    if (ops && has('POST /api/complaints/{id}/resolved') && !c.resolved) acts.push(btn(t('btn.resolved'), () => api('POST', `/api/complaints/${c.id}/resolved`, {})));
    const rec = c.recording && listen
      ? h('button', { type: 'button', class: 'small', onclick: () => play(`/api/complaints/${c.id}/recording`) }, `${t('btn.play')} ${Math.round(c.duration_seconds)}${t('sec')}`)
      : (c.recording ? `${Math.round(c.duration_seconds)}${t('sec')}` : '');
    return h('tr', { 'data-id': c.id, class: c.overdue ? 'overdue' : (c.replied ? 'closed' : 'open') },
      h('td', {}, fmtTime(c.at, true)),
      h('td', { class: 'caller' }, c.caller || ''),
      h('td', {}, c.class || ''),
      h('td', { class: c.overdue ? 'bad' : '' }, fmtTime(c.deadline, true) + (c.overdue ? ' · ' + t('work.overdue') : '')),
      h('td', {}, rec),
      h('td', {}, c.replied ? `${t('btn.replied')} ${fmtTime(c.replied_at, true)}` : c.state || t('work.open')),
      h('td', { class: 'actions' }, ...acts),
    );
  });
  return [table('complaints', th('col.at', 'col.caller', 'col.class', 'col.deadline', 'col.recording', 'col.status', ''), rows)];
}

// play fetches a recording with the token and plays it in the page.
async function play(path) {
  const p = $('#player');
  if (p.src.startsWith('blob:')) URL.revokeObjectURL(p.src);
  p.src = await blob(path);
  p.hidden = false;
  await p.play().catch(() => {});
}

async function surveys() {
  const [list, sum] = await Promise.all([api('GET', '/api/surveys'), api('GET', '/api/records/summary').catch(() => null)]);
  const rows = itemsOf(list).map((s) => h('tr', { 'data-id': s.id },
    h('td', {}, fmtTime(s.at, true)),
    h('td', { class: 'caller' }, s.caller || ''),
    h('td', {}, s.survey),
    h('td', { class: 'num score-' + s.score }, String(s.score)),
    h('td', {}, s.key || ''),
    h('td', {}, s.flow || ''),
  ));
  const head = sum ? h('p', { class: 'muted' }, `${t('work.surveys')}: ${sum.surveys} · ${t('work.mean')} ${Number(sum.mean_score).toFixed(2)}`) : null;
  return [head, table('surveys', th('col.at', 'col.caller', 'col.survey', 'col.score', 'col.key', 'col.flow'), rows)].filter(Boolean);
}

async function nuisance() {
  const [list, proposed, flags] = await Promise.all([
    api('GET', '/api/nuisance'), api('GET', '/api/nuisance/proposed'), api('GET', '/api/nuisance/flags'),
  ]);
  const ops = canOperate();
  const by = S.me?.name || 'console';
  const entries = itemsOf(list).map((e) => h('tr', { 'data-pattern': e.pattern },
    h('td', { class: 'caller' }, e.pattern),
    h('td', {}, e.reason),
    h('td', {}, e.added_by),
    h('td', {}, fmtTime(e.added_at, true)),
    h('td', {}, e.expires_at ? fmtTime(e.expires_at, true) : t('nuisance.forever')),
    h('td', {}, e.action?.kind === 'reject' ? `${t('nuisance.reject')} ${e.action.code ?? ''}` : t('nuisance.route')),
    ops ? h('td', {}, btn(t('btn.remove'), async () => {
      const why = prompt(t('nuisance.reasonAsk'));
      if (why === null) cancelled();
      // The API takes no body on DELETE; the guard writes this one to
      // the audit log with the change.
      await api('DELETE', `/api/nuisance/${encodeURIComponent(e.pattern)}`, { reason: why, by });
    })) : null,
  ));
  const props = itemsOf(proposed).map((p) => h('tr', { 'data-id': p.id },
    h('td', { class: 'caller' }, p.number),
    h('td', {}, p.reason),
    h('td', { class: 'num' }, String(p.calls)),
    h('td', {}, fmtTime(p.since, true)),
    h('td', {}, p.status),
    ops ? h('td', { class: 'actions' },
      btn(t('btn.confirm'), () => api('POST', `/api/nuisance/proposed/${p.id}/confirm`, { by, ttl: '720h' })),
      btn(t('btn.reject'), () => api('POST', `/api/nuisance/proposed/${p.id}/reject`, { by }))) : null,
  ));
  const fl = itemsOf(flags).map((f) => h('tr', {},
    h('td', { class: 'caller' }, f.number),
    h('td', { class: 'num' }, String(f.calls)),
    h('td', {}, fmtTime(f.since, true)),
    h('td', {}, fmtTime(f.until, true)),
    ops ? h('td', {}, btn(t('btn.unflag'), () => api('DELETE', `/api/nuisance/flags/${encodeURIComponent(f.number)}`))) : null,
  ));
  const out = [];
  if (ops) out.push(addForm(by));
  out.push(h('h3', {}, t('work.list')), table('nuisance', th('col.pattern', 'col.reason', 'col.addedBy', 'col.at', 'col.expires', 'col.action', ''), entries));
  out.push(h('h3', {}, t('work.proposed')), table('proposed', th('col.caller', 'col.reason', 'col.calls', 'col.since', 'col.status', ''), props));
  out.push(h('h3', {}, t('work.flags')), table('flags', th('col.caller', 'col.calls', 'col.since', 'col.until', ''), fl));
  return out;
}

// addForm adds an entry: pattern, reason, how long, and route or reject.
function addForm(by) {
  const pattern = h('input', { name: 'pattern', required: true, placeholder: '13800000000 / 400*', size: 16 });
  const reason = h('input', { name: 'reason', required: true, placeholder: t('col.reason'), size: 24 });
  const ttl = h('select', { name: 'ttl' },
    h('option', { value: '24h' }, '24h'), h('option', { value: '168h' }, '7d'), h('option', { value: '720h' }, '30d'),
    h('option', { value: '' }, t('nuisance.forever')));
  const action = h('select', { name: 'action' }, h('option', { value: 'route' }, t('nuisance.route')), h('option', { value: 'reject' }, t('nuisance.reject')));
  const f = h('form', { id: 'nuisance-add', class: 'row' }, pattern, reason, h('label', {}, t('nuisance.ttl') + ' ', ttl), action,
    h('button', { type: 'submit' }, t('btn.add')));
  f.onsubmit = (ev) => {
    ev.preventDefault();
    const body = { pattern: pattern.value.trim(), reason: reason.value.trim(), added_by: by };
    if (ttl.value) body.ttl = ttl.value;
    if (action.value === 'reject') body.action = { kind: 'reject', code: 603 };
    run(() => api('POST', '/api/nuisance', body))();
  };
  return f;
}
