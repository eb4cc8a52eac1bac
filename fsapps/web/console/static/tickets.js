// Tickets on the agent desk and the tenant page: a small list (each row's state a select,
// so a ticket is worked from the keyboard), the desk's "Open a ticket" form prefilled with
// the current or last call and its customer, and the tenant admin's SLA and web-form settings.
import {api, get, enc, ApiError} from './api.js';
import {t, label, when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showDone, showError, can} from './page.js';

const STATES = ['new', 'open', 'pending', 'solved', 'closed'];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

// The tickets the API gives the reader (an agent: theirs and their queues'), in ``tbody``;
// returns the function that loads them again.
export function ticketList(me, tenant, tbody, query = () => '') {
  const writes = can(me, 'tickets.write');
  // Supervisors and tenant admins hand tickets on (the API refuses an agent: reassign_refused).
  const reassigns = writes && me.role !== 'agent';
  const K = `/tenants/${enc(tenant)}/tickets`;

  function state(k) {
    if (!writes) return label('ticket.state', k.state);
    return h('select', {
      'aria-label': t('ticket.state_of', {number: k.number}),
      dataset: {ticket: k.number},
      async onchange(ev) {
        const to = ev.target.value;
        const done = await act(ev.target, () => api('PATCH', `${K}/${k.number}`, {state: to}));
        if (done) showDone(t('ticket.updated', {number: k.number, state: label('ticket.state', to)}));
        load();
      },
    }, STATES.map((s) => h('option', {value: s, selected: s === k.state}, label('ticket.state', s))));
  }

  const row = (k) => h('tr', {dataset: {ticket: k.number, state: k.state}},
    h('td', {}, String(k.number)),
    // A voicemail's ticket plays the message in place (GET .../voicemails/{id}/audio).
    h('td', {}, k.subject, k.voicemail ? h('audio', {controls: true, preload: 'none', class: 'voicemail',
      src: `/api/v1/tenants/${enc(tenant)}/voicemails/${enc(k.voicemail)}/audio`,
      'aria-label': t('tk2.voicemail_of', {number: k.number})}) : null),
    h('td', {}, k.customer_name || ''),
    h('td', {}, label('ticket.priority', k.priority)),
    h('td', {}, state(k)),
    h('td', {}, when(k.due_at), ' ', k.overdue ? h('span', {class: 'badge overdue'}, t('ticket.overdue')) : null),
    h('td', {}, k.assignee_agent || (k.assignee_queue ? t('ticket.queue_is', {queue: k.assignee_queue}) : ''),
      reassigns ? reassign(k) : null));

  // An agent's id, typed (empty: no agent), from the keyboard: Enter or the button.
  function reassign(k) {
    const input = h('input', {class: 'reassign-to', maxlength: 64, size: 8, value: k.assignee_agent || '',
      'aria-label': t('tk2.reassign_to', {number: k.number})});
    const go = async (ev) => {
      ev.preventDefault();
      const to = input.value.trim() || null;
      const done = await act(ev.currentTarget.querySelector('button'), () => api('PATCH', `${K}/${k.number}`, {assignee_agent: to}));
      if (done) showDone(t('tk2.reassigned', {number: k.number, agent: to || t('tk2.alert.nobody')}));
      load();
    };
    return h('form', {class: 'inline reassign', onsubmit: go}, input, h('button', {type: 'submit'}, t('tk2.reassign')));
  }

  async function load() {
    try {
      const rows = await get(`${K}${query()}`);
      fill(tbody, rows.length ? rows.map(row) : h('tr', {}, h('td', {colspan: 7, class: 'muted'}, t('ticket.none'))));
    } catch (err) {
      fill(tbody, h('tr', {}, h('td', {colspan: 7, class: 'muted'}, err.message || String(err))));
    }
  }
  return load;
}

