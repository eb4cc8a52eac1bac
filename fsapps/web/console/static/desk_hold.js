// Two answer-side operations of the agent's desk: Hold / Resume on the agent's call
// (POST .../call/hold and .../call/unhold: the caller hears the queue's hold music, the
// agent hears nothing of them), and Pick up a call of the agent's queues ringing at a
// colleague's phone (GET .../pickups lists them, POST .../call/pickup takes one onto this
// agent's phone). Whether the call is held is the live call's `held` (GET .../calls), so a
// reloaded desk shows it as the switch has it.
import {api, get} from './api.js';
import {t, seconds} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showDone, showError, can} from './page.js';

// base: '/tenants/{tenant}/agents/{agent}'; refresh: the desk's own fetch of its call.
export function holdAndPickup(me, base, refresh) {
  const hold = $('#dh-hold');
  const resume = $('#dh-resume');
  const held = $('#dh-held');
  const card = $('#dh-pickup-card');
  const list = $('#dh-pickups');
  const allowed = can(me, 'call.control');
  let onCall = false;

  // The desk's current call (GET .../calls' row, or null): which of the two buttons shows.
  function showCall(c) {
    onCall = c !== null;
    const isHeld = onCall && c.held === true;
    held.hidden = !isHeld;
    hold.hidden = !onCall || isHeld || c.consulting;
    resume.hidden = !isHeld;
  }

  // Keyboard: the button pressed goes away, so the focus moves to the one that takes its place.
  async function toggle(button, op, next) {
    const done = await act(button, async () => (await api('POST', `${base}/call/${op}`)) ?? true);
    if (done === undefined) return;
    showDone(t(op === 'hold' ? 'dh.held_done' : 'dh.resumed_done'));
    held.hidden = op !== 'hold';
    button.hidden = true;
    next.hidden = false;
    next.focus();
    refresh();
  }
  hold.addEventListener('click', () => toggle(hold, 'hold', resume));
  resume.addEventListener('click', () => toggle(resume, 'unhold', hold));

  function row(c) {
    const button = h('button', {type: 'button', class: 'primary', dataset: {caller: c.uuid}}, t('dh.pick_up'));
    button.setAttribute('aria-label', t('dh.pick_up_from', {number: c.number || t('call.unknown')}));
    button.addEventListener('click', () => pickUp(button, c));
    return h('li', {dataset: {call: c.uuid}},
      h('span', {class: 'pickup-number', dataset: {field: 'number'}}, c.number || t('call.unknown')),
      c.name && c.name !== c.number ? ` ${c.name}` : '',
      ' · ', h('span', {dataset: {field: 'queue'}}, c.queue),
      ' · ', h('span', {dataset: {field: 'ringing'}}, t('dh.ringing_at', {agents: c.ringing.join(', ')})),
      ' · ', h('span', {class: 'muted'}, t('dh.waited', {time: seconds(c.wait_seconds)})),
      ' ', button);
  }

  async function pickUp(button, c) {
    const leg = await act(button, () => api('POST', `${base}/call/pickup`, {caller: c.uuid}));
    if (leg === undefined) {
      reload(); // gone meanwhile (answered, hung up): the list says so now
      return;
    }
    showDone(t('dh.picked', {number: c.number || t('call.unknown')}));
    reload();
    refresh();
  }

  // Asked again on each change of the agent's queues (the stream's `queue` figures) and after
  // a pickup; only the latest answer is shown.
  let asked = 0;
  async function reload() {
    if (!allowed) return;
    const mine = ++asked;
    try {
      const calls = await get(`${base}/pickups`);
      if (mine !== asked) return;
      card.hidden = calls.length === 0;
      fill(list, calls.map(row));
    } catch (err) {
      if (mine === asked) showError(err);
    }
  }

  // A queue's figures change when a colleague's phone starts or stops ringing (the agents'
  // states) or a caller comes or goes; the longest wait ticking alone changes no list.
  const seen = new Map();
  function onQueue(data) {
    const key = JSON.stringify([data.waiting, data.agents]);
    if (seen.get(data.queue) === key) return;
    seen.set(data.queue, key);
    reload();
  }

  return {showCall, reload, onQueue};
}
