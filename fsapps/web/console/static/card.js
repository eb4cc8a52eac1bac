// The customer card on the desk: for the caller the desk pops (an offer, the current call,
// a call another agent handed over), the tenant's customer with their number: name,
// company, tags, custom fields by their labels, owner, numbers to call back, the notes on
// this call (what the agent who handed it over wrote) and the timeline, recordings playable
// in place. An unknown number gets the new-customer form instead, prefilled with the number
// and what the IVR found; saved, the customer is the agent's (their owner: the next call
// from the number rings them first) and the card shows.
import {api, get, enc} from './api.js';
import {t, label, lang} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showDone, can} from './page.js';

// The variables the queue sets on every agent's leg (fsapps/acd/visit.py, _ring_variables):
// what the IVR found is every other one (the lookup's exported fields, digits).
const RING_OWN = new Set(['leg_timeout', 'ignore_early_media', 'origination_caller_id_number', 'origination_caller_id_name']);

export function screenPop(variables) {
  return Object.entries(variables || {}).filter(([k]) => !RING_OWN.has(k) && !k.startsWith('fsapps_'));
}

const TIMELINE = 20; // entries shown on the card

export async function makeCard({me, tenant, agentId, dial}) {
  const base = `/tenants/${enc(tenant)}`;
  const defs = can(me, 'customer_fields.read') ? await get(`${base}/customer-fields`) : [];
  const byName = new Map(defs.map((f) => [f.name, f]));
  let zone; // the tenant's timezone (from the screen pops), undefined: the browser's
  let shown = null; // what the card shows now: `${member} ${customer} ${by}`
  let asked = 0;

  // A custom field for a screen-pop variable: its own name, or the name after a lookup's
  // prefix (cn_balance: the lookup wrote field balance with prefix cn_).
  function fieldOf(key) {
    if (byName.has(key)) return byName.get(key);
    const cut = key.indexOf('_');
    return cut > 0 ? byName.get(key.slice(cut + 1)) : undefined;
  }

  // The tenant's words for a variable or a field: its label, else the key as it is.
  function labelOf(key) {
    const f = fieldOf(key);
    return f && f.label ? f.label : key;
  }

  const when = (value) => (value ? new Date(value).toLocaleString(lang, {dateStyle: 'short', timeStyle: 'short', timeZone: zone}) : '');
  const field = (name, title, value) => [h('dt', {}, title), h('dd', {dataset: {field: name}}, value)];

  function shownValue(def, value) {
    if (def && def.type === 'boolean') return t(value ? 'card.yes' : 'card.no');
    return String(value);
  }

  async function show(pop, {force = false} = {}) {
    const section = $('#card-card');
    if (!pop) {
      section.hidden = true;
      shown = null;
      asked++;
      return;
    }
    const key = `${pop.member} ${pop.customer ?? 'new'} ${pop.handover ? pop.handover.by : ''}`;
    if (key === shown && !force) return; // as it is (a form being typed in stays)
    shown = key;
    const mine = ++asked;
    section.hidden = false;
    section.dataset.member = pop.member;
    const handed = $('#card-handover');
    handed.hidden = !pop.handover;
    if (pop.handover) fill(handed, t('card.handed_over', {by: pop.handover.by, how: label('card.how', pop.handover.how)}));
    if (pop.customer) {
      let customer;
      let timeline;
      try {
        [customer, timeline] = await Promise.all([get(`${base}/customers/${pop.customer}`),
          get(`${base}/customers/${pop.customer}/timeline?limit=${TIMELINE}`)]);
      } catch (err) {
        if (mine === asked) shown = null; // try again at the next refresh
        throw err;
      }
      if (mine === asked) showCustomer(pop, customer, timeline);
    } else {
      showForm(pop);
    }
  }

  function showCustomer(pop, c, timeline) {
    $('#card-new').hidden = true;
    const box = $('#card-customer');
    box.hidden = false;
    box.dataset.customer = c.id;
    fill($('#card-fields'),
      field('customer_name', t('card.name'), c.name),
      field('company', t('card.company'), c.company),
      field('tags', t('card.tags'), c.tags.join(', ')),
      field('owner', t('card.owner'), c.owner_agent || t('card.no_owner')),
      Object.entries(c.custom_fields).flatMap(([k, v]) => field(`cf_${k}`, labelOf(k), shownValue(byName.get(k), v))));
    fill($('#card-numbers'), c.numbers.map((n) => h('li', {},
      h('span', {class: 'number'}, n), ' ',
      can(me, 'call.dial_out') ? h('button', {type: 'button', dataset: {dial: n}, onclick: (ev) => dial(ev.currentTarget, n)},
        t('card.call_back')) : null)));
    const noted = timeline.filter((e) => e.kind === 'note' && e.call_uuid === pop.member);
    $('#card-noted-h').hidden = noted.length === 0;
    fill($('#card-noted'), noted.map((e) => h('li', {}, h('strong', {}, e.detail.author), ': ', e.detail.body)));
    fill($('#card-timeline'), timeline.map(entry));
    $('#card-note-form').hidden = !can(me, 'customers.note');
    $('#card-note-form').dataset.customer = c.id;
  }

  function entry(e) {
    const d = e.detail || {};
    const parts = [];
    if (e.kind === 'call') {
      parts.push(label('card.direction', d.direction), d.number, label('card.outcome', d.outcome));
      if (e.agent_id) parts.push(t('card.with_agent', {agent: e.agent_id}));
    } else if (e.kind === 'note') {
      parts.push(`${d.author}: ${d.body}`);
    } else if (e.kind === 'survey') {
      parts.push(t('card.survey_score', {question: d.question, score: d.score ?? '-'}));
    } else if (e.kind === 'callback') {
      parts.push(d.number, label('card.callback', d.status));
    } else if (e.kind === 'voicemail') {
      parts.push(d.number, t('cg.voicemail_left', {box: d.box, seconds: d.seconds}));
    }
    const card = `/api/v1${base}/customers/${$('#card-customer').dataset.customer}`;
    let audio = null;
    if (e.recording) {
      audio = h('audio', {controls: true, preload: 'none', src: `${card}/recordings/${enc(e.recording)}/audio`,
        'aria-label': t('card.recording')});
    } else if (e.kind === 'voicemail') {
      audio = h('audio', {controls: true, preload: 'none', src: `${card}/voicemails/${enc(d.id)}/audio`,
        'aria-label': t('cg.voicemail')});
    }
    return h('li', {dataset: {kind: e.kind}},
      h('span', {class: 'muted'}, when(e.at)), ' ', h('strong', {}, label('card.kind', e.kind)), ' ',
      parts.filter((p) => p !== undefined && p !== null && p !== '').join(' · '), audio);
  }

  // The new-customer form: the number, what the IVR found, the tenant's custom fields
  // (prefilled where the IVR found a value for one), the agent as the owner.
  function showForm(pop) {
    $('#card-customer').hidden = true;
    const form = $('#card-new');
    form.hidden = !can(me, 'customers.write');
    form.reset();
    const ivr = screenPop(pop.variables);
    $('#card-ivr-h').hidden = ivr.length === 0;
    fill($('#card-ivr'), ivr.flatMap(([k, v]) => field(k, labelOf(k), v)));
    $('#card-new-number').value = pop.number || '';
    $('#card-new-name').value = pop.name && pop.name !== pop.number ? pop.name : '';
    const found = new Map(ivr.map(([k, v]) => [fieldOf(k)?.name, v]));
    fill($('#card-new-fields'), defs.map((f) => {
      const value = found.get(f.name);
      const attrs = {name: f.name, dataset: {type: f.type}};
      let input;
      if (f.type === 'boolean') input = h('input', {...attrs, type: 'checkbox', checked: value === 'true' || value === '1'});
      else if (f.type === 'number') input = h('input', {...attrs, type: 'number', step: 'any', value: value ?? ''});
      else if (f.type === 'date') input = h('input', {...attrs, type: 'date', value: value ?? ''});
      else input = h('input', {...attrs, maxlength: 10000, value: value ?? ''});
      return h('label', {}, f.label || f.name, input);
    }));
    $('#card-new-owner').checked = true;
    form.dataset.member = pop.member;
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const custom = {};
      for (const input of form.querySelectorAll('#card-new-fields input')) {
        const type = input.dataset.type;
        if (type === 'boolean') custom[input.name] = input.checked;
        else if (input.value.trim() !== '') custom[input.name] = type === 'number' ? Number(input.value) : input.value.trim();
      }
      const body = {
        name: $('#card-new-name').value.trim(),
        company: $('#card-new-company').value.trim(),
        tags: $('#card-new-tags').value.split(',').map((s) => s.trim()).filter(Boolean),
        numbers: [$('#card-new-number').value.trim()].filter(Boolean),
        custom_fields: custom,
        owner_agent: $('#card-new-owner').checked ? agentId : null,
      };
      const created = await act(ev.submitter, () => api('POST', `${base}/customers`, body));
      if (created) {
        showDone(t('card.saved', {name: created.name}));
        show({...pop, customer: created.id}, {force: true});
      }
    };
  }

  $('#card-note-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const text = $('#card-note').value.trim();
    if (!text) return;
    const member = $('#card-card').dataset.member;
    const customer = form.dataset.customer;
    const ok = await act(ev.submitter, () => api('POST', `${base}/customers/${customer}/notes`, {body: text, call: member}));
    if (ok) {
      form.reset();
      const [c, timeline] = await Promise.all([get(`${base}/customers/${customer}`), get(`${base}/customers/${customer}/timeline?limit=${TIMELINE}`)]);
      showCustomer({member}, c, timeline);
    }
  });

  return {
    labelOf,
    show,
    setZone(tz) {
      zone = tz || undefined;
    },
  };
}
