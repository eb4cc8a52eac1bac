// The tenant's pages: flows (upload, with check's problems at file:line:column), agents,
// queues with their callers, blacklist, outage notices, the month's statement and usage.
// A section shows only if the reader's role may read it, its forms only if it may change it.
import {api, get, enc} from './api.js';
import {t, label, seconds, when, instant, nextDay} from './i18n.js';
import {$, $$, h, fill} from './dom.js';
import {start, act, showError, showDone, can, tenantOf} from './page.js';
import {follow} from './events.js';
import {loadScorecards} from './qa_scorecards.js';
import {webhookSection} from './webhook.js';
import {install as installKnowledge} from './tenant_kb.js';
import {tenantTickets} from './tickets.js';
import {loadUsers} from './admin_users.js';
import {loadStaff} from './admin_staff.js';
import {loadSettings} from './admin_settings.js';
import {loadHours, loadPrompts} from './admin_config.js';
import {surveys} from './tenant_surveys.js';

const me = await start();
const tenant = tenantOf(me);
const T = (path) => `/tenants/${enc(tenant || '')}${path}`;

// section -> the action that lets the reader see it
const READ = {flows: 'flows.read', agents: 'agents.list', queues: 'queues.list', recordings: 'recordings.read',
  blacklist: 'blacklist.read',
  outages: 'outages.read', billing: 'statement.read', wallboards: 'wallboards.manage',
  scorecards: 'qa_scorecards.write', 'crm-webhook': 'webhook.manage',
  tickets: 'tickets.read', users: 'users.list', staff: 'agents.write', hours: 'flows.write',
  prompts: 'flows.write', settings: 'console_settings.write', surveys: 'surveys.read'};
const loaders = {};
loaders.scorecards = () => loadScorecards(T);
loaders.users = () => loadUsers(T, me);
loaders.staff = () => loadStaff(T);
loaders.settings = () => loadSettings(T);
loaders.hours = () => loadHours(T);
loaders.prompts = () => loadPrompts(T);
loaders.surveys = surveys(T);
const loaded = new Set();
// The knowledge base and call scripts, disposition codes and their setting (tenant_kb.js).
Object.assign(READ, {knowledge: 'kb.write', wrapup: 'wrapup_codes.write'});
installKnowledge(me, T, loaders);

async function pickTenant() {
  $('#pick-tenant').hidden = false;
  try {
    const tenants = await get('/tenants');
    fill($('#tenant-list'), tenants.map((x) => h('li', {}, h('a', {href: `?tenant=${enc(x.id)}`}, `${x.name} (${x.id})`))));
  } catch (err) {
    showError(err);
  }
}

function show(name) {
  for (const a of $$('#tabs a')) a.setAttribute('aria-current', a.dataset.tab === name ? 'page' : 'false');
  for (const s of $$('section.tab')) s.hidden = s.id !== name;
  if (!loaded.has(name)) {
    loaded.add(name);
    // The sections drawn once, on <body data-drawn>: what a section's first fetch shows in
    // the messages area comes in above the tabs and moves them, so whatever clicks a tab
    // at once (the browser tests) waits for the first section to be drawn.
    Promise.resolve(loaders[name]()).finally(() => {
      document.body.dataset.drawn = `${document.body.dataset.drawn || ''} ${name}`.trim();
    });
  }
}

// --- flows -------------------------------------------------------------------------------

let files = {}; // name -> its textarea

function editor(name, text) {
  const area = h('textarea', {id: `file-${name}`, 'data-file': name, spellcheck: 'false', rows: 14, 'aria-label': name});
  area.value = text;
  files[name] = area;
  return h('details', {open: true, class: 'file'}, h('summary', {}, name), area);
}

async function loadFlows() {
  try {
    const live = await get(T('/flows'));
    files = {};
    // tenant.yaml first, then the flows by name
    const names = Object.keys(live.files).sort((x, y) => (x === 'tenant.yaml' ? -1 : y === 'tenant.yaml' ? 1 : x.localeCompare(y)));
    fill($('#flow-files'), names.map((name) => editor(name, live.files[name])));
  } catch (err) {
    showError(err);
  }
  $('#flows-upload').hidden = !can(me, 'flows.write');
  $('.file input', $('#flows')).parentElement.hidden = !can(me, 'flows.write');
}

