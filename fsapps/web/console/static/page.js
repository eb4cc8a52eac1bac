// What every page but the login does first: who is reading (GET /api/v1/session, which
// also gives the CSRF token), the header, the messages area, and what the role may do.
import {api, get, setCsrf, ApiError} from './api.js';
import {t, errorText, setZone} from './i18n.js';
import {$, h, fill} from './dom.js';

const policy = JSON.parse(document.getElementById('policy').textContent);

// Whether the reader's role may take the action at all (fsapps.web.policy's rules; the
// operator may take every one). Within their tenant, group or self the API narrows it.
export function can(me, action) {
  if (!(action in policy)) throw new Error(`unknown action ${action}`);
  return me.role === 'operator' || policy[action].includes(me.role);
}

// The page a role works on.
export function landing(me) {
  return {agent: '/console/agent', supervisor: '/console/floor', qa: '/console/qa'}[me.role] || '/console/tenant';
}

// Set once the reader logs out: a request of the page's refused meanwhile (its session
// is gone) must not send them to the login with this page as ?next=.
let leaving = false;

export function loginUrl() {
  const here = location.pathname + location.search + location.hash;
  return `/console/?next=${encodeURIComponent(here)}`;
}

export function showError(err) {
  if (err instanceof ApiError && (err.code === 'unauthenticated' || err.code === 'session_expired')) {
    if (!leaving) location.assign(loginUrl());
    return;
  }
  if (!(err instanceof ApiError)) console.error(err);
  const {head, more} = err instanceof ApiError ? errorText(err) : {head: t('error.unknown', {code: '?', status: '?'}), more: String(err)};
  // A page's requests refused alike (another tenant's page asks for its notices and its
  // tickets): the same message once, not once per request.
  const said = `${head}\n${more || ''}`;
  const shown = [...$('#messages').querySelectorAll('.message.error')];
  if (shown.some((m) => m.dataset.code === (err.code || '') && m.dataset.said === said)) return;
  const box = h('div', {class: 'message error', dataset: {code: err.code || '', said}},
    h('strong', {}, head), more ? h('span', {class: 'more'}, more) : null,
    h('button', {type: 'button', class: 'close', 'aria-label': t('nav.dismiss'), onclick: () => box.remove()}, '×'));
  $('#messages').append(box);
}

export function showDone(text) {
  const box = h('div', {class: 'message done'}, text);
  $('#messages').append(box);
  setTimeout(() => box.remove(), 4000);
}

export function clearMessages() {
  fill($('#messages'));
}

// Run an action from a button: messages cleared, the button held while it runs, errors shown.
export async function act(button, fn) {
  clearMessages();
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export async function start() {
  let me;
  try {
    me = await get('/session');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      location.assign(loginUrl());
      return new Promise(() => {}); // leaving
    }
    showError(err);
    throw err;
  }
  setCsrf(me.csrf_token);
  await loadSettings(tenantOf(me));
  const who = $('#whoami');
  fill(who, t('nav.signed_in', {user: me.username, role: t(`role.${me.role}`)}));
  who.hidden = false;
  const out = $('#logout');
  out.hidden = false;
  out.addEventListener('click', async () => {
    leaving = true;
    await act(out, () => api('DELETE', '/session'));
    location.assign('/console/');
  });
  return me;
}

// The tenant the page acts in: ?tenant= (an operator picks one), else the reader's own.
export function tenantOf(me) {
  return new URLSearchParams(location.search).get('tenant') || me.tenant;
}

// The tenant's console settings (its timezone, the floor's stuck-agent limits), read once
// before the page draws anything, so every time on it is in the tenant's zone.
let settings = null;

export function consoleSettings() {
  return settings;
}

async function loadSettings(tenant) {
  if (!tenant) return;
  try {
    settings = await get(`/tenants/${encodeURIComponent(tenant)}/console-settings`);
    setZone(settings.timezone);
  } catch (err) {
    showError(err); // the page still works, with times in the browser's zone
  }
}
