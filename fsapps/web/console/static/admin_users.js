// The tenant's users and their roles: the tenant admin adds a user (with an initial password
// they pass on), changes a role, disables a user (their sessions and tokens stop at once)
// or enables them again, deletes a user (not themselves), and sets the language their pages are in (or leaves it to their browser). Operators are no tenant's users: the API never lists or makes one.
import {api, get} from './api.js';
import {t} from './i18n.js';
import {$, h, fill} from './dom.js';
import {act, showError, showDone} from './page.js';

const ROLES = ['tenant_admin', 'supervisor', 'agent', 'qa'];
const LANGUAGES = ['', 'en', 'zh-CN']; // '': the user's browser decides
let T = null;
let me = null;

function roleSelect(value, attrs) {
  const select = h('select', attrs, ROLES.map((r) => h('option', {value: r}, t(`role.${r}`))));
  select.value = value;
  return select;
}

function languageSelect(value, attrs) {
  const select = h('select', attrs, LANGUAGES.map((l) => h('option', {value: l}, l ? t(`lang.${l}`) : t('admin.browser_language'))));
  select.value = value || '';
  return select;
}

function row(u) {
  const role = roleSelect(u.role, {class: 'user-role', 'aria-label': t('admin.user_role', {user: u.username})});
  const self = me && u.id === me.user_id; // one cannot lock oneself out from here
  const language = languageSelect(u.language, {class: 'user-language', 'aria-label': t('admin.user_language', {user: u.username})});
  role.disabled = self;
  language.disabled = self;
  const save = h('button', {type: 'button', class: 'save-role', disabled: self}, t('admin.save_role'));
  save.addEventListener('click', () => change(save, u, {role: role.value, language: language.value || null},
    t('admin.role_saved', {user: u.username})));
  const toggle = h('button', {type: 'button', class: u.disabled ? 'enable' : 'danger disable', disabled: self},
    u.disabled ? t('admin.enable') : t('admin.disable'));
  toggle.addEventListener('click', () => change(toggle, u, {disabled: !u.disabled},
    u.disabled ? t('admin.enabled', {user: u.username}) : t('admin.disabled', {user: u.username})));
  const remove = h('button', {type: 'button', class: 'danger delete-user', disabled: self}, t('cg.delete_user'));
  remove.addEventListener('click', () => removeUser(remove, u));
  return h('tr', {dataset: {user: u.username, disabled: String(u.disabled)}},
    h('td', {}, u.username), h('td', {}, role), h('td', {}, language, ' ', save),
    h('td', {}, u.disabled ? t('admin.user_disabled') : t('admin.user_active')), h('td', {}, toggle, ' ', remove));
}

// Deleting is for good (their sessions and tokens end; an agent of theirs stays, with no login).
async function removeUser(button, u) {
  if (!confirm(t('cg.delete_user_confirm', {user: u.username}))) return;
  if ((await act(button, async () => (await api('DELETE', T(`/users/${u.id}`))) ?? true)) !== undefined) {
    showDone(t('cg.user_deleted', {user: u.username}));
    list();
  }
}

async function change(button, u, body, done) {
  if ((await act(button, () => api('PATCH', T(`/users/${u.id}`), body))) !== undefined) {
    showDone(done);
    list();
  }
}

async function list() {
  try {
    const users = await get(T('/users'));
    fill($('#user-rows'), users.map(row));
  } catch (err) {
    showError(err);
  }
}

export function loadUsers(tenantPath, reader) {
  T = tenantPath;
  me = reader;
  fill($('#new-user-role'), ROLES.map((r) => h('option', {value: r}, t(`role.${r}`))));
  $('#new-user-language').replaceWith(languageSelect('', {id: 'new-user-language'}));
  $('#new-user-role').value = 'agent';
  return list();
}

$('#user-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {username: $('#new-user-name').value.trim(), role: $('#new-user-role').value,
    password: $('#new-user-password').value, language: $('#new-user-language').value || null};
  const made = await act(ev.submitter, () => api('POST', T('/users'), body));
  if (made) {
    showDone(t('admin.user_added', {user: made.username, role: t(`role.${made.role}`)}));
    ev.target.reset();
    $('#new-user-role').value = 'agent';
    list();
  }
});
