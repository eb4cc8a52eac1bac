// The QA page (S2.6 质检席): recorded calls found by agent, queue, date, outcome and the
// caller's survey score; one played in place (the API streams it, with the session
// cookie) and scored against one of the tenant's current scorecards, with a note per
// criterion and overall (the server computes the weighted score); the averages reports read.
import {api, get, enc, ApiError} from './api.js';
import {t, seconds, when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {start, act, showError, showDone, can, tenantOf} from './page.js';
import {evaluationView, dayBound} from './qa_view.js';

const me = await start();
const tenant = tenantOf(me);
const T = (path) => `/tenants/${enc(tenant || '')}${path}`;
let cards = []; // the tenant's current scorecards
let current = null; // the recording being scored

if (!tenant) {
  showError(new ApiError(0, 'no_such_tenant', ''));
  throw new Error('no tenant'); // an operator opens /console/qa?tenant=...
}
fill($('#tenant-name'), tenant);
$('#qa-find').hidden = !can(me, 'recordings.read');
$('#qa-report').hidden = !can(me, 'qa_reports.read');
const scores = can(me, 'qa_evaluations.write');

function query(pairs) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(pairs)) if (v) q.set(k, v);
  return q;
}

async function find() {
  const q = query({
    agent: $('#qa-agent').value.trim(), queue: $('#qa-queue').value.trim(), outcome: $('#qa-outcome').value,
    from: dayBound($('#qa-from').value, false), to: dayBound($('#qa-to').value, true),
    survey_min: $('#qa-survey-min').value, survey_max: $('#qa-survey-max').value,
  });
  try {
    const rows = await get(T(`/recordings?${q}`));
    $('#qa-none').hidden = rows.length > 0;
    fill($('#qa-rows'), rows.map((r) => h('tr', {dataset: {recording: r.id}},
      h('td', {}, when(r.joined_at)), h('td', {}, r.queue), h('td', {}, r.agent_id || ''), h('td', {}, r.caller || ''),
      h('td', {}, t(`qa.outcome_${r.outcome}`)), h('td', {class: 'num'}, seconds(r.talk_seconds)),
      h('td', {class: 'num'}, r.survey_score ?? ''),
      h('td', {}, h('button', {type: 'button', class: 'open', onclick: () => open(r)},
        scores ? t('qa.open_score') : t('qa.open_listen'))))));
  } catch (err) {
    showError(err);
  }
}

// The criteria of the scorecard picked, each a mark to choose (required) and a note.
function showCriteria() {
  const card = cards.find((c) => String(c.id) === $('#qa-scorecard').value);
  fill($('#qa-criteria'), (card ? card.criteria : []).map((c, i) => {
    const options = c.type === 'yes_no'
      ? [['true', t('qa.yes')], ['false', t('qa.no')]]
      : Array.from({length: c.max + 1}, (_, n) => [String(n), String(n)]);
    const pick = h('select', {class: 'mark', required: true, dataset: {criterion: i}, 'aria-label': c.label},
      h('option', {value: ''}, t('qa.choose')),
      options.map(([v, text]) => h('option', {value: v}, text)), h('option', {value: 'na'}, t('qa.na')));
    return h('tr', {dataset: {criterion: i}},
      h('td', {}, c.label, c.critical ? [' ', h('span', {class: 'badge'}, t('qa.critical'))] : null),
      h('td', {class: 'num'}, c.weight), h('td', {}, pick),
      h('td', {}, h('input', {class: 'criterion-note', maxlength: 2000, 'aria-label': t('qa.criterion_note')})));
  }));
}

async function earlier() {
  try {
    const rows = await get(T(`/qa/evaluations?recording=${enc(current.id)}`));
    $('#qa-earlier-none').hidden = rows.length > 0;
    fill($('#qa-earlier'), rows.map((e) => evaluationView(e)));
  } catch (err) {
    showError(err);
  }
}

function open(r) {
  current = r;
  $('#qa-evaluate').hidden = false;
  fill($('#qa-call'), [when(r.joined_at), r.queue, r.agent_id, r.caller].filter(Boolean).join(' · '));
  const audio = $('#qa-audio');
  audio.src = `/api/v1${T(`/recordings/${enc(r.id)}/audio`)}`;
  audio.load();
  $('#qa-result').hidden = true;
  $('#qa-no-scorecard').hidden = !scores || cards.length > 0;
  $('#qa-form').hidden = !scores || cards.length === 0;
  $('#qa-form').reset();
  showCriteria();
  earlier();
  $('#qa-evaluate').scrollIntoView({block: 'start'});
  audio.focus();
}

$('#qa-scorecard').addEventListener('change', showCriteria);

$('#qa-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const answers = Array.from($('#qa-criteria').rows, (row) => {
    const v = row.querySelector('select.mark').value;
    return {value: v === 'na' ? null : v === 'true' ? true : v === 'false' ? false : Number(v),
      note: row.querySelector('input.criterion-note').value.trim()};
  });
  const body = {recording: current.id, scorecard: Number($('#qa-scorecard').value), answers,
    note: $('#qa-note').value.trim()};
  const e = await act(ev.submitter, () => api('POST', T('/qa/evaluations'), body));
  if (e) {
    const result = fill($('#qa-result'), t('qa.score_of', {score: e.score}));
    result.dataset.score = e.score;
    result.hidden = false;
    showDone(t('qa.saved', {score: e.score}));
    ev.target.reset();
    showCriteria();
    earlier();
    if (!$('#qa-report').hidden) report();
  }
});

$('#qa-filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  find();
});

async function report() {
  const by = $('#qa-report-by').value;
  const q = query({by, from: dayBound($('#qa-report-from').value, false), to: dayBound($('#qa-report-to').value, true)});
  try {
    const rows = await get(T(`/qa/averages?${q}`));
    fill($('#qa-report-key'), t(`qa.${by}`));
    fill($('#qa-report-rows'), rows.map((r) => h('tr', {dataset: {key: r.key ?? ''}},
      h('td', {}, r.key ?? t('qa.nobody')), h('td', {class: 'num'}, r.evaluations), h('td', {class: 'num'}, r.average),
      h('td', {class: 'num'}, r.lowest), h('td', {class: 'num'}, r.highest), h('td', {class: 'num'}, r.critical_failed))));
  } catch (err) {
    showError(err);
  }
}

$('#qa-report-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  report();
});

if (scores) {
  try {
    cards = await get(T('/qa/scorecards'));
  } catch (err) {
    showError(err);
  }
  fill($('#qa-scorecard'), cards.map((c) => h('option', {value: c.id}, t('qa.card_version', {name: c.name, version: c.version}))));
}
if (!$('#qa-find').hidden) find();
if (!$('#qa-report').hidden) report();