// The problem's place in its editor: select the line, so the reader lands on it.
function goTo(p) {
  const area = files[p.file];
  if (!area) return;
  area.closest('details').open = true;
  const lines = area.value.split('\n');
  const from = lines.slice(0, Math.max(0, (p.line || 1) - 1)).reduce((n, l) => n + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(from, from + (lines[(p.line || 1) - 1] || '').length);
}

function showProblems(problems) {
  const list = $('#problems');
  list.hidden = problems.length === 0;
  fill(list, problems.map((p) => h('li', {class: 'problem'},
    h('a', {href: '#flows', onclick: (ev) => { ev.preventDefault(); goTo(p); }},
      `${p.file}:${p.line}:${p.column}`), ': ', p.message)));
}

$('#flows-upload').addEventListener('click', async (ev) => {
  showProblems([]);
  const body = {files: Object.fromEntries(Object.entries(files).map(([name, area]) => [name, area.value]))};
  const button = ev.currentTarget;
  button.disabled = true;
  try {
    const live = await api('PUT', T('/flows'), body);
    showDone(t('flows.live', {flows: live.flows.join(', '), queues: live.queues.join(', ')}));
  } catch (err) {
    showError(err);
    if (err.detail && Array.isArray(err.detail.problems)) showProblems(err.detail.problems);
  } finally {
    button.disabled = false;
  }
});

$('#flows-reload').addEventListener('click', () => {
  showProblems([]);
  loadFlows();
});

// A YAML file from disk: tenant.yaml is itself, any other is one of the flows.
$('#flow-file-input').addEventListener('change', async (ev) => {
  for (const f of ev.target.files) {
    const name = f.name === 'tenant.yaml' ? 'tenant.yaml' : `flows/${f.name.replace(/\.yml$/, '.yaml')}`;
    const text = await f.text();
    if (files[name]) files[name].value = text;
    else $('#flow-files').append(editor(name, text));
  }
  ev.target.value = '';
});

loaders.flows = loadFlows;

// --- agents ------------------------------------------------------------------------------

loaders.agents = async () => {
  try {
    const agents = await get(T('/agents'));
    fill($('#agents-rows'), agents.map((a) => h('tr', {dataset: {agent: a.id}},
      h('td', {}, a.id), h('td', {}, a.name),
      h('td', {}, h('span', {class: 'badge', dataset: {status: a.status}}, label('status', a.status)),
        a.status === 'On Break' && a.break_reason ? h('span', {class: 'muted'}, ` ${t('agent.because', {reason: a.break_reason})}`) : null),
      h('td', {}, label('state', a.state)),
      h('td', {}, Object.entries(a.skills || {}).map(([s, p]) => `${s} ${p}`).join(', ')),
      h('td', {}, (a.tiers || []).map((x) => x.queue).join(', ')))));
  } catch (err) {
    showError(err);
  }
};

// --- queues ------------------------------------------------------------------------------

const CALLER_COLUMNS = ['queues.position', 'call.number', 'call.state', 'queues.priority', 'queues.wait', 'queues.agent'];

function callers(q) {
  if (q.callers.length === 0) return h('p', {class: 'muted'}, t('queues.empty'));
  const rows = q.callers.map((c) => h('tr', {dataset: {caller: c.uuid}},
    h('td', {}, c.position ?? ''), h('td', {}, c.number || t('call.unknown')), h('td', {}, label('callstate', c.state)),
    h('td', {}, c.priority), h('td', {}, seconds(c.wait_seconds)), h('td', {}, c.agent || '')));
  return h('table', {}, h('thead', {}, h('tr', {}, CALLER_COLUMNS.map((k) => h('th', {}, t(k))))), h('tbody', {}, rows));
}

loaders.queues = async () => {
  try {
    const queues = await get(T('/queues'));
    fill($('#queues-list'), queues.map((q) => h('div', {class: 'queue', dataset: {queue: q.name}},
      h('h3', {}, q.name, ' ', h('span', {class: 'muted'}, t('queues.waiting', {n: q.waiting}))), callers(q))));
  } catch (err) {
    showError(err);
  }
};

// --- recordings --------------------------------------------------------------------------

// A day picked, as the instant it starts (from) or ends (to) in the tenant's zone.
function dayBound(value, end) {
  if (!value) return null;
  return instant(end ? nextDay(value) : value);
}

loaders.recordings = async () => {
  // Scoring them is the QA page's (qa.js), for whoever may score.
  $('#to-qa').hidden = !can(me, 'qa_evaluations.write');
  $('#to-qa a').href = `/console/qa?tenant=${enc(tenant)}`;
  const q = new URLSearchParams();
  const agent = $('#rec-agent').value.trim();
  const number = $('#rec-number').value.trim();
  if (agent) q.set('agent', agent);
  if (number) q.set('number', number);
  const from = dayBound($('#rec-from').value, false);
  const to = dayBound($('#rec-to').value, true);
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  try {
    const rows = await get(T(`/recordings?${q}`));
    $('#no-recordings').hidden = rows.length > 0;
    // The audio streams from the API (range requests), with the session cookie: played in place.
    fill($('#recording-rows'), rows.map((r) => h('tr', {dataset: {recording: r.id}},
      h('td', {}, when(r.joined_at)), h('td', {}, r.queue), h('td', {}, r.agent_id || ''), h('td', {}, r.caller || ''),
      h('td', {class: 'num'}, seconds(r.talk_seconds)),
      h('td', {}, h('audio', {controls: true, preload: 'none', src: `/api/v1${T(`/recordings/${enc(r.id)}/audio`)}`})))));
  } catch (err) {
    showError(err);
  }
};

$('#recordings-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loaders.recordings();
});

