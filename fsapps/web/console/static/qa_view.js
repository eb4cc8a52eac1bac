// Quality assurance's pieces shared by the QA page and the agent's desk: an evaluation as
// a person reads it (score, who scored it against which scorecard version, the overall
// note, and each criterion's mark and note), and a day picked in the reader's calendar.
import {t, when, instant, nextDay} from './i18n.js';
import {h} from './dom.js';

// What an answer says: yes / no, points of the scale's top, or not applicable.
export function mark(criterion, value) {
  if (value === null || value === undefined) return t('qa.na');
  if (criterion.type === 'yes_no') return value ? t('qa.yes') : t('qa.no');
  return t('qa.points', {points: value, max: criterion.max});
}

export function evaluationView(e, {showAgent = false} = {}) {
  const rows = e.criteria.map((c, i) => {
    const a = e.answers[i] || {value: null, note: ''};
    return h('tr', {}, h('td', {}, c.label, c.critical ? [' ', h('span', {class: 'badge'}, t('qa.critical'))] : null),
      h('td', {class: 'num'}, c.weight), h('td', {dataset: {mark: String(a.value)}}, mark(c, a.value)),
      h('td', {class: 'criterion-note'}, a.note));
  });
  return h('li', {class: 'evaluation', dataset: {evaluation: e.id}},
    h('p', {},
      h('strong', {class: 'score', dataset: {score: e.score}}, t('qa.score_of', {score: e.score})), ' ',
      e.critical_failed ? h('span', {class: 'badge critical'}, t('qa.critical_failed_badge')) : null, ' ',
      h('span', {class: 'muted'}, t('qa.scored_by', {evaluator: e.evaluator, scorecard: e.scorecard,
        version: e.scorecard_version, when: when(e.created_at)}))),
    h('p', {class: 'muted'}, t('qa.call_of', {when: when(e.call_at), queue: e.queue}),
      showAgent && e.agent_id ? ` · ${e.agent_id}` : ''),
    e.note ? h('p', {class: 'overall-note'}, e.note) : null,
    h('details', {},
      h('summary', {}, t('qa.details')),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, t('qa.criterion')), h('th', {}, t('qa.weight')),
          h('th', {}, t('qa.mark')), h('th', {}, t('qa.criterion_note')))),
        h('tbody', {}, rows))));
}

// A day picked, as the instant it starts (from) or ends (to) in the tenant's zone.
export function dayBound(value, end) {
  if (!value) return null;
  return instant(end ? nextDay(value) : value);
}
