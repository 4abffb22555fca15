// The flows tab: the configuration in force and its check, reload, each
// flow drawn as a diagram, and the simulate form with its timeline and
// the audio the caller would hear.
import { t } from './i18n.js';
import { $, h, api, blob } from './util.js';
import { render } from './diagram.js';

let cfg = null;

export async function open() {
  try {
    cfg = await api('GET', '/console/api/flows');
  } catch (e) {
    $('#check-out').replaceChildren(h('p', { class: 'error' }, e.message));
    return;
  }
  $('#flows-version').textContent = cfg.version;
  $('#flows-company').textContent = `${cfg.company} · ${cfg.language} · ${cfg.timezone}`;
  $('#exceptions').replaceChildren(...(cfg.exceptions.length ? cfg.exceptions.map((x) => h('li', {}, x)) : [h('li', { class: 'muted' }, t('flows.none'))]));
  $('#routes').replaceChildren(...cfg.routes.map((r) => h('li', {}, `${r.to || '*'}${r.from ? ' ← ' + r.from : ''} → ${r.flow}`)));
  $('#check').hidden = !cfg.checkable;
  const pick = $('#flow-pick');
  const was = pick.value;
  pick.replaceChildren(...cfg.flows.map((f) => h('option', { value: f.name }, `${f.name} (${f.steps})`)));
  const known = cfg.routes.filter((r) => cfg.flows.some((f) => f.name === r.flow));
  const routed = (known.find((r) => r.to === 'hotline' || r.to === '*' || !r.to) ?? known[0])?.flow;
  pick.value = cfg.flows.some((f) => f.name === was) ? was : routed ?? cfg.flows[0]?.name ?? '';
  const sim = $('#sim-flow');
  const simWas = sim.value;
  sim.replaceChildren(h('option', { value: '' }, t('sim.byRoute')), ...cfg.flows.map((f) => h('option', { value: f.name }, f.name)));
  sim.value = simWas;
  drawFlow();
}

function drawFlow() {
  const f = cfg?.flows.find((x) => x.name === $('#flow-pick').value);
  if (!f) return;
  $('#mermaid').textContent = f.mermaid;
  $('#diagram').replaceChildren(render(f.mermaid));
}

async function check() {
  const out = $('#check-out');
  try {
    const c = await api('GET', '/console/api/check');
    const items = [h('p', { class: c.ok ? 'good' : 'bad' }, t(c.ok ? 'flows.checkOk' : 'flows.checkBad') +
      (c.ok && c.version !== c.running ? ` (${c.version}: ${t('flows.changed')})` : ''))];
    if (c.errors.length) items.push(h('pre', { class: 'errors' }, c.errors.join('\n')));
    out.replaceChildren(...items);
  } catch (e) {
    out.replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

// reload asks kefu to apply the file; a refused file's errors show and
// the running configuration stays.
async function reload() {
  const out = $('#check-out');
  const headers = { 'Content-Type': 'application/json' };
  const token = sessionStorage.getItem('kefu.token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch('/api/reload', { method: 'POST', headers });
  const r = await res.json().catch(() => ({}));
  if (res.ok) {
    out.replaceChildren(h('p', { class: 'good' }, `${t('flows.reloaded')}: ${r.version}`));
    open();
    return;
  }
  out.replaceChildren(h('p', { class: 'bad' }, `${t('flows.refused')} (${r.running ?? ''})`),
    h('pre', { class: 'errors' }, (r.errors ?? [r.error]).join('\n')));
}

// simQuery is the form as the simulate endpoints' query.
function simQuery() {
  const q = new URLSearchParams();
  const add = (k, v) => { if (v) q.set(k, v); };
  add('flow', $('#sim-flow').value);
  add('caller', $('#sim-caller').value.trim());
  add('from', $('#sim-from').value.trim());
  add('to', $('#sim-to').value.trim());
  add('at', $('#sim-at').value);
  return q.toString();
}

async function simulate(ev) {
  ev?.preventDefault();
  $('#sim-error').textContent = '';
  try {
    const r = await api('GET', '/console/api/simulate?' + simQuery());
    $('#sim-summary').textContent = `${r.flow || '—'} · ${r.config} · ${r.seconds.toFixed(1)}${t('sec')}` +
      (r.refused ? ` · ${t('sim.refused')} ${r.refused}` : '') + (r.hung_up_by ? ` · ${t('sim.hungUp')} ${r.hung_up_by}` : '');
    const rows = r.timeline.map((e) => h('tr', { class: 'ev-' + e.what },
      h('td', { class: 'num' }, e.t.toFixed(2)),
      h('td', { class: 'num' }, e.end ? e.end.toFixed(2) : ''),
      h('td', {}, e.what),
      h('td', {}, e.detail),
      h('td', {}, e.text ? `「${e.text}」` : ''),
    ));
    $('#sim-timeline tbody').replaceChildren(...rows);
  } catch (e) {
    $('#sim-error').textContent = e.message;
  }
}

async function listen() {
  $('#sim-error').textContent = '';
  const a = $('#sim-audio');
  try {
    if (a.src.startsWith('blob:')) URL.revokeObjectURL(a.src);
    a.src = await blob('/console/api/simulate.wav?' + simQuery());
    a.hidden = false;
    await a.play().catch(() => {});
  } catch (e) {
    $('#sim-error').textContent = e.message;
  }
}

export function wire() {
  $('#flow-pick').onchange = drawFlow;
  $('#check').onclick = check;
  $('#reload').onclick = reload;
  $('#sim-form').onsubmit = simulate;
  $('#sim-listen').onclick = listen;
  $('#copy-mermaid').onclick = () => navigator.clipboard?.writeText($('#mermaid').textContent);
}
