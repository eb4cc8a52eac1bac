-- ACD live state, shared by every controller: agents' status and state, and the
-- members (callers) waiting in queues. mod_callcenter keeps this in one switch's
-- local database (FS#1674); here any number of controllers serve one PostgreSQL,
-- and a reservation is a conditional UPDATE, so two controllers can never offer
-- one agent two calls: the second UPDATE waits on the row lock, then finds the
-- agent no longer Waiting.

CREATE TABLE agent_state (
  agent_id              text PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
  status                text NOT NULL DEFAULT 'Logged Out'
                        CHECK (status IN ('Logged Out', 'Available', 'Available (On Demand)', 'On Break')),
  state                 text NOT NULL DEFAULT 'Waiting'
                        CHECK (state IN ('Waiting', 'Receiving', 'In a queue call', 'Idle', 'Reserved')),
  break_reason          text NOT NULL DEFAULT '',
  offered_member        uuid,                   -- the member this agent is ringing or talking to
  offered_by            text,                   -- which controller made the offer
  max_no_answer         integer NOT NULL DEFAULT 0,
  wrap_up_time          integer NOT NULL DEFAULT 0,
  reject_delay_time     integer NOT NULL DEFAULT 0,
  busy_delay_time       integer NOT NULL DEFAULT 0,
  no_answer_delay_time  integer NOT NULL DEFAULT 0,
  last_bridge_start     double precision NOT NULL DEFAULT 0,
  last_bridge_end       double precision NOT NULL DEFAULT 0,
  last_offered_call     double precision NOT NULL DEFAULT 0,
  last_status_change    double precision NOT NULL DEFAULT 0,
  no_answer_count       integer NOT NULL DEFAULT 0,
  calls_answered        integer NOT NULL DEFAULT 0,
  talk_time             double precision NOT NULL DEFAULT 0,
  ready_time            double precision NOT NULL DEFAULT 0,
  skills                jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE queue_members (
  uuid              uuid PRIMARY KEY,          -- the caller's channel
  tenant_id         text NOT NULL REFERENCES tenants (id),
  queue             text NOT NULL,
  joined_epoch      double precision NOT NULL,
  state             text NOT NULL DEFAULT 'Waiting' CHECK (state IN ('Waiting', 'Trying', 'Answered', 'Abandoned')),
  priority          integer NOT NULL DEFAULT 0,
  base_score        integer NOT NULL DEFAULT 0,
  skills            jsonb NOT NULL DEFAULT '{}',
  owner_agent       text,
  private_agent     text,
  serving_agent     text,
  controller        text,                     -- the controller holding the caller's socket
  abandoned_epoch   double precision NOT NULL DEFAULT 0,
  cid_number        text,
  cid_name          text
);
CREATE INDEX queue_members_waiting ON queue_members (queue, joined_epoch) WHERE state IN ('Waiting', 'Trying');

ALTER TABLE queue_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON queue_members TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
GRANT SELECT ON queue_members TO fsapps_tenant;
