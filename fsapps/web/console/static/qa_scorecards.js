// The tenant admin's scorecards (quality assurance): each a name and weighted criteria
// (yes/no, or a 0..N scale; "critical" zeroes the whole score when it earns nothing).
// Saving a change makes a new version: evaluations already made keep theirs.
import {api, get, enc} from './api.js';
import {t, when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone} from './page.js';

let T = null;
let editing = null; // the scorecard being changed, or null for a new one

function criterionRow(c = {label: '', weight: 1, type: 'yes_no', max: 5, critical: false}) {
  const max = h('input', {class: 'sc-max', type: 'number', min: 1, max: 10, value: c.type === 'scale' ? c.max : 5,
    'aria-label': t('qa.scale_max')});
  const kind = h('select', {class: 'sc-type', 'aria-label': t('qa.type')},
    h('option', {value: 'yes_no'}, t('qa.type_yes_no')), h('option', {value: 'scale'}, t('qa.type_scale')));
  kind.value = c.type;
  max.disabled = c.type !== 'scale';
  kind.addEventListener('change', () => { max.disabled = kind.value !== 'scale'; });
  const row = h('tr', {class: 'sc-criterion'},
    h('td', {}, h('input', {class: 'sc-label', required: true, maxlength: 200, value: c.label, 'aria-label': t('qa.criterion')})),
    h('td', {}, h('input', {class: 'sc-weight', type: 'number', min: 1, max: 100, required: true, value: c.weight,
      'aria-label': t('qa.weight')})),
    h('td', {}, kind), h('td', {}, max),
    h('td', {}, h('input', {class: 'sc-critical', type: 'checkbox', checked: c.critical, 'aria-label': t('qa.critical')})),
    h('td', {}, h('button', {type: 'button', onclick: () => row.remove()}, t('qa.remove_criterion'))));
  return row;
}

function edit(card) {
  editing = card;
  fill($('#scorecard-form-h'), card ? t('qa.edit_scorecard', {name: card.name, version: card.version}) : t('qa.new_scorecard'));
  $('#sc-name').value = card ? card.name : '';
  fill($('#sc-criteria'), (card ? card.criteria : [undefined]).map((c) => criterionRow(c)));
  $('#sc-cancel').hidden = !card;
  if (card) $('#sc-name').focus();
}

async function list() {
  try {
    const cards = await get(T('/qa/scorecards'));
    $('#no-scorecards').hidden = cards.length > 0;
    fill($('#scorecard-rows'), cards.map((c) => h('tr', {dataset: {scorecard: c.id}},
      h('td', {}, c.name), h('td', {class: 'num'}, c.version),
      h('td', {}, c.criteria.map((x) => t('qa.criterion_weight', {label: x.label, weight: x.weight})).join(t('qa.separator'))),
      h('td', {}, t('qa.changed_by', {who: c.changed_by, when: when(c.changed_at)})),
      h('td', {}, h('button', {type: 'button', onclick: () => edit(c)}, t('qa.edit')), ' ',
        h('button', {type: 'button', class: 'danger', onclick: (ev) => retire(ev.currentTarget, c)}, t('qa.retire'))))));
  } catch (err) {
    showError(err);
  }
}

async function retire(button, card) {
  if (!window.confirm(t('qa.retire_confirm', {name: card.name}))) return;
  const done = await act(button, async () => (await api('DELETE', T(`/qa/scorecards/${enc(card.id)}`))) ?? true);
  if (done) {
    showDone(t('qa.retired', {name: card.name}));
    if (editing && editing.id === card.id) edit(null);
    list();
  }
}

export async function loadScorecards(tenantPath) {
  T = tenantPath;
  $('#sc-add').onclick = () => $('#sc-criteria').append(criterionRow());
  $('#sc-cancel').onclick = () => edit(null);
  $('#scorecard-form').onsubmit = async (ev) => {
    ev.preventDefault();
    const criteria = Array.from(document.querySelectorAll('#sc-criteria tr.sc-criterion'), (row) => {
      const type = row.querySelector('.sc-type').value;
      const c = {label: row.querySelector('.sc-label').value.trim(), weight: Number(row.querySelector('.sc-weight').value),
        type, critical: row.querySelector('.sc-critical').checked};
      if (type === 'scale') c.max = Number(row.querySelector('.sc-max').value);
      return c;
    });
    const body = {name: $('#sc-name').value.trim(), criteria};
    const card = await act(ev.submitter, () => (editing
      ? api('PUT', T(`/qa/scorecards/${enc(editing.id)}`), body)
      : api('POST', T('/qa/scorecards'), body)));
    if (card) {
      showDone(t('qa.scorecard_saved', {name: card.name, version: card.version}));
      edit(null);
      list();
    }
  };
  edit(null);
  await list();
}
