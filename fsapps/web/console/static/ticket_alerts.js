// Escalated tickets, told live (the event stream's ticket_escalated, which the ACD's sweep
// publishes when a ticket goes past its due time): the supervisor floor and the agent desk
// list the ones told since the page opened, newest first, in a list of their own. The
// stream shows an agent only their own tickets' escalations, a supervisor all the tenant's.
import {t, label} from './i18n.js';
import {h, fill} from './dom.js';

export function escalations(list) {
  const told = new Map(); // ticket number -> the event's fields
  return {
    count: () => told.size,
    add(x) {
      told.set(x.number, x);
      const newest = [...told.values()].sort((a, b) => b.at - a.at || b.number - a.number);
      fill(list, newest.map((e) => h('li', {class: 'alert ticket_escalated', dataset: {alert: 'ticket_escalated', ticket: e.number}},
        t('tk2.alert.escalated', {number: e.number, subject: e.subject, priority: label('ticket.priority', e.priority),
          who: e.agent || (e.queue ? t('ticket.queue_is', {queue: e.queue}) : t('tk2.alert.nobody'))}))));
      list.hidden = false;
    },
  };
}
