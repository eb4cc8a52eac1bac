// The agent's desk: their status, their call and its operations, dial-out; live through
// the event stream (events.js), and fetched again after each action.
import {api, get, enc, ApiError} from './api.js';
import {t, label, seconds} from './i18n.js';
import {$, $$, h, fill} from './dom.js';
import {start, act, showError, showDone, can, tenantOf} from './page.js';
import {follow} from './events.js';
import {myScores} from './qa_mine.js';
import {makeCard} from './card.js';
import {desk} from './desk_kb.js';
import {deskTickets} from './tickets.js';
import {escalations} from './ticket_alerts.js';
import {holdAndPickup} from './desk_hold.js';

const me = await start();
const tenant = tenantOf(me);
const agentId = new URLSearchParams(location.search).get('agent') || me.agent;
const base = `/tenants/${enc(tenant)}/agents/${enc(agentId)}`;
let call = null; // the call this agent is on (GET .../calls), or null
let ringing = null; // the call ringing this agent's phone: from GET .../calls, or an offer event
let ticking = null;
// The screen pops of this agent's offers (the offer events' lookup fields), by caller: kept
// while the caller is in the queue, so the call shows them once answered.
const pops = new Map();

if (!agentId) {
  showError(new ApiError(0, 'not_an_agent', ''));
  throw new Error('no agent');
}

const knowledge = desk(me, tenant, agentId); // the call script, the knowledge base, wrap-up

// Show only what the role may do (an agent: their own status and calls).
$('#status-card').hidden = !can(me, 'agent.status');
$('#dial-card').hidden = !can(me, 'call.dial_out');
const tickets = deskTickets(me, tenant); // "Open a ticket" from the current or last call
const escalated = escalations($('#tk2-escalations')); // the agent's tickets past due, told live

// Dial-out from the agent's phone: the dial form's, and click-to-call from the card.
async function dialOut(button, number) {
  const leg = await act(button, () => api('POST', `${base}/dial`, {number}));
  if (leg) {
    showDone(t('agent.dialling', {number}));
    refresh();
  }
  return leg;
}

// The customer card (card.js): the caller's customer, or the new-customer form.
const card = await makeCard({me, tenant, agentId, dial: dialOut});
const answerSide = holdAndPickup(me, base, () => refresh()); // Hold / Resume, Pick up

function showAgent(a) {
  fill($('#agent-name'), `${a.name} (${a.id})`);
  const badge = fill($('#status'), label('status', a.status));
  badge.dataset.status = a.status;
  const signedIn = a.status !== 'Logged Out';
  // What they do as the floor says it (ready, ringing, on a call, wrap-up, ...); signed out: moot.
  fill($('#state'), signedIn ? label('activity', a.activity) : '');
  afterCallWork(signedIn && a.activity === 'wrap_up' ? (a.wrap_up_time || 0) - (a.activity_seconds || 0) : 0);
  $('#after-call').hidden = call !== null || !signedIn || !can(me, 'call.control');
  fill($('#break-reason'), a.status === 'On Break' && a.break_reason ? t('agent.because', {reason: a.break_reason}) : '');
  $('#go-ready').disabled = a.status === 'Available';
  $('#go-logout').disabled = a.status === 'Logged Out';
}

// After-call work counts down to the end of the agent's wrap-up time, when the queues
// offer them calls again (as Amazon Connect's and Genesys's ACW timers do).
let acw = null;
function afterCallWork(left) {
  clearInterval(acw);
  const shown = $('#acw');
  const ends = Date.now() / 1000 + left;
  const draw = () => {
    const now = ends - Date.now() / 1000;
    if (now <= 0) {
      clearInterval(acw);
      shown.hidden = true;
      return;
    }
    shown.hidden = false;
    fill(shown, t('agent.acw_left', {time: seconds(now)}));
  };
  draw();
  if (left > 0) acw = setInterval(draw, 1000);
}

// The variables the queue sets on every agent's leg (fsapps/acd/visit.py, _ring_variables):
// what the offer card shows of them it shows by name; every other variable is a screen-pop
// field (the lookup's, exported).
const RING_OWN = new Set(['leg_timeout', 'ignore_early_media', 'origination_caller_id_number', 'origination_caller_id_name']);

function screenPop(offer) {
  const vars = offer ? offer.variables || {} : {};
  return Object.entries(vars).filter(([k]) => !RING_OWN.has(k) && !k.startsWith('fsapps_'));
}

