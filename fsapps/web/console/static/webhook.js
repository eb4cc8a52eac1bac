// The tenant admin's CRM webhook (the tenant page's section): the URL that call offered,
// answered and ended events are POSTed to, and the secret that signs them. The secret is
// sent, never shown again; the section says how the last delivery went.
import {api, get, ApiError} from './api.js';
import {t, when} from './i18n.js';
import {$, fill} from './dom.js';
import {act, showDone, showError} from './page.js';

export function webhookSection(T) {
  async function load() {
    let hook = null;
    try {
      hook = await get(T('/crm-webhook'));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'no_webhook')) {
        showError(err);
        return;
      }
    }
    $('#webhook-none').hidden = hook !== null;
    $('#webhook-delete').hidden = hook === null;
    $('#webhook-url').value = hook ? hook.url : '';
    $('#webhook-enabled').checked = hook ? hook.enabled : true;
    $('#webhook-secret').value = '';
    const last = hook && hook.last_at
      ? t('card.webhook.last', {event: hook.last_event, status: hook.last_status, at: when(hook.last_at)})
      : '';
    fill($('#webhook-last'), last);
  }

  $('#webhook-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {url: $('#webhook-url').value.trim(), secret: $('#webhook-secret').value, enabled: $('#webhook-enabled').checked};
    if (await act(ev.submitter, () => api('PUT', T('/crm-webhook'), body))) {
      showDone(t('card.webhook.saved'));
      load();
    }
  });

  $('#webhook-delete').addEventListener('click', async (ev) => {
    if ((await act(ev.currentTarget, () => api('DELETE', T('/crm-webhook')))) !== undefined) {
      showDone(t('card.webhook.removed'));
      load();
    }
  });

  return load;
}
