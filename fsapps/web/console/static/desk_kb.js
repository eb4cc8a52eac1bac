// The agent desk's knowledge and wrap-up: the call script for the queue of the offer or call
// on the desk (it stays through wrap-up), knowledge-base search, and the disposition code and
// notes for the call the agent is on or handled last (fsapps.web.wrapups).
import {api, get, enc, ApiError} from './api.js';
import {t, has, when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone, can} from './page.js';
import {render} from './markdown.js';

export function desk(me, tenant, agentId) {
  const T = (path) => `/tenants/${enc(tenant)}${path}`;
  const reads = can(me, 'kb.read');
  const writes = can(me, 'wrapup.write');
  $('#kb-card').hidden = !reads;

  // --- the call script ----------------------------------------------------------------------

  const scripts = new Map(); // queue -> the script, or null: none
  let scriptQueue = null;

  async function showScript(queue) {
    if (!reads || !queue || queue === scriptQueue) return;
    scriptQueue = queue;
    let script = scripts.get(queue);
    if (script === undefined) {
      try {
        script = await get(T(`/queues/${enc(queue)}/script`));
      } catch (err) {
        if (!(err instanceof ApiError && ['no_script', 'no_such_queue'].includes(err.code))) {
          scriptQueue = null; // try again with the next call
          showError(err);
          return;
        }
        script = null;
      }
      scripts.set(queue, script);
    }
    if (scriptQueue !== queue) return; // another call came meanwhile
    const card = $('#script-card');
    card.hidden = script === null;
    card.dataset.queue = queue;
    if (script) {
      fill($('#script-title'), script.title);
      fill($('#script-body'), render(script.body));
    }
  }

  // --- the knowledge base ---------------------------------------------------------------------

  const article = (a) => h('li', {dataset: {article: a.id}},
    h('details', {},
      h('summary', {}, a.title, a.kind === 'script' ? h('span', {class: 'muted'}, ` (${t('kb.kind_script')})`) : null),
      h('div', {class: 'article'}, render(a.body)),
      a.tags.length ? h('p', {class: 'muted'}, t('kb.tags'), ' ', a.tags.join(', ')) : null));

  $('#kb-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = $('#kb-q').value.trim();
    if (!q) {
      $('#kb-q').focus();
      return;
    }
    const found = await act(ev.submitter, () => get(T(`/kb/articles?q=${enc(q)}&limit=10`)));
    if (found === undefined) return;
    $('#kb-none').hidden = found.length > 0;
    fill($('#kb-results'), found.map(article));
  });

  // --- wrap-up -----------------------------------------------------------------------------------

  let wrapping = null; // {call_uuid, queue, number, ended_at, wrap_up, codes}
  let required = false;
  const codeLabel = (c) => (c.default && has(`wrapup.code.${c.code}`) ? t(`wrapup.code.${c.code}`) : c.label);

  function showWrapUp(w) {
    const changed = !wrapping || !w || wrapping.call_uuid !== w.call_uuid;
    wrapping = w;
    $('#wrapup-card').hidden = !w || !writes;
    if (!w) return;
    fill($('#wrapup-call'), t('wrapup.call', {number: w.number || t('call.unknown'), queue: w.queue || ''}));
    $('#wrapup-card').dataset.call = w.call_uuid;
    const select = $('#wrapup-code');
    const chosen = w.wrap_up ? w.wrap_up.disposition : (changed ? '' : select.value);
    fill(select, h('option', {value: ''}, t('wrapup.choose')),
      w.codes.map((c) => h('option', {value: c.code, selected: c.code === chosen}, codeLabel(c))));
    if (changed) $('#wrapup-notes').value = w.wrap_up ? w.wrap_up.notes : '';
    const saved = w.wrap_up;
    fill($('#wrapup-state'), saved ? t('wrapup.saved_at', {when: when(saved.written_at), by: saved.written_by})
      : (required ? t('wrapup.required') : ''));
    $('#wrapup-state').dataset.saved = saved ? 'yes' : 'no';
  }

  async function loadLast() {
    if (!writes) return;
    try {
      const last = await get(T(`/agents/${enc(agentId)}/wrap-up`));
      required = last.required;
      showWrapUp(last);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'no_call') showWrapUp(null);
      else showError(err);
    }
  }

  // A new call on the desk: its wrap-up starts empty, with the codes for its queue.
  async function newCall(call) {
    try {
      const codes = await get(T(`/wrap-up-codes?queue=${enc(call.queue)}`));
      if (wrapping && wrapping.call_uuid === call.uuid) return;
      showWrapUp({call_uuid: call.uuid, queue: call.queue, number: call.number, ended_at: null, wrap_up: null, codes});
    } catch (err) {
      showError(err);
    }
  }

  $('#wrapup-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!wrapping) return;
    const w = wrapping;
    const body = {disposition: $('#wrapup-code').value, notes: $('#wrapup-notes').value.trim()};
    const saved = await act(ev.submitter, () => api('PUT', `/tenants/${enc(tenant)}/agents/${enc(agentId)}/wrap-ups/${enc(w.call_uuid)}`, body));
    if (saved && wrapping === w) {
      showWrapUp({...w, wrap_up: saved});
      showDone(t('wrapup.saved'));
    }
  });

  loadLast();

  return {
    // What agent.js shows: the call the agent is on (or null) and the offer ringing (or null).
    onCall(call) {
      if (!call) return;
      showScript(call.queue);
      if (writes && (!wrapping || wrapping.call_uuid !== call.uuid)) newCall(call);
    },
    onOffer(offer) {
      if (offer) showScript(offer.queue);
    },
  };
}
