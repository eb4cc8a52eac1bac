// The floor's alerts, as pure functions of the figures and `now` (seconds, the page's clock):
// no DOM, no clock, no fetch, so the rules are tested on their own
// (tests/browser/test_floor_alerts.py runs this module in Chromium).
//
// - a queue's service level today below its target (none while nobody was offered today);
// - an agent doing one thing longer than its limit: ringing for a minute means the phone
//   is not answering, a call of 20 minutes or a wrap-up of 3 deserve a look, a break of
//   30 minutes is over. Ready and logged out have no limit: waiting for calls is the job.
//   These are the defaults (fsapps/console_settings.py's); a tenant admin sets its own, which
//   the floor reads from GET .../console-settings and passes in.

export const STUCK_SECONDS = Object.freeze({ringing: 60, talking: 1200, wrap_up: 180, idle: 300, on_break: 1800});

// queues: GET .../queue-figures' rows.
export function serviceLevelAlerts(queues) {
  const out = [];
  for (const q of queues) {
    if (q.service_level === null || q.service_level === undefined) continue;
    if (q.service_level < q.service_level_target) {
      out.push({kind: 'service_level', queue: q.name, level: q.service_level, target: q.service_level_target,
        short: q.service_level_target - q.service_level});
    }
  }
  return out.sort((a, b) => b.short - a.short || a.queue.localeCompare(b.queue));
}

// agents: {id, activity, since} with `since` when they began it, on the page's clock.
export function stuckAlerts(agents, now, limits = STUCK_SECONDS) {
  const out = [];
  for (const a of agents) {
    const limit = limits[a.activity];
    if (limit === undefined) continue;
    const seconds = Math.max(0, now - a.since);
    if (seconds > limit) out.push({kind: 'stuck', agent: a.id, activity: a.activity, seconds, limit});
  }
  return out.sort((a, b) => b.seconds / b.limit - a.seconds / a.limit || a.agent.localeCompare(b.agent));
}

// Every alert: the queues first (the floor as a whole), then the agents, worst first.
export function alerts(queues, agents, now, limits = STUCK_SECONDS) {
  return [...serviceLevelAlerts(queues), ...stuckAlerts(agents, now, limits)];
}
