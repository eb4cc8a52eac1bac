-- Tickets assigned by skill, opened from voicemails and callback requests.

-- A ticket may need a skill: opened with no agent, it goes to the tenant's agent who holds
-- the skill and has the fewest open tickets (fsapps.tickets.pick_assignee); ``assigned_at``
-- is when its agent was last set (the tie-break: the agent longest without a new ticket).
-- ``origin_event``: the voicemail's or the callback request's event id, so the durable
-- writer's replay of the same request opens the ticket once. ``voicemail``: the message it
-- came from (GET .../voicemails/{id}/audio plays it).
ALTER TABLE tickets
  ADD COLUMN required_skill text CHECK (required_skill <> ''),
  ADD COLUMN assigned_at timestamptz,
  ADD COLUMN origin_event uuid UNIQUE,
  ADD COLUMN voicemail uuid;
UPDATE tickets SET assigned_at = created_at WHERE assignee_agent IS NOT NULL;
CREATE INDEX tickets_running_agent ON tickets (tenant_id, assignee_agent)
  WHERE state NOT IN ('solved', 'closed');

-- The messages callers left in the tenant's voicemail boxes (mod_voicemail's
-- vm::maintenance leave-message events), written through the durable writer: keyed by event id.
CREATE TABLE voicemails (
  event_id       uuid PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  box            text NOT NULL,
  call_uuid      uuid,
  caller_number  text NOT NULL DEFAULT '',
  caller_name    text NOT NULL DEFAULT '',
  path           text NOT NULL,           -- the file, as the switch wrote it (VM-File-Path)
  seconds        integer NOT NULL DEFAULT 0 CHECK (seconds >= 0),
  left_at        timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voicemails_tenant ON voicemails (tenant_id, left_at);

ALTER TABLE voicemails ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON voicemails TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT ON voicemails TO fsapps_tenant;
