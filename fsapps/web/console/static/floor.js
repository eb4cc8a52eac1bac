// The supervisor's floor: the queues' figures (waiting, longest wait, today's service level
// against its target, abandoned, agents by what they do), the callers waiting (move them,
// raise or lower them), the agents as a live grid (what they do and for how long, their
// caller; force their status, listen, whisper, barge, hang up), and the alerts (alerts.js).
// Live through the event stream (events.js); while it is not there, fetched every few seconds.
import {api, get, enc, ApiError} from './api.js';
import {t, label, seconds} from './i18n.js';
import {$, $$, h, fill} from './dom.js';
import {start, act, showError, showDone, can, tenantOf, consoleSettings} from './page.js';
import {follow} from './events.js';
import {alerts, STUCK_SECONDS} from './alerts.js';
import {escalations} from './ticket_alerts.js';

const POLL_MS = 5000; // while the stream is not live
const STATUSES = ['Available', 'Available (On Demand)', 'On Break', 'Logged Out'];
const MONITOR = ['listen', 'whisper', 'barge'];
const MONITOR_KEY = 'fsapps.floor.monitor'; // where the supervisor listens from, kept in this browser

const me = await start();
const tenant = tenantOf(me);
const T = (path) => `/tenants/${enc(tenant || '')}${path}`;
const clock = () => Date.now() / 1000;
// The tenant admin's stuck-agent limits (GET .../console-settings); the built-in ones if unread.
const limits = (consoleSettings() || {}).stuck_limits || STUCK_SECONDS;

let figures = [];
let agents = []; // GET .../agents, each with `since` on this page's clock
let queues = [];
let calls = [];
let shownAlerts = '';
const escalated = escalations($('#tk2-escalations')); // tickets past due, told live

// An error met while refreshing on a timer is shown once, not at every try.
function quietly(err) {
  if (err instanceof ApiError && $(`.message.error[data-code="${CSS.escape(err.code)}"]`)) return;
  showError(err);
}

// Rows keyed by id: a row already there is updated in place, so a select or input the reader
// is using keeps its value while the figures around it change.
function keyed(container, items, keyOf, create, update) {
  const old = new Map($$(':scope > [data-key]', container).map((el) => [el.dataset.key, el]));
  let before = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let el = old.get(key);
    old.delete(key);
    if (!el) {
      el = create(item);
      el.dataset.key = key;
    }
    update(el, item);
    const want = before ? before.nextSibling : container.firstChild;
    if (el !== want) container.insertBefore(el, want);
    before = el;
  }
  for (const el of old.values()) el.remove();
}

// --- the queues ---------------------------------------------------------------------------

function agentsByState(q) {
  return Object.entries(q.agents).filter(([, n]) => n > 0).map(([a, n]) => `${label('activity', a)} ${n}`).join(' · ');
}

function serviceLevel(q) {
  if (q.service_level === null) return t('floor.no_calls_today');
  return t('floor.level_of_target', {level: q.service_level, target: q.service_level_target});
}

function drawQueues() {
  keyed($('#queue-rows'), figures, (q) => q.name, () => h('tr', {}),
    (tr, q) => {
      const below = q.service_level !== null && q.service_level < q.service_level_target;
      tr.dataset.queue = q.name;
      tr.classList.toggle('alert', below);
      fill(tr, h('th', {scope: 'row'}, q.name), h('td', {class: 'num', dataset: {figure: 'waiting'}}, q.waiting),
        h('td', {class: 'num'}, seconds(q.longest_wait_seconds)),
        h('td', {class: 'num', dataset: {figure: 'service_level'}}, serviceLevel(q)),
        h('td', {class: 'num'}, q.answered), h('td', {class: 'num', dataset: {figure: 'abandoned'}}, q.abandoned),
        h('td', {}, agentsByState(q)));
    });
}

// --- the callers waiting ------------------------------------------------------------------

function callerRow(c) {
  const tr = h('tr', {dataset: {caller: c.uuid}});
  const others = queues.map((q) => q.name).filter((n) => n !== c.queue);
  const prio = h('input', {type: 'number', min: -1000, max: 1000, value: c.priority, class: 'prio',
    'aria-label': t('queues.priority')});
  const to = h('select', {class: 'move-to', 'aria-label': t('floor.move_to')}, others.map((n) => h('option', {value: n}, n)));
  // The cells with controls are made once; the others change in place (focus stays put).
  tr._text = [0, 1, 2, 3, 4].map(() => h('td', {}));
  tr._text[4].className = 'num wait';
  tr.append(...tr._text,
    h('td', {}, can(me, 'queue.priority') ? [prio, h('button', {type: 'button', class: 'set-prio',
      onclick: (ev) => setPriority(ev.currentTarget, c, prio.value)}, t('floor.set'))] : String(c.priority)),
    h('td', {}, can(me, 'call.move') && others.length ? [to, h('button', {type: 'button', class: 'move',
      onclick: (ev) => move(ev.currentTarget, c, to.value)}, t('floor.move'))] : null));
  return tr;
}

