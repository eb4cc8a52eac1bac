-- Tickets (work orders): what a caller, a voicemail, a callback or the public web form left
-- for the call center to do, with a per-tenant number a caller can key in, a state and its
-- history, an assignee (an agent or a queue) and an SLA due time set by the priority
-- (fsapps.tickets holds the rules).

-- A tenant's ticket settings: SLA due times per priority (minutes; a priority missing here
-- takes fsapps.tickets.DEFAULT_DUE_MINUTES), whether its public web form takes tickets, and
-- the queue the form's tickets are assigned to.
CREATE TABLE ticket_settings (
  tenant_id    text PRIMARY KEY REFERENCES tenants (id),
  due_minutes  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(due_minutes) = 'object'),
  web_form     boolean NOT NULL DEFAULT false,
  web_queue    text
);

-- The last number given per tenant: numbers are short, per tenant and never reused, so a
-- caller keys in four or five digits rather than a global id.
CREATE TABLE ticket_counters (
  tenant_id    text PRIMARY KEY REFERENCES tenants (id),
  last_number  bigint NOT NULL DEFAULT 1000
);

CREATE TABLE tickets (
  id              bigserial PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  number          bigint NOT NULL CHECK (number > 0),
  subject         text NOT NULL CHECK (subject <> ''),
  body            text NOT NULL DEFAULT '',
  customer_id     bigint REFERENCES customers (id) ON DELETE SET NULL,
  source          text NOT NULL CHECK (source IN ('call', 'voicemail', 'callback', 'web', 'agent')),
  call_uuid       uuid,                  -- the call (the voicemail's, the callback's) it came from
  contact         text NOT NULL DEFAULT '',  -- how the web form's writer asked to be reached
  priority        text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  state           text NOT NULL DEFAULT 'new'
                    CHECK (state IN ('new', 'open', 'pending', 'solved', 'closed')),
  assignee_agent  text,
  assignee_queue  text,
  due_at          timestamptz NOT NULL,
  escalated_at    timestamptz,           -- when it was found overdue (once)
  status_digest   bytea NOT NULL UNIQUE, -- SHA-256 of the status link's token (shown once)
  created_by      text NOT NULL,         -- the username, or 'web' for the public form
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, number),
  -- The assignee serves this tenant; an agent who stops serving it is assigned none of its tickets.
  FOREIGN KEY (assignee_agent, tenant_id) REFERENCES agent_tenants (agent_id, tenant_id)
    ON DELETE SET NULL (assignee_agent)
);
CREATE INDEX tickets_customer ON tickets (customer_id, created_at);
CREATE INDEX tickets_assignee ON tickets (tenant_id, assignee_agent);
CREATE INDEX tickets_queue ON tickets (tenant_id, assignee_queue);
-- The escalation's sweep reads the ones still running, by due time.
CREATE INDEX tickets_running_due ON tickets (due_at)
  WHERE escalated_at IS NULL AND state NOT IN ('solved', 'closed');

-- Each ticket's history: who did what when. ``internal`` rows (agents' notes) never reach
-- the public status page.
CREATE TABLE ticket_events (
  id         bigserial PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  ticket_id  bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,   -- the username, 'web', or 'system' (escalation)
  kind       text NOT NULL CHECK (kind IN ('created', 'state', 'priority', 'assignee', 'subject',
                                           'note', 'escalated')),
  detail     jsonb NOT NULL DEFAULT '{}',
  internal   boolean NOT NULL DEFAULT false
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at, id);

ALTER TABLE ticket_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON ticket_settings TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE ticket_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON ticket_counters TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON tickets TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE ticket_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON ticket_events TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT, UPDATE ON ticket_settings, ticket_counters, tickets, ticket_events TO fsapps_tenant;
GRANT DELETE ON tickets TO fsapps_tenant;
GRANT USAGE ON SEQUENCE tickets_id_seq, ticket_events_id_seq TO fsapps_tenant;
