// The tenant page's survey results: the callers' answers, newest first, and each queue's and
// agent's count and average score over them (GET .../surveys; a supervisor gets their groups').
import {get} from './api.js';
import {when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {showError} from './page.js';

const LIMIT = 500;

function averages(rows, key) {
  const by = new Map();
  for (const r of rows) {
    if (r.score === null || r.score === undefined) continue;
    const k = r[key] || '';
    const got = by.get(k) || {n: 0, sum: 0};
    got.n += 1;
    got.sum += r.score;
    by.set(k, got);
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([k, {n, sum}]) => h('tr', {dataset: {[key]: k}}, h('td', {}, k || '—'), h('td', {class: 'num'}, String(n)),
      h('td', {class: 'num'}, (sum / n).toFixed(2))));
}

export function surveys(T) {
  return async () => {
    try {
      const rows = await get(T(`/surveys?limit=${LIMIT}`));
      $('#no-surveys').hidden = rows.length > 0;
      fill($('#survey-queues'), averages(rows, 'queue'));
      fill($('#survey-agents'), averages(rows, 'agent_id'));
      fill($('#survey-rows'), rows.map((r) => h('tr', {},
        h('td', {}, when(r.answered_at)), h('td', {}, r.queue || ''), h('td', {}, r.agent_id || ''),
        h('td', {}, r.question), h('td', {class: 'num'}, r.score === null ? '' : String(r.score)))));
    } catch (err) {
      showError(err);
    }
  };
}
