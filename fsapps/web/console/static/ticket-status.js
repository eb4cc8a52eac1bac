// The status link's page (no login, read-only): #<tenant>/<token>. The fragment never
// leaves the browser but in the API call; the page shows the state and its changes, no notes.
import {get, enc, ApiError} from './api.js';
import {t, label, when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {showError} from './page.js';

const [tenant, token] = location.hash.slice(1).split('/');

async function load() {
  try {
    const k = await get(`/public/tenants/${enc(tenant || '')}/ticket-status/${enc(token || '')}`);
    fill($('#ticket-heading'), t('ticket.status_of', {number: k.number, subject: k.subject}));
    const now = fill($('#ticket-now'), t('ticket.status_now', {state: label('ticket.state', k.state)}));
    now.dataset.state = k.state;
    fill($('#ticket-opened'), when(k.created_at));
    fill($('#ticket-updated'), when(k.updated_at));
    fill($('#ticket-changes'), k.changes.map((c) => h('li', {}, `${when(c.at)} · ${label('ticket.state', c.state)}`)));
    $('#ticket-status').hidden = false;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) $('#ticket-missing').hidden = false;
    else showError(err);
  }
}

// The language links (?lang=) would drop the fragment, and with it the ticket: they keep it.
for (const a of document.querySelectorAll('a[data-lang]')) a.href += location.hash;
window.addEventListener('hashchange', () => location.reload());
load();
