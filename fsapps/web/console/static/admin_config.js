// Business hours and prompts, edited one at a time by the tenant admin: each change rewrites
// tenant.yaml's calendar or prompt and goes live as a flow upload does (checked first; its
// problems shown at tenant.yaml:line, nothing changed). A prompt is text the TTS speaks, or a
// recording uploaded as a WAV (the server checks it: 16-bit PCM, mono, 8 or 16 kHz).
import {api, get, enc} from './api.js';
import {t} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone} from './page.js';

let T = null;
let calendars = {};

function showProblems(list, err) {
  const problems = err && err.detail && Array.isArray(err.detail.problems) ? err.detail.problems : [];
  list.hidden = problems.length === 0;
  fill(list, problems.map((p) => h('li', {class: 'problem'}, `${p.file}:${p.line}:${p.column}: ${p.message}`)));
}

// Run the change; the API's problems (file:line) under the form, its error above.
async function live(button, list, fn) {
  showProblems(list, null);
  return act(button, async () => {
    try {
      return await fn();
    } catch (err) {
      showProblems(list, err);
      throw err;
    }
  });
}

// --- business hours ----------------------------------------------------------------------

function dayRow(days = '', hours = '') {
  const tr = h('tr', {class: 'day'},
    h('td', {}, h('input', {class: 'days', required: true, value: days, placeholder: 'mon-fri', 'aria-label': t('admin.days')})),
    h('td', {}, h('input', {class: 'hours', required: true, value: hours, placeholder: '09:00-12:00, 13:00-18:00',
      'aria-label': t('admin.hours')})),
    h('td', {}, h('button', {type: 'button', onclick: () => tr.remove()}, t('admin.remove'))));
  return tr;
}

function drawCalendar(name) {
  const cal = calendars[name] || {weekly: {}};
  $('#hours-name').value = name;
  $('#hours-name').readOnly = name in calendars;
  const rows = Object.entries(cal.weekly || {}).map(([days, hours]) => dayRow(days, [].concat(hours).join(', ')));
  fill($('#hours-days'), rows.length ? rows : [dayRow()]);
  $('#hours-holidays').value = (cal.holidays || []).join('\n');
  $('#hours-closed').value = (cal.closed || []).map((c) => `${c.from} / ${c.to}`).join('\n');
  $('#hours-editor').hidden = false;
}

async function listCalendars(pick) {
  try {
    calendars = (await get(T('/calendars'))).calendars;
    const names = Object.keys(calendars).sort();
    fill($('#hours-pick'), names.map((n) => h('option', {value: n}, n)), h('option', {value: ''}, t('admin.new_calendar')));
    const want = pick !== undefined ? pick : names[0] || '';
    $('#hours-pick').value = want;
    drawCalendar(want);
  } catch (err) {
    showError(err);
  }
}

$('#hours-pick').addEventListener('change', (ev) => drawCalendar(ev.target.value));
$('#hours-add-day').addEventListener('click', () => {
  const row = dayRow();
  $('#hours-days').append(row);
  row.querySelector('input').focus();
});

const lines = (text) => text.split('\n').map((x) => x.trim()).filter(Boolean);

$('#hours-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('#hours-name').value.trim();
  const weekly = Object.fromEntries([...$('#hours-days').querySelectorAll('tr.day')].map((tr) => [
    tr.querySelector('.days').value.trim().toLowerCase().replace(/\s+/g, ''),
    tr.querySelector('.hours').value.split(',').map((x) => x.trim()).filter(Boolean)]));
  const closed = lines($('#hours-closed').value).map((l) => {
    const [from, to] = l.split('/').map((x) => x.trim());
    return {from, to};
  });
  const body = {weekly, holidays: lines($('#hours-holidays').value), closed};
  const saved = await live(ev.submitter, $('#hours-problems'), () => api('PUT', T(`/calendars/${enc(name)}`), body));
  if (saved) {
    await listCalendars(name);
    showDone(t('admin.hours_saved', {name}));
  }
});

export function loadHours(tenantPath) {
  T = tenantPath;
  return listCalendars();
}

// --- prompts -----------------------------------------------------------------------------

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function putPrompt(button, name, body) {
  const saved = await live(button, $('#prompt-problems'), () => api('PUT', T(`/prompts/${enc(name)}`), body));
  if (saved) {
    await listPrompts(saved.prompts);
    showDone(t('admin.prompt_saved', {name}));
  }
  return saved;
}

async function recording(button, name, input) {
  const file = input.files[0];
  if (!file) {
    input.focus();
    return undefined;
  }
  return putPrompt(button, name, {wav: base64(new Uint8Array(await file.arrayBuffer()))});
}

function promptRow(name, p) {
  const text = h('input', {class: 'prompt-text', maxlength: 2000, value: p.text || '', 'aria-label': t('admin.prompt_text', {name})});
  const sayIt = h('button', {type: 'button', class: 'save-text'}, t('admin.save_text'));
  sayIt.addEventListener('click', () => putPrompt(sayIt, name, {text: text.value}));
  const file = h('input', {type: 'file', class: 'prompt-file', accept: '.wav,audio/wav', 'aria-label': t('admin.prompt_file', {name})});
  const upload = h('button', {type: 'button', class: 'upload'}, t('admin.upload_wav'));
  upload.addEventListener('click', () => recording(upload, name, file));
  // A recording plays in place (GET .../prompts/{name}/audio); a spoken prompt has none.
  const hear = p.file
    ? h('audio', {controls: true, preload: 'none', class: 'prompt-audio', src: `/api/v1${T(`/prompts/${enc(name)}/audio`)}`,
      'aria-label': t('cg.play_prompt', {name})})
    : null;
  const remove = h('button', {type: 'button', class: 'danger delete-prompt'}, t('cg.delete_prompt'));
  remove.addEventListener('click', () => deletePrompt(remove, name));
  return h('tr', {dataset: {prompt: name}},
    h('td', {}, name),
    h('td', {class: 'kind'}, p.file ? t('admin.recorded', {file: p.file}) : t('admin.spoken'), hear ? h('br') : null, hear),
    h('td', {}, text, ' ', sayIt), h('td', {}, file, ' ', upload, ' ', remove));
}

// Deleted from tenant.yaml and put live: a prompt a flow still plays comes back as problems.
async function deletePrompt(button, name) {
  if (!confirm(t('cg.delete_prompt_confirm', {name}))) return;
  const done = await live(button, $('#prompt-problems'), () => api('DELETE', T(`/prompts/${enc(name)}`)));
  if (done) {
    await listPrompts(done.prompts);
    showDone(t('cg.prompt_deleted', {name}));
  }
}

async function listPrompts(known) {
  try {
    const prompts = known || (await get(T('/prompts'))).prompts;
    fill($('#prompt-rows'), Object.keys(prompts).sort().map((n) => promptRow(n, prompts[n])));
  } catch (err) {
    showError(err);
  }
}

$('#prompt-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('#new-prompt-name').value.trim();
  const text = $('#new-prompt-text').value.trim();
  const done = $('#new-prompt-file').files.length
    ? await recording(ev.submitter, name, $('#new-prompt-file'))
    : await putPrompt(ev.submitter, name, {text});
  if (done !== undefined) ev.target.reset();
});

export function loadPrompts(tenantPath) {
  T = tenantPath;
  return listPrompts();
}