function drawCallers() {
  const waiting = queues.flatMap((q) => q.callers.filter((c) => c.state !== 'Answered').map((c) => ({...c, queue: q.name})));
  $('#no-callers').hidden = waiting.length > 0;
  $('#callers-table').hidden = waiting.length === 0;
  const since = clock();
  keyed($('#caller-rows'), waiting, (c) => `${c.queue}/${c.uuid}`, callerRow, (tr, c) => {
    c.joined = since - c.wait_seconds;
    tr._caller = c;
    const text = [c.queue, c.position ?? '', c.number || t('call.unknown'), label('callstate', c.state), seconds(c.wait_seconds)];
    text.forEach((v, i) => fill(tr._text[i], v));
  });
}

async function move(button, c, to) {
  if (!to) return;
  const done = await act(button, async () => (await api('POST', T(`/queues/${enc(c.queue)}/callers/${enc(c.uuid)}/move`), {queue: to})) ?? true);
  if (done !== undefined) {
    showDone(t('floor.moved', {number: c.number || t('call.unknown'), queue: to}));
    refresh();
  }
}

async function setPriority(button, c, value) {
  const priority = Number.parseInt(value, 10);
  const done = await act(button, async () => (await api('PUT', T(`/queues/${enc(c.queue)}/callers/${enc(c.uuid)}/priority`), {priority})) ?? true);
  if (done !== undefined) {
    showDone(t('floor.priority_set', {number: c.number || t('call.unknown'), priority}));
    refresh();
  }
}

// --- the agents ---------------------------------------------------------------------------

function callOf(a) {
  return calls.find((c) => c.agent === a.id) || calls.find((c) => (c.ringing || []).includes(a.id)) || null;
}

function monitorTarget() {
  const value = $('#monitor-value').value.trim();
  return value ? {[$('#monitor-kind').value]: value} : null;
}

async function onCall(button, a, op) {
  let body;
  if (MONITOR.includes(op)) {
    body = monitorTarget();
    if (!body) {
      $('#monitor-value').focus();
      showError(new ApiError(0, 'monitor_phone_missing', ''));
      return;
    }
  }
  const done = await act(button, async () => (await api('POST', T(`/agents/${enc(a.id)}/call/${op}`), body)) ?? true);
  if (done !== undefined) {
    showDone(t('floor.op_done', {op: t(`op.${op}`), agent: a.name}));
    refresh();
  }
}

async function force(button, a, status) {
  const got = await act(button, () => api('PUT', T(`/agents/${enc(a.id)}/status`), {status}));
  if (got) {
    showDone(t('floor.status_forced', {agent: a.name, status: label('status', got.status)}));
    refresh();
  }
}

function agentCard(a) {
  const li = h('li', {class: 'agent', dataset: {agent: a.id}});
  const pick = h('select', {class: 'force-status', 'aria-label': t('floor.force_status')},
    STATUSES.map((s) => h('option', {value: s}, label('status', s))));
  li._controls = can(me, 'agent.status')
    ? h('div', {class: 'actions'}, pick, h('button', {type: 'button', class: 'force',
      onclick: (ev) => force(ev.currentTarget, li._agent, pick.value)}, t('floor.force')))
    : null;
  li._timer = h('span', {class: 'timer'});
  li._parts = {head: h('div', {class: 'agent-head'}), doing: h('div', {class: 'doing'}), caller: h('div', {class: 'caller'}),
    why: h('div', {class: 'muted'}), ops: h('div', {class: 'actions call-ops'})};
  li.append(...Object.values(li._parts));
  if (li._controls) li.append(li._controls);
  return li;
}

// A call no queue made (a transfer straight to the agent, a dial-out): its number and way.
function directCall(a) {
  if (!a.direct_call) return h('span', {class: 'muted'}, t('floor.no_call'));
  const d = a.direct_call;
  return h('span', {class: 'direct-call', dataset: {direction: d.direction}},
    `${d.number || t('call.unknown')} · ${t(`cg.direct_call.${d.direction}`)}`);
}

