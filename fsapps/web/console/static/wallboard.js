// The wallboard: the tenant's queues' figures in large type for a TV, opened with a read-only
// wallboard token a tenant admin issued: /console/wallboard?tenant=<tenant>#<token>. The
// token rides in the address's fragment, which the browser never sends to the server (no
// access log, no Referer keeps it), and goes to the API as a bearer token, with no cookie.
//
// Fetched every 3 s: the event stream is a user's (a browser's EventSource cannot
// send a bearer token), and a wallboard token reads the queue figures and nothing else. A
// revoked token blanks the board at its next fetch.
import {get, enc, setBearer, ApiError} from './api.js';
import {t, seconds, errorText, setZone, timeOfDay} from './i18n.js';
import {$, h, fill} from './dom.js';
import {serviceLevelAlerts} from './alerts.js';

const REFRESH_MS = 3000; // a TV across the room: a few seconds behind is live enough
const tenant = new URLSearchParams(location.search).get('tenant') || '';
const token = decodeURIComponent(location.hash.slice(1)).replace(/^token=/, '');
let timer = null;

function say(err) {
  const {head, more} = errorText(err);
  fill($('#messages'), h('div', {class: 'message error', dataset: {code: err.code}}, h('strong', {}, head),
    more ? h('span', {class: 'more'}, more) : null));
}

function figure(name, value, extra = {}) {
  return h('div', {class: 'figure', dataset: {figure: name}, ...extra},
    h('span', {class: 'value'}, value), h('span', {class: 'what'}, t(`wallboard.${name}`)));
}

function tile(q, below) {
  const level = q.service_level === null ? '—' : `${q.service_level}%`;
  const on = (a) => q.agents[a] || 0;
  return h('section', {class: `tile${below ? ' alert' : ''}`, dataset: {queue: q.name}, 'aria-label': q.name},
    h('h2', {}, q.name),
    h('div', {class: 'figures'},
      figure('waiting', q.waiting, {class: `figure big${q.waiting > 0 ? ' busy' : ''}`}),
      figure('longest', seconds(q.longest_wait_seconds)),
      figure('service_level', level),
      figure('answered', q.answered),
      figure('abandoned', q.abandoned),
      figure('available', on('available')),
      figure('talking', on('talking') + on('ringing')),
      figure('away', on('wrap_up') + on('idle') + on('on_break'))),
    h('p', {class: 'target'}, t('wallboard.target', {target: q.service_level_target, seconds: q.service_level_seconds})),
    below ? h('p', {class: 'warning'}, t('wallboard.below_target')) : null);
}

async function refresh() {
  try {
    const queues = await get(`/tenants/${enc(tenant)}/queue-figures`);
    const below = new Set(serviceLevelAlerts(queues).map((x) => x.queue));
    fill($('#wall'), queues.map((q) => tile(q, below.has(q.name))));
    fill($('#messages'));
    const at = new Date();
    fill($('#updated'), t('wallboard.updated', {time: timeOfDay(at)}));
    $('#updated').dataset.updated = at.toISOString();
  } catch (err) {
    say(err instanceof ApiError ? err : new ApiError(0, 'network', String(err)));
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) {
      fill($('#wall')); // revoked, or not this tenant's: nothing stays on the screen
      clearInterval(timer);
    }
  }
}

fill($('#tenant-name'), tenant);
if (!token || !tenant) {
  say(new ApiError(0, 'wallboard_link', ''));
} else {
  setBearer(token);
  // The tenant's timezone, for the time of each update; the board works in the TV's without it.
  get(`/tenants/${enc(tenant)}/console-settings`).then((s) => setZone(s.timezone), () => {}).finally(() => {
    timer = setInterval(refresh, REFRESH_MS);
    refresh();
  });
}
