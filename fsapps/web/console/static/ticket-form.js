// The public web form (no login): a ticket for the tenant in ?tenant=, its number and the
// status link, shown once (only a digest of the link's token is kept).
import {api, enc} from './api.js';
import {t} from './i18n.js';
import {$, fill} from './dom.js';
import {act} from './page.js';

const tenant = new URLSearchParams(location.search).get('tenant') || '';

$('#web-ticket').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {subject: $('#web-subject').value.trim(), body: $('#web-body').value,
    contact: $('#web-contact').value.trim()};
  const made = await act(ev.submitter, () => api('POST', `/public/tenants/${enc(tenant)}/tickets`, body));
  if (made) {
    ev.target.hidden = true;
    fill($('#web-number'), t('ticket.sent', {number: made.number}));
    $('#web-status-link').href = made.status_link;
    $('#web-sent').hidden = false;
    $('#web-status-link').focus();
  }
});
