// The agent's desk: their own state and caller, ready / pause / sign out.
import { t } from './i18n.js';
import { $, S, api, fmtDur, hooks } from './util.js';

let last = '';

// update redraws the desk from the live state (the stream's agents and
// calls); it is cheap enough to run every second.
export function update(state) {
  if (!S.agentId) return;
  const me = state.agents.find((a) => a.id === S.agentId);
  const n = Date.now() + state.offset;
  let caller = t('me.none');
  if (me?.call_id) {
    const c = state.calls.get(me.call_id);
    const since = new Date(me.since).getTime();
    caller = [c?.caller || me.caller || '—', me.queue, fmtDur((n - since) / 1000)].filter(Boolean).join(' · ');
  }
  const st = me ? me.state : 'offline';
  const key = st + '|' + (me?.reason ?? '') + '|' + caller;
  if (key === last) return;
  last = key;
  const s = $('#me-state');
  s.textContent = t('state.' + st);
  s.className = 'state state-' + st;
  s.dataset.state = st;
  $('#me-reason').textContent = me?.reason ? `(${me.reason})` : '';
  $('#me-caller').textContent = caller;
}

async function act(what, body) {
  $('#me-error').textContent = '';
  try {
    await api('POST', `/api/agents/${encodeURIComponent(S.agentId)}/${what}`, body);
  } catch (e) {
    $('#me-error').textContent = e.message;
    return false;
  }
  return true;
}

export function wire() {
  $('#me-ready').onclick = () => act('ready');
  $('#me-pause').onclick = () => act('pause', { reason: $('#me-reason-pick').value });
  $('#me-signout').onclick = async () => {
    if (!confirm(t('confirm.signout'))) return;
    if (await act('signout')) hooks.logout();
  };
}