// --- blacklist ---------------------------------------------------------------------------

loaders.blacklist = async () => {
  const writes = can(me, 'blacklist.write');
  $('#blacklist-form').hidden = !writes;
  try {
    const rows = await get(T('/blacklist'));
    fill($('#blacklist-rows'), rows.map((r) => h('tr', {dataset: {number: r.number}},
      h('td', {}, r.number), h('td', {}, label('match', r.match)), h('td', {}, r.reason), h('td', {}, when(r.expires_at)),
      h('td', {}, writes ? h('button', {type: 'button', class: 'danger', onclick: (ev) => removeBlacklisted(ev.currentTarget, r)},
        t('blacklist.remove')) : null))));
  } catch (err) {
    showError(err);
  }
};

async function removeBlacklisted(button, r) {
  if ((await act(button, () => api('DELETE', T(`/blacklist/${enc(r.number)}?match=${enc(r.match)}`)))) !== undefined) {
    showDone(t('blacklist.removed', {number: r.number}));
    loaders.blacklist();
  }
}

$('#blacklist-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const number = $('#bl-number').value.trim();
  const body = {match: $('#bl-match').value, reason: $('#bl-reason').value};
  if ((await act(ev.submitter, () => api('PUT', T(`/blacklist/${enc(number)}`), body))) !== undefined) {
    showDone(t('blacklist.added', {number}));
    ev.target.reset();
    loaders.blacklist();
  }
});

// --- outage notices ----------------------------------------------------------------------

loaders.outages = async () => {
  const writes = can(me, 'outages.write');
  $('#outage-form').hidden = !writes;
  try {
    const rows = await get(T('/outages'));
    fill($('#outage-rows'), rows.map((o) => h('tr', {dataset: {outage: o.id}},
      h('td', {}, `${label('area', o.area_kind)} ${o.area}`), h('td', {}, o.message), h('td', {}, when(o.starts_at)),
      h('td', {}, when(o.ends_at)),
      h('td', {}, writes ? h('button', {type: 'button', class: 'danger', onclick: (ev) => endOutage(ev.currentTarget, o)},
        t('outages.end')) : null))));
  } catch (err) {
    showError(err);
  }
};

async function endOutage(button, o) {
  if ((await act(button, () => api('DELETE', T(`/outages/${o.id}`)))) !== undefined) {
    showDone(t('outages.ended'));
    loaders.outages();
  }
}

$('#outage-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const ends = instant($('#out-ends').value); // the tenant's time, as every time on the page
  const body = {area_kind: $('#out-kind').value, area: $('#out-area').value.trim(), message: $('#out-message').value.trim(),
    ends_at: ends || ''};
  if ((await act(ev.submitter, () => api('POST', T('/outages'), body))) !== undefined) {
    showDone(t('outages.added'));
    ev.target.reset();
    loaders.outages();
  }
});

// --- the month's statement and usage -----------------------------------------------------

function thisMonth() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

