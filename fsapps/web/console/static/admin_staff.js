// An agent's skills, contact and tiers, edited by the tenant admin: skills with their
// proficiency (PUT .../agents/<id>/skills), the contact their calls ring (an extension of the
// tenant's directory, or a number: PATCH .../agents/<id>, which builds the dial string), and
// the queues they serve at a level and position (PUT .../queues/<q>/tiers: tenant.yaml
// rewritten and put live as a flow upload, its problems shown at file:line).
import {api, get, enc} from './api.js';
import {t} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone} from './page.js';

let T = null;
let agent = null; // the agent being edited (GET .../agents/<id>)

function skillRow(name = '', level = 5) {
  const tr = h('tr', {class: 'skill'},
    h('td', {}, h('input', {class: 'skill-name', required: true, maxlength: 63, value: name, 'aria-label': t('admin.skill')})),
    h('td', {}, h('input', {class: 'skill-level', type: 'number', min: 1, max: 10, required: true, value: level,
      'aria-label': t('admin.proficiency')})),
    h('td', {}, h('button', {type: 'button', onclick: () => tr.remove()}, t('admin.remove'))));
  return tr;
}

// A contact as the API keeps it (a dial string), back into the form's extension or number.
function contactFields(contact) {
  const ext = /^user\/([^@]+)@/.exec(contact || '');
  $('#staff-extension').value = ext ? ext[1] : '';
  const num = /^sofia\/gateway\/[^/]+\/(.+)$/.exec(contact || '');
  $('#staff-number').value = num ? num[1] : '';
}

function tierRow(queue, tier) {
  const serves = h('input', {type: 'checkbox', class: 'tier-on', checked: Boolean(tier),
    'aria-label': t('admin.serves', {queue})});
  const level = h('input', {type: 'number', class: 'tier-level', min: 1, max: 10000, value: tier ? tier.level : 1,
    'aria-label': t('admin.tier_level', {queue})});
  const position = h('input', {type: 'number', class: 'tier-position', min: 1, max: 10000, value: tier ? tier.position : 1,
    'aria-label': t('admin.tier_position', {queue})});
  const save = h('button', {type: 'button', class: 'tier-save'}, t('admin.save_tier'));
  save.addEventListener('click', () => saveTier(save, queue, serves.checked, Number(level.value), Number(position.value)));
  return h('tr', {dataset: {queue}}, h('td', {}, queue), h('td', {}, serves), h('td', {}, level), h('td', {}, position),
    h('td', {}, save));
}

function showProblems(problems) {
  const list = $('#staff-problems');
  list.hidden = problems.length === 0;
  fill(list, problems.map((p) => h('li', {class: 'problem'}, `${p.file}:${p.line}:${p.column}: ${p.message}`)));
}

// The queue's tiers as they are live, with this agent's put in, changed or taken out.
async function saveTier(button, queue, serves, level, position) {
  showProblems([]);
  const done = await act(button, async () => {
    try {
      const now = await get(T(`/queues/${enc(queue)}/tiers`));
      const others = now.tiers.filter((x) => x.agent !== agent.id);
      const tiers = serves ? [...others, {agent: agent.id, level, position}] : others;
      return await api('PUT', T(`/queues/${enc(queue)}/tiers`), {tiers});
    } catch (err) {
      if (err.detail && Array.isArray(err.detail.problems)) showProblems(err.detail.problems);
      throw err;
    }
  });
  if (done) { // drawn again first: the message says the form shows what is live
    await edit(agent.id);
    showDone(t('admin.tier_saved', {agent: agent.id, queue}));
  }
}

async function edit(id) {
  try {
    const [a, queues] = await Promise.all([get(T(`/agents/${enc(id)}`)), get(T('/queues'))]);
    agent = a;
    $('#staff-editor').hidden = false;
    fill($('#staff-editing'), t('admin.editing', {agent: `${a.name} (${a.id})`}));
    $('#staff-name').value = a.name;
    contactFields(a.contact);
    const skills = Object.entries(a.skills || {});
    fill($('#staff-skills'), skills.map(([s, p]) => skillRow(s, p)));
    const mine = new Map((a.tiers || []).map((x) => [x.queue, x]));
    fill($('#staff-tiers'), queues.map((q) => tierRow(q.name, mine.get(q.name))));
  } catch (err) {
    showError(err);
  }
}

export async function loadStaff(tenantPath) {
  T = tenantPath;
  try {
    const agents = await get(T('/agents'));
    const pick = $('#staff-agent');
    fill(pick, h('option', {value: ''}, t('admin.pick_agent')), agents.map((a) => h('option', {value: a.id}, `${a.name} (${a.id})`)));
  } catch (err) {
    showError(err);
  }
}

$('#staff-agent').addEventListener('change', (ev) => {
  if (ev.target.value) edit(ev.target.value);
  else $('#staff-editor').hidden = true;
});

$('#staff-add-skill').addEventListener('click', () => {
  const row = skillRow();
  $('#staff-skills').append(row);
  row.querySelector('input').focus();
});

$('#staff-skills-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const skills = Object.fromEntries([...$('#staff-skills').querySelectorAll('tr.skill')].map((tr) => [
    tr.querySelector('.skill-name').value.trim(), Number(tr.querySelector('.skill-level').value)]));
  if (await act(ev.submitter, () => api('PUT', T(`/agents/${enc(agent.id)}/skills`), {skills}))) {
    showDone(t('admin.skills_saved', {agent: agent.id}));
  }
});

$('#staff-contact-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const ext = $('#staff-extension').value.trim();
  const num = $('#staff-number').value.trim();
  const body = {name: $('#staff-name').value.trim(), contact: ext ? {extension: ext} : num ? {number: num} : null};
  if (await act(ev.submitter, () => api('PATCH', T(`/agents/${enc(agent.id)}`), body))) {
    await edit(agent.id);
    showDone(t('admin.agent_saved', {agent: agent.id}));
  }
});
