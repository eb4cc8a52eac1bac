// The tenant page's knowledge base and call scripts (admins and supervisors write them), and
// wrap-up: the disposition codes agents pick from and whether one is required before ready
// (the tenant admin's). Installed into tenant.js's sections as loaders.
import {api, get, enc} from './api.js';
import {t, has, when} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone, can} from './page.js';

// "a, b , c" -> ['a', 'b', 'c'] (commas of either width, as typed in Chinese or English)
const list = (text) => text.split(/[,，]/).map((s) => s.trim()).filter(Boolean);

export function install(me, T, loaders) {
  // --- articles and scripts -----------------------------------------------------------------

  const form = $('#kb-edit-form');
  const editing = (a) => {
    $('#kb-id').value = a ? a.id : '';
    $('#kb-kind').value = a ? a.kind : 'article';
    $('#kb-title').value = a ? a.title : '';
    $('#kb-tags').value = a ? a.tags.join(', ') : '';
    $('#kb-queues').value = a ? a.queues.join(', ') : '';
    $('#kb-body').value = a ? a.body : '';
    fill($('#kb-editing'), a ? t('kb.editing', {title: a.title}) : '');
  };

  const row = (a) => h('tr', {dataset: {article: a.id}},
    h('td', {}, a.title), h('td', {}, t(`kb.kind_${a.kind}`)),
    h('td', {}, a.queues.length ? a.queues.join(', ') : t('kb.every_queue')), h('td', {}, a.tags.join(', ')),
    h('td', {}, t('kb.updated_by', {when: when(a.updated_at), by: a.updated_by})),
    h('td', {},
      h('button', {type: 'button', onclick: () => editing(a)}, t('kb.edit')),
      h('button', {type: 'button', class: 'danger', onclick: async (ev) => {
        const done = await act(ev.currentTarget, () => api('DELETE', T(`/kb/articles/${a.id}`)));
        if (done !== undefined) {
          if ($('#kb-id').value === String(a.id)) editing(null);
          loaders.knowledge();
        }
      }}, t('kb.delete'))));

  loaders.knowledge = async () => {
    const q = $('#kb-admin-q').value.trim();
    try {
      const found = await get(T(`/kb/articles?limit=200${q ? `&q=${enc(q)}` : ''}`));
      fill($('#kb-rows'), found.map(row));
    } catch (err) {
      showError(err);
    }
  };

  $('#kb-admin-search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loaders.knowledge();
  });
  $('#kb-new').addEventListener('click', () => editing(null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = $('#kb-id').value;
    const body = {kind: $('#kb-kind').value, title: $('#kb-title').value.trim(), body: $('#kb-body').value,
      tags: list($('#kb-tags').value), queues: list($('#kb-queues').value)};
    const saved = await act(ev.submitter, () => (id ? api('PATCH', T(`/kb/articles/${enc(id)}`), body)
      : api('POST', T('/kb/articles'), body)));
    if (saved) {
      editing(saved);
      showDone(t('kb.saved', {title: saved.title}));
      loaders.knowledge();
    }
  });

  // --- disposition codes and the setting ---------------------------------------------------

  const writes = can(me, 'wrapup_codes.write');
  $('#wrapup-code-form').hidden = !writes;
  $('#wrapup-required').disabled = !writes;
  const codeLabel = (c) => (c.default && has(`wrapup.code.${c.code}`) ? t(`wrapup.code.${c.code}`) : c.label);

  loaders.wrapup = async () => {
    try {
      const [codes, settings] = await Promise.all([get(T('/wrap-up-codes')), get(T('/wrap-up-settings'))]);
      $('#wrapup-required').checked = settings.required;
      $('#wrapup-defaults').hidden = !codes.every((c) => c.default);
      fill($('#wrapup-code-rows'), codes.map((c) => h('tr', {dataset: {code: c.code}},
        h('td', {}, h('code', {}, c.code)), h('td', {}, codeLabel(c)),
        h('td', {}, c.queues.length ? c.queues.join(', ') : t('kb.every_queue')), h('td', {class: 'num'}, c.position),
        h('td', {}, c.default || !writes ? '' : h('button', {type: 'button', class: 'danger', onclick: async (ev) => {
          const done = await act(ev.currentTarget, () => api('DELETE', T(`/wrap-up-codes/${enc(c.code)}`)));
          if (done !== undefined) loaders.wrapup();
        }}, t('kb.delete'))))));
    } catch (err) {
      showError(err);
    }
  };

  $('#wrapup-required').addEventListener('change', async (ev) => {
    const box = ev.currentTarget;
    const saved = await act(box, () => api('PUT', T('/wrap-up-settings'), {required: box.checked}));
    if (saved) {
      box.checked = saved.required;
      showDone(t(saved.required ? 'wrapup.required_on' : 'wrapup.required_off'));
    } else {
      box.checked = !box.checked;
    }
  });
  $('#wrapup-code-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const code = $('#wc-code').value.trim();
    const body = {label: $('#wc-label').value.trim(), queues: list($('#wc-queues').value),
      position: Number($('#wc-position').value || 0)};
    const done = await act(ev.submitter, () => api('PUT', T(`/wrap-up-codes/${enc(code)}`), body));
    if (done !== undefined) {
      ev.target.reset();
      showDone(t('wrapup.code_saved', {code}));
      loaders.wrapup();
    }
  });
}