async function loadBilling(month) {
  const [y, m] = month.split('-').map(Number);
  const from = new Date(Date.UTC(y, m - 1, 1)).toISOString();
  const to = new Date(Date.UTC(y, m, 1)).toISOString();
  try {
    const st = await get(T(`/statements/${enc(month)}`));
    fill($('#statement-rows'), st.lines.map((l) => h('tr', {},
      h('td', {}, l.description), h('td', {}, `${l.quantity} ${l.unit}`), h('td', {}, l.unit_price), h('td', {class: 'num'}, l.amount))));
    fill($('#statement-total'), `${st.total} ${st.currency}`);
  } catch (err) {
    fill($('#statement-rows'));
    fill($('#statement-total'));
    showError(err);
  }
  if (!can(me, 'usage.read')) return;
  try {
    const usage = await get(T(`/usage?from=${enc(from)}&to=${enc(to)}`));
    const sums = new Map();
    for (const u of usage) {
      const key = `${u.resource}\u0000${u.kind}\u0000${u.unit}`;
      const s = sums.get(key) || {resource: u.resource, kind: u.kind, unit: u.unit, n: 0, workload: 0};
      s.n += 1;
      s.workload += Number(u.workload);
      sums.set(key, s);
    }
    fill($('#usage-rows'), [...sums.values()].map((s) => h('tr', {},
      h('td', {}, s.resource), h('td', {}, s.kind), h('td', {class: 'num'}, s.n), h('td', {class: 'num'}, `${s.workload} ${s.unit}`))));
  } catch (err) {
    showError(err);
  }
}

$('#month-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loadBilling($('#month').value);
});

loaders.billing = () => {
  $('#month').value = $('#month').value || thisMonth();
  return loadBilling($('#month').value);
};

// --- wallboards: read-only tokens for the TVs on the floor --------------------------------

loaders.wallboards = async () => {
  try {
    const rows = await get(T('/wallboards'));
    fill($('#wallboard-rows'), rows.map((w) => h('tr', {dataset: {wallboard: w.id}},
      h('td', {}, w.name), h('td', {}, when(w.created_at)), h('td', {}, when(w.revoked_at)),
      h('td', {}, w.revoked_at ? null : h('button', {type: 'button', class: 'danger',
        onclick: (ev) => revokeWallboard(ev.currentTarget, w)}, t('wallboards.revoke'))))));
  } catch (err) {
    showError(err);
  }
};

async function revokeWallboard(button, w) {
  if ((await act(button, () => api('DELETE', T(`/wallboards/${w.id}`)))) !== undefined) {
    showDone(t('wallboards.revoked_done', {name: w.name}));
    loaders.wallboards();
  }
}

// The token is shown once, as the link that opens the wallboard (the token in its fragment).
$('#wallboard-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const issued = await act(ev.submitter, () => api('POST', T('/wallboards'), {name: $('#wb-name').value.trim()}));
  if (issued) {
    const link = `${location.origin}/console/wallboard?tenant=${enc(tenant)}#${issued.token}`;
    $('#wallboard-link').value = link;
    $('#wallboard-issued').hidden = false;
    $('#wallboard-link').select();
    ev.target.reset();
    loaders.wallboards();
  }
});

// --- the CRM webhook (webhook.js) ---------------------------------------------------------

loaders['crm-webhook'] = webhookSection(T);

loaders.tickets = async () => tenantTickets(me, tenant); // fsapps/web/console/static/tickets.js

// --- which sections ----------------------------------------------------------------------

if (!tenant) {
  await pickTenant();
} else {
  fill($('#tenant-name'), tenant);
  const mine = Object.keys(READ).filter((s) => can(me, READ[s]));
  for (const a of $$('#tabs a')) a.hidden = !mine.includes(a.dataset.tab);
  $('#tabs').hidden = mine.length === 0;
  $('#nothing-here').hidden = mine.length > 0;
  const pick = () => {
    const want = location.hash.slice(1);
    if (mine.length) show(mine.includes(want) ? want : mine[0]);
  };
  window.addEventListener('hashchange', pick);
  pick();
  // Agents and queues follow the live events (without a stream, each try refetches them);
  // the other sections change only by the reader's hand, and a flow being edited is theirs.
  const LIVE = {agents: ['agent_state'], queues: ['queue', 'member', 'leg']};
  // A section is fetched at once; events that come while it is fetched cost one more fetch
  // after it (a burst: two), so it is one fetch behind the stream at most.
  const fetching = new Set();
  const stale = new Set();
  const refetch = (section) => {
    if (fetching.has(section)) {
      stale.add(section);
      return;
    }
    fetching.add(section);
    loaders[section]().finally(() => {
      fetching.delete(section);
      if (stale.delete(section)) refetch(section);
    });
  };
  const again = (kind) => {
    for (const [section, kinds] of Object.entries(LIVE)) {
      if (!loaded.has(section) || $(`#${section}`).hidden) continue;
      if (kind === null || kinds.includes(kind)) refetch(section);
    }
  };
  if (mine.includes('agents') || mine.includes('queues')) {
    const live = $('#live');
    live.hidden = false;
    const onStatus = (s) => {
      live.dataset.live = s;
      fill(live, t(`live.${s}`));
    };
    follow(tenant, {onEvent: (kind) => again(kind), onReset: () => again(null), onStatus});
  }
}
