-- The HTTP API (fsapps.web): the qa role, browser sessions, supervisors' groups, and what
-- tenant transactions may now read and change of the ACD's live state.

-- Quality assurance: reads calls and survey answers, changes nothing.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('operator_admin', 'tenant_admin', 'supervisor', 'agent', 'qa'));

-- A browser's login: the cookie holds the session id, stored here as a digest only (like
-- api_tokens); the CSRF token is what the page sends back in X-CSRF-Token on changes.
-- Read and written by the owner only, before any tenant is known.
CREATE TABLE user_sessions (
  session_sha256  text PRIMARY KEY,
  user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);
ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;  -- no policy: fsapps_tenant sees none

-- A supervisor's group: the queues and agents they look after. One table of members,
-- kind saying which (a supervisor's user id as text, an agent id, a queue name).
CREATE TABLE supervisor_groups (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  name       text NOT NULL CHECK (name <> ''),
  PRIMARY KEY (tenant_id, name)
);
CREATE TABLE supervisor_group_members (
  tenant_id   text NOT NULL,
  group_name  text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('supervisor', 'agent', 'queue')),
  member      text NOT NULL,
  PRIMARY KEY (tenant_id, group_name, kind, member),
  FOREIGN KEY (tenant_id, group_name) REFERENCES supervisor_groups (tenant_id, name) ON DELETE CASCADE
);
ALTER TABLE supervisor_groups ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON supervisor_groups TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE supervisor_group_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON supervisor_group_members TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT, UPDATE, DELETE ON supervisor_groups, supervisor_group_members TO fsapps_tenant;

-- Agents' live state, for the agents serving the tenant: their status (with the break's
-- reason) and skills are set through the API. A shared agent's row is one row: each
-- tenant it serves sees it (its status is the person's, not a tenant's).
ALTER TABLE agent_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY serving_tenant ON agent_state TO fsapps_tenant USING (EXISTS (
  SELECT 1 FROM agent_tenants m WHERE m.agent_id = agent_state.agent_id
     AND m.tenant_id = (SELECT fsapps_current_tenant())));
GRANT SELECT, INSERT ON agent_state TO fsapps_tenant;
GRANT UPDATE (status, break_reason, last_status_change, talk_time, calls_answered, no_answer_count, skills)
  ON agent_state TO fsapps_tenant;

-- A supervisor moves a waiting caller up or down.
GRANT UPDATE (priority) ON queue_members TO fsapps_tenant;

-- Who took a callback on, and when.
ALTER TABLE callback_requests ADD COLUMN claimed_by text, ADD COLUMN claimed_at timestamptz;