function drawAgents() {
  keyed($('#agent-grid'), agents, (a) => a.id, agentCard, (li, a) => {
    li._agent = a;
    li.dataset.activity = a.activity;
    const call = callOf(a);
    const onIt = call && call.agent === a.id;
    const ops = [];
    // A call no queue made (a transfer to them, a dial-out) is listened to as a queue call is.
    if ((onIt || (!call && a.direct_call)) && can(me, 'call.monitor')) {
      for (const op of MONITOR) ops.push(h('button', {type: 'button', dataset: {op}, onclick: (ev) => onCall(ev.currentTarget, a, op)}, t(`op.${op}`)));
    }
    if ((onIt || (!call && a.direct_call)) && can(me, 'call.control')) {
      ops.push(h('button', {type: 'button', class: 'danger', dataset: {op: 'hangup'},
        onclick: (ev) => onCall(ev.currentTarget, a, 'hangup')}, t('floor.force_hangup')));
    }
    const p = li._parts;
    fill(p.head, h('strong', {}, a.name), ' ', h('span', {class: 'muted'}, a.id));
    fill(p.doing, h('span', {class: 'badge', dataset: {activity: a.activity}}, label('activity', a.activity)), ' ', li._timer);
    fill(p.caller, call ? `${call.number || t('call.unknown')} · ${call.queue}` : directCall(a));
    fill(p.why, a.status === 'On Break' && a.break_reason ? t('agent.because', {reason: a.break_reason}) : '');
    p.why.hidden = !(a.status === 'On Break' && a.break_reason);
    fill(p.ops, ops);
    p.ops.hidden = ops.length === 0;
  });
  tick();
}

// --- alerts, and the clock ----------------------------------------------------------------

function alertText(x) {
  if (x.kind === 'service_level') return t('alert.service_level', {queue: x.queue, level: x.level, target: x.target});
  const a = agents.find((y) => y.id === x.agent);
  return t('alert.stuck', {agent: a ? a.name : x.agent, activity: label('activity', x.activity), limit: seconds(x.limit)});
}

function tick() {
  const now = clock();
  for (const li of $$('#agent-grid > li')) fill(li._timer, seconds(now - li._agent.since));
  for (const tr of $$('#caller-rows > tr')) fill(tr._text[4], seconds(now - tr._caller.joined));
  const list = alerts(figures, agents, now, limits);
  const key = JSON.stringify([escalated.count(), list.map((x) => [x.kind, x.queue, x.agent, x.activity, x.level])]);
  if (key === shownAlerts) return;
  shownAlerts = key;
  fill($('#alerts'), list.map((x) => h('li', {class: `alert ${x.kind}`, dataset: {alert: x.kind, queue: x.queue, agent: x.agent}},
    alertText(x))));
  const raised = list.length + escalated.count() > 0;
  $('#no-alerts').hidden = raised;
  $('#alerts-card').classList.toggle('raised', raised);
}

// --- fetching -----------------------------------------------------------------------------

async function refresh() {
  try {
    const [f, a, q, c] = await Promise.all([get(T('/queue-figures')), get(T('/agents')), get(T('/queues')), get(T('/calls'))]);
    const at = clock();
    figures = f;
    agents = a.map((x) => ({...x, since: at - x.activity_seconds}));
    queues = q;
    calls = c;
    drawQueues();
    drawCallers();
    drawAgents();
  } catch (err) {
    quietly(err);
  }
}

// At each event, a fetch at once; events that come while it runs cost one more after it (a
// burst of them: two fetches), so the page is one fetch behind the stream at most.
let fetching = false;
let stale = false;
function soon() {
  if (fetching) {
    stale = true;
    return;
  }
  fetching = true;
  refresh().finally(() => {
    fetching = false;
    if (stale) {
      stale = false;
      soon();
    }
  });
}

async function pickTenant() {
  $('#pick-tenant').hidden = false;
  $('#live').hidden = true;
  try {
    const tenants = await get('/tenants');
    fill($('#tenant-list'), tenants.map((x) => h('li', {}, h('a', {href: `?tenant=${enc(x.id)}`}, `${x.name} (${x.id})`))));
  } catch (err) {
    showError(err);
  }
}

if (!tenant) {
  await pickTenant();
} else {
  fill($('#tenant-name'), tenant);
  $('#floor').hidden = false;
  $('#to-tenant').hidden = false;
  $('#to-tenant').href = `/console/tenant?tenant=${enc(tenant)}`;
  $('#monitor-form').hidden = !can(me, 'call.monitor');
  const kept = JSON.parse(localStorage.getItem(MONITOR_KEY) || 'null');
  if (kept) {
    $('#monitor-kind').value = kept.kind;
    $('#monitor-value').value = kept.value;
  }
  $('#monitor-form').addEventListener('change', () => localStorage.setItem(MONITOR_KEY,
    JSON.stringify({kind: $('#monitor-kind').value, value: $('#monitor-value').value.trim()})));
  $('#monitor-form').addEventListener('submit', (ev) => ev.preventDefault());

  let live = 'connecting';
  follow(tenant, {
    onStatus(s) {
      live = s;
      const p = $('#live');
      p.dataset.live = s;
      fill(p, t(`live.${s}`));
    },
    onEvent(kind, data) {
      if (kind !== 'ticket_escalated') return soon();
      escalated.add(data);
      tick();
    },
    onReset: soon,
  });
  setInterval(() => live !== 'live' && refresh(), POLL_MS);
  setInterval(tick, 1000);
  await refresh();
}
