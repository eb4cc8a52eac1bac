// The live event stream, in one place: GET /api/v1/tenants/{tenant}/events, server-sent
// events named agent_state, offer, queue, member, leg, handover, ticket_escalated, direct_call and reset, each with an id and one
// line of JSON (the fields of fsapps.acd.notifier's event).
//
// The browser's EventSource resumes by itself after a dropped connection, sending the last
// id it saw (Last-Event-ID). When the stream cannot be had at all (an error answer, or no
// stream on this server) the EventSource closes for good: this module opens a new one
// after a growing pause, and since whatever happened meanwhile is unknown, it tells the
// page to fetch its state again, as a `reset` event does (so without a stream the page is
// refreshed at each try: every second at first, then every 30 s at most). A new stream,
// once open, has the page fetch again too: what changed before it opened it will not tell.
export const KINDS = ['agent_state', 'offer', 'queue', 'member', 'leg', 'handover', 'ticket_escalated', 'direct_call'];

export function follow(tenant, {onEvent, onReset, onStatus, retryMs = 1000, maxRetryMs = 30000}) {
  let source = null;
  let pause = retryMs;
  let timer = null;
  let stopped = false;
  let lastId = null;

  const status = (s) => onStatus && onStatus(s);

  function open() {
    if (stopped) return;
    status('connecting');
    source = new EventSource(`/api/v1/tenants/${encodeURIComponent(tenant)}/events`, {withCredentials: true});
    let fresh = true;
    source.onopen = () => {
      pause = retryMs;
      status('live');
      // A new stream follows from the moment it opened: whatever changed between the page's
      // fetch and then was told to no one, so the page fetches again (once per new stream;
      // the browser's own reconnections resume by Last-Event-ID, or are told `reset`).
      if (fresh) {
        fresh = false;
        onReset();
      }
    };
    for (const kind of KINDS) {
      source.addEventListener(kind, (ev) => {
        lastId = ev.lastEventId || lastId;
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch (e) {
          console.error(`[events] ${kind} ${ev.lastEventId}: not JSON`);
          return;
        }
        onEvent(kind, data, ev.lastEventId);
      });
    }
    source.addEventListener('reset', () => onReset());
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Given up for good (an error status, no stream here): try again later, afresh.
        source = null;
        status('offline');
        timer = setTimeout(() => {
          open();
          onReset();
        }, pause);
        pause = Math.min(pause * 2, maxRetryMs);
      } else {
        status('connecting'); // the browser reconnects, with Last-Event-ID
      }
    };
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (source) source.close();
    },
    get lastId() {
      return lastId;
    },
  };
}
