// The login: POST /api/v1/session sets the HttpOnly session cookie; then the page the
// role works on (or the page that sent the reader here).
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
    location.assign(next(me));
  } catch (err) {
    showError(err);
    $('#password').select();
  } finally {
    if (button) button.disabled = false;
  }
});

already();
