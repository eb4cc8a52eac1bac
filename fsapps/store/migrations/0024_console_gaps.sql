-- Agents' calls that no queue made: a call transferred straight to an agent's phone, a call
-- dialled from it, a dial-out (fsapps.acd.direct_calls). A controller notes each answered
-- channel of an agent's phone that is not a queue's offer, and forgets it at its hangup;
-- the floor shows the agent on a call meanwhile, with the other party's number.
CREATE TABLE agent_direct_calls (
  leg             uuid PRIMARY KEY,                 -- the agent's phone's channel
  agent_id        text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  number          text NOT NULL DEFAULT '',         -- the other party's, as the channel shows it
  direction       text NOT NULL CHECK (direction IN ('inbound', 'outbound')),  -- seen from the agent
  answered_epoch  double precision NOT NULL,
  origin          text NOT NULL                     -- the controller that noted it
);
CREATE INDEX agent_direct_calls_agent ON agent_direct_calls (agent_id);

-- Read by the tenants the agent serves, as agent_state is.
ALTER TABLE agent_direct_calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY serving_tenant ON agent_direct_calls TO fsapps_tenant USING (EXISTS (
  SELECT 1 FROM agent_tenants m WHERE m.agent_id = agent_direct_calls.agent_id
     AND m.tenant_id = (SELECT fsapps_current_tenant())));
GRANT SELECT ON agent_direct_calls TO fsapps_tenant;

-- A tenant admin deletes a user (fsapps.web.tenant_admin): an agent whose login it was stays,
-- with no login, rather than blocking the deletion.
ALTER TABLE agents DROP CONSTRAINT agents_user_id_fkey,
  ADD CONSTRAINT agents_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;

-- The messages callers left in the tenant's voicemail boxes, for the customer's timeline
-- (fsapps.store.customers) and its player. The same table, column for column, as the tickets
-- work's migration (0023_ticket_assignment) defines for voicemail tickets: whichever of the
-- two is applied first makes it, the other finds it there.
CREATE TABLE IF NOT EXISTS voicemails (
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
CREATE INDEX IF NOT EXISTS voicemails_tenant ON voicemails (tenant_id, left_at);
CREATE INDEX IF NOT EXISTS voicemails_caller ON voicemails (tenant_id, caller_number);
ALTER TABLE voicemails ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'voicemails' AND policyname = 'tenant_rows') THEN
    CREATE POLICY tenant_rows ON voicemails TO fsapps_tenant
      USING (tenant_id = (SELECT fsapps_current_tenant()))
      WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
  END IF;
END $$;
GRANT SELECT, INSERT ON voicemails TO fsapps_tenant;