// A name and a value, as text (a lookup's field may hold markup: it shows as written).
const field = (name, title, value, id) => [h('dt', {}, title), h('dd', {id, dataset: {field: name}}, value)];

function showCall(c) {
  call = c;
  knowledge.onCall(c);
  tickets.onCall(c);
  answerSide.showCall(c);
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
  const waited = h('dd', {id: 'call-wait', dataset: {field: 'since'}}, seconds(c.wait_seconds));
  fill($('#call-fields'),
    field('number', t('call.number'), c.number || t('call.unknown'), 'call-number'),
    field('name', t('call.name'), c.name || ''),
    field('queue', t('call.queue'), c.queue),
    field('state', t('call.state'), c.held ? t('dh.state_held') : label('callstate', c.consulting ? 'Consulting' : c.state), 'call-state'),
    h('dt', {}, t('call.since')), waited,
    screenPop(pops.get(c.uuid)).flatMap(([k, v]) => field(k, card.labelOf(k), v)));
  ticking = setInterval(() => fill(waited, seconds(Date.now() / 1000 - since)), 1000);
  for (const b of $$('[data-op="complete"], [data-op="cancel"]')) b.hidden = !c.consulting;
}

// The offer: the agent's phone rings; the screen pop shows who calls and what the lookup
// found. ``r``: {uuid, number, name, queue} (GET .../calls' row, or the offer event's).
function showOffer(r) {
  ringing = r;
  knowledge.onOffer(r);
  $('#offer-card').hidden = r === null;
  if (r === null) {
    fill($('#offer-fields'));
    return;
  }
  fill($('#offer-fields'),
    field('number', t('call.number'), r.number || t('call.unknown')),
    field('name', t('call.name'), r.name || ''),
    field('queue', t('call.queue'), r.queue),
    screenPop(pops.get(r.uuid)).flatMap(([k, v]) => field(k, card.labelOf(k), v)));
}

const RINGS = new Set(['Reserved', 'Receiving']); // the agent's states while an offer stands

function offered(offer) {
  const v = offer.variables || {};
  return {uuid: offer.member, number: v.origination_caller_id_number, name: v.origination_caller_id_name, queue: offer.queue};
}

// Fetched again at each event about this agent: answers can come back out of order, and
// only the latest asked for is shown (an older one would undo what a newer event showed).
let asked = 0;
async function refresh() {
  const mine = ++asked;
  try {
    const [a, calls, desk] = await Promise.all([get(base), get(`/tenants/${enc(tenant)}/calls`), get(`${base}/screen-pops`)]);
    if (mine !== asked) return;
    for (const member of pops.keys()) if (!calls.some((c) => c.uuid === member)) pops.delete(member); // gone
    // What each call's offer carried, kept by the server: a reloaded desk pops it again.
    for (const p of desk.pops) if (!pops.has(p.member) && Object.keys(p.variables).length) pops.set(p.member, p);
    showAgent(a);
    const current = calls.find((c) => c.agent === agentId) || null;
    const offer = calls.find((c) => c.agent !== agentId && (c.ringing || []).includes(agentId)) || null;
    showCall(current);
    showOffer(offer);
    // The card: of the call they are on, else the one ringing, else one handed to them.
    card.setZone(desk.timezone);
    const on = current || offer;
    card.show(on ? desk.pops.find((p) => p.member === on.uuid) : desk.pops.find((p) => p.handover)).catch(showError);
  } catch (err) {
    if (mine === asked) showError(err);
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

$('#dial-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  dialOut(ev.submitter, $('#dial-number').value.trim());
});

function live(status) {
  const p = $('#live');
  p.dataset.live = status;
  fill(p, t(`live.${status}`));
}

follow(tenant, {
  onStatus: live,
  onReset() {
    refresh();
    answerSide.reload();
  },
  onEvent(kind, data) {
    if (kind === 'queue') answerSide.onQueue(data);
    if (kind === 'ticket_escalated') {
      escalated.add(data);
      tickets.reload();
      return;
    }
    // The offer shows at once, with its screen pop; the refresh each event about this agent
    // asks for then says how the call stands (ringing, answered, ended).
    if (kind === 'offer' && data.agent === agentId) {
      pops.set(data.member, data);
      showOffer(offered(data));
    }
    if (kind === 'agent_state' && data.agent === agentId && !RINGS.has(data.state)) showOffer(null);
    const about = data.agent === agentId || (call && data.member === call.uuid) || (ringing && data.member === ringing.uuid);
    if (about) refresh();
  },
});

await refresh();
answerSide.reload();
myScores(me, tenant, agentId);
