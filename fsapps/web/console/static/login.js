// The login: POST /api/v1/session sets the HttpOnly session cookie; then the page the
// role works on (or the page that sent the reader here), in the language the tenant admin set
// for the user, if they set one (?lang= keeps it in the console's cookie from then on).
import {api, get, ApiError} from './api.js';
import {landing, showError, clearMessages} from './page.js';
import {$} from './dom.js';

function next(me) {
  const asked = new URLSearchParams(location.search).get('next') || '';
  // Only a page of the console: never another site, never a scheme.
  return /^\/console\/[A-Za-z0-9/_?=&#%.-]*$/.test(asked) && !asked.startsWith('/console//') ? asked : landing(me);
}

async function already() {
  try {
    const me = await get('/session');
    location.assign(next(me));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showError(err);
  }
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const button = ev.submitter;
  if (button) button.disabled = true;
  try {
    const me = await api('POST', '/session', {username: $('#username').value, password: $('#password').value});
    const to = new URL(next(me), location.origin);
    if (me.language) to.searchParams.set('lang', me.language);
    location.assign(to.pathname + to.search + to.hash);
  } catch (err) {
    showError(err);
    $('#password').select();
  } finally {
    if (button) button.disabled = false;
  }
});

already();
