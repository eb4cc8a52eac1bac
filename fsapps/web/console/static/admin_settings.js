// The tenant admin's console settings: the floor's stuck-agent limits (how long an agent may
// ring, talk, wrap up, sit idle after a call or stay on break before the supervisor's floor
// raises an alert), edited in minutes and kept by the API in seconds.
import {api, get} from './api.js';
import {t, label} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone} from './page.js';

const ACTIVITIES = ['ringing', 'talking', 'wrap_up', 'idle', 'on_break'];
let T = null;

function minutes(secs) {
  return String(Math.round((secs / 60) * 100) / 100);
}

function draw(settings) {
  fill($('#limit-fields'), ACTIVITIES.map((a) => h('label', {},
    label('activity', a), ' ',
    h('input', {id: `limit-${a}`, type: 'number', min: 0.25, max: 1440, step: 0.25, required: true,
      value: minutes(settings.stuck_limits[a]), 'aria-describedby': 'limits-unit'}))));
  fill($('#tenant-zone'), t('admin.timezone_is', {zone: settings.timezone}));
}

export async function loadSettings(tenantPath) {
  T = tenantPath;
  try {
    draw(await get(T('/console-settings')));
  } catch (err) {
    showError(err);
  }
}

$('#limits-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = Object.fromEntries(ACTIVITIES.map((a) => [a, Math.round(Number($(`#limit-${a}`).value) * 60)]));
  const saved = await act(ev.submitter, () => api('PATCH', T('/console-settings/stuck-limits'), body));
  if (saved) {
    draw(saved);
    showDone(t('admin.limits_saved'));
  }
});
