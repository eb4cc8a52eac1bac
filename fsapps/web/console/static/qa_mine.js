// The agent's "My scores" on their desk: the evaluations of the calls they answered, with
// the evaluator's notes (the API gives an agent their own only, never a colleague's).
import {get, enc} from './api.js';
import {t} from './i18n.js';
import {$, h, fill} from './dom.js';
import {can, showError} from './page.js';
import {evaluationView} from './qa_view.js';

export async function myScores(me, tenant, agentId) {
  if (!can(me, 'qa_evaluations.read') || !agentId) return;
  const list = h('ul', {id: 'my-scores-list', class: 'evaluations'});
  const none = h('p', {id: 'my-scores-none', class: 'muted', hidden: true}, t('qa.mine_none'));
  $('#main').append(h('section', {class: 'card', id: 'my-scores', 'aria-labelledby': 'my-scores-h'},
    h('h2', {id: 'my-scores-h'}, t('qa.mine')), list, none));
  try {
    const rows = await get(`/tenants/${enc(tenant)}/qa/evaluations?agent=${enc(agentId)}&limit=20`);
    none.hidden = rows.length > 0;
    fill(list, rows.map((e) => evaluationView(e)));
  } catch (err) {
    showError(err);
  }
}
