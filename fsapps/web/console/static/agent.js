// The agent's desk: their status, their call and its operations, dial-out; live through
// the event stream (events.js), and fetched again after each action.
import {api, get, enc, ApiError} from './api.js';
import {t, label, seconds} from './i18n.js';
import {$, $$, h, fill} from './dom.js';
import {start, act, showError, showDone, can, tenantOf} from './page.js';
import {follow} from './events.js';

const me = await start();
const tenant = tenantOf(me);
const agentId = new URLSearchParams(location.search).get('agent') || me.agent;
const base = `/tenants/${enc(tenant)}/agents/${enc(agentId)}`;
let call = null; // the call this agent is on or rung with (GET .../calls), or null
let ticking = null;

if (!agentId) {
  showError(new ApiError(0, 'not_an_agent', ''));
  throw new Error('no agent');
}

// Show only what the role may do (an agent: their own status and calls).
$('#status-card').hidden = !can(me, 'agent.status');
$('#dial-card').hidden = !can(me, 'call.dial_out');

function showAgent(a) {
  fill($('#agent-name'), `${a.name} (${a.id})`);
  const badge = fill($('#status'), label('status', a.status));
  badge.dataset.status = a.status;
  const signedIn = a.status !== 'Logged Out';
  fill($('#state'), signedIn ? label('state', a.state) : ''); // what a signed-out agent does is moot
  $('#after-call').hidden = call !== null || !signedIn || !can(me, 'call.control');
  fill($('#break-reason'), a.status === 'On Break' && a.break_reason ? t('agent.because', {reason: a.break_reason}) : '');
  $('#go-ready').disabled = a.status === 'Available';
  $('#go-logout').disabled = a.status === 'Logged Out';
}

function showCall(c) {
  call = c;
  const on = c !== null;
  $('#no-call').hidden = on;
  $('#call-fields').hidden = !on;
  $('#call-actions').hidden = !on || !can(me, 'call.control');
  $('#after-call').hidden = on || $('#status').dataset.status === 'Logged Out' || !can(me, 'call.control');
  clearInterval(ticking);
  if (!on) {
    fill($('#call-fields'));
    return;
  }
  const since = Date.now() / 1000 - c.wait_seconds;
  const waited = h('dd', {id: 'call-wait'}, seconds(c.wait_seconds));
  fill($('#call-fields'),
    h('dt', {}, t('call.number')), h('dd', {id: 'call-number'}, c.number || t('call.unknown')),
    h('dt', {}, t('call.name')), h('dd', {}, c.name || ''),
    h('dt', {}, t('call.queue')), h('dd', {}, c.queue),
    h('dt', {}, t('call.state')), h('dd', {id: 'call-state'}, label('callstate', c.consulting ? 'Consulting' : c.state)),
    h('dt', {}, t('call.since')), waited);
  ticking = setInterval(() => fill(waited, seconds(Date.now() / 1000 - since)), 1000);
  for (const b of $$('[data-op="complete"], [data-op="cancel"]')) b.hidden = !c.consulting;
}

async function refresh() {
  try {
    const [a, calls] = await Promise.all([get(base), get(`/tenants/${enc(tenant)}/calls`)]);
    showAgent(a);
    showCall(calls.find((c) => c.agent === agentId) || calls.find((c) => (c.ringing || []).includes(agentId)) || null);
  } catch (err) {
    showError(err);
  }
}

async function setStatus(button, status, reason = '') {
  const a = await act(button, () => api('PUT', `${base}/status`, {status, reason}));
  if (a) {
    showAgent(a);
    showDone(t('agent.status_set', {status: label('status', a.status)}));
  }
  return a;
}

$('#go-ready').addEventListener('click', (ev) => setStatus(ev.currentTarget, 'Available'));
$('#go-logout').addEventListener('click', (ev) => setStatus(ev.currentTarget, 'Logged Out'));
$('#break-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setStatus(ev.submitter, 'On Break', $('#break-reason-input').value.trim()).then((a) => a && ev.target.reset());
});

// The operations on the agent's call: POST .../call/{op}, with a target where it takes one.
const TARGETED = new Set(['transfer', 'consult', 'three-way']);
for (const b of $$('[data-op]')) {
  b.addEventListener('click', async () => {
    const op = b.dataset.op;
    let body;
    if (TARGETED.has(op)) {
      const value = $('#target-value').value.trim();
      if (!value) {
        $('#target-value').focus();
        showError(new ApiError(0, 'target_missing', ''));
        return;
      }
      body = {[$('#target-kind').value]: value};
    }
    const done = await act(b, async () => (await api('POST', `${base}/call/${op}`, body)) ?? true);
    if (done !== undefined) {
      showDone(t('op.done', {op: t(`op.${op}`)}));
      refresh();
    }
  });
}

$('#dial-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const number = $('#dial-number').value.trim();
  const leg = await act(ev.submitter, () => api('POST', `${base}/dial`, {number}));
  if (leg) {
    showDone(t('agent.dialling', {number}));
    refresh();
  }
});

// The offer: the agent's phone rings; the screen pop shows what the call carries.
function showOffer(offer) {
  const vars = Array.isArray(offer.variables) ? offer.variables : Object.entries(offer.variables || {});
  fill($('#offer-fields'),
    h('dt', {}, t('call.queue')), h('dd', {}, offer.queue),
    vars.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  $('#offer-card').hidden = false;
}

function live(status) {
  const p = $('#live');
  p.dataset.live = status;
  fill(p, t(`live.${status}`));
}

follow(tenant, {
  onStatus: live,
  onReset: refresh,
  onEvent(kind, data) {
    if (kind === 'offer' && data.agent === agentId) showOffer(data);
    if (kind === 'agent_state' && data.agent === agentId && data.state !== 'Receiving') $('#offer-card').hidden = true;
    if (kind === 'agent_state' ? data.agent === agentId : data.agent === agentId || (call && data.member === call.uuid)) {
      refresh();
    }
  },
});

await refresh();