// The desk's card: "Open a ticket" from the call the agent is on, or the last one they had.
export function deskTickets(me, tenant) {
  const card = $('#ticket-card');
  card.hidden = !can(me, 'tickets.read');
  const load = ticketList(me, tenant, $('#ticket-rows'));
  $('#ticket-open').hidden = !can(me, 'tickets.write');
  let last = null; // the current or last call: {uuid, number}
  let from = null; // what the open form was opened from: {call, customer}

  async function openForm() {
    from = {call: last, customer: null};
    if (last && last.number) {
      try {
        from.customer = await get(`/tenants/${enc(tenant)}/customers/by-number/${enc(last.number)}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err; // an unknown caller: no customer
      }
    }
    const c = from.customer;
    fill($('#ticket-from'), !last ? t('ticket.no_call')
      : c ? t('ticket.from_call_customer', {number: last.number || '?', customer: c.name})
        : t('ticket.from_call', {number: last.number || '?'}));
    $('#ticket-form').hidden = false;
    $('#ticket-subject').focus();
  }

  $('#ticket-open').addEventListener('click', (ev) => act(ev.currentTarget, openForm));
  $('#ticket-cancel').addEventListener('click', () => {
    $('#ticket-form').hidden = true;
    $('#ticket-open').focus();
  });
  $('#ticket-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {subject: $('#ticket-subject').value.trim(), body: $('#ticket-body').value,
      priority: $('#ticket-priority').value};
    if (from && from.call) Object.assign(body, {source: 'call', call_uuid: from.call.uuid});
    if (from && from.customer) body.customer_id = from.customer.id;
    const made = await act(ev.submitter, () => api('POST', `/tenants/${enc(tenant)}/tickets`, body));
    if (made) {
      showDone(t('ticket.created', {number: made.number}));
      ev.target.reset();
      ev.target.hidden = true;
      load();
    }
  });
  load();
  return {
    // The agent's call (GET .../calls' row), each time the desk shows one.
    onCall(c) {
      if (c) last = {uuid: c.uuid, number: c.number};
    },
    reload: load,
  };
}

// The tenant page's tab: every ticket the reader may see (overdue ones alone, at a tick),
// and the SLA and web-form settings (a tenant admin changes them).
export function tenantTickets(me, tenant) {
  const load = ticketList(me, tenant, $('#tickets-rows'), () => ($('#tickets-overdue').checked ? '?overdue=true' : ''));
  $('#tickets-overdue').addEventListener('change', load);
  const listed = load();
  const S = `/tenants/${enc(tenant)}/ticket-settings`;
  const writes = can(me, 'ticket_settings.write');
  $('#ticket-settings-save').hidden = !writes;
  // Disabled until the settings are in: what the admin typed before would be drawn over.
  const fields = $('#ticket-settings').querySelectorAll('input, select, button');
  for (const el of fields) el.disabled = true;

  function show(s) {
    for (const p of PRIORITIES) $(`#sla-${p}`).value = s.due_minutes[p];
    $('#web-form').checked = s.web_form;
    $('#web-queue').value = s.web_queue || '';
    const link = `${location.origin}/console/ticket-form?tenant=${enc(tenant)}`;
    fill($('#web-form-link'), s.web_form ? t('ticket.web_form_link', {link}) : '');
  }
  // A failed read says so and leaves the form disabled: saved, its blanks would overwrite
  // the settings it never showed.
  const read = get(S).then((s) => {
    show(s);
    for (const el of fields) el.disabled = !writes;
  }).catch(showError);
  $('#ticket-settings').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {due_minutes: Object.fromEntries(PRIORITIES.map((p) => [p, Number($(`#sla-${p}`).value)])),
      web_form: $('#web-form').checked, web_queue: $('#web-queue').value.trim() || null};
    const s = await act(ev.submitter, () => api('PUT', S, body));
    if (s) {
      show(s);
      showDone(t('ticket.saved'));
    }
  });
  // Settled once the list and the settings are drawn (the tenant page's section is then drawn).
  return Promise.allSettled([listed, read]);
}
