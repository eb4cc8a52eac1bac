-- Agents' SIP phones that fsapps provisions (the HTTP API): a user in the tenant's directory
-- with a generated password, of which only the a1-hash is kept (md5(user:domain:password),
-- what FreeSWITCH's directory takes instead of a password, sofia_reg.c:3251, 3338-3347).
CREATE TABLE sip_phones (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  username    text NOT NULL,
  agent_id    text NOT NULL REFERENCES agents (id),
  a1_hash     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, username),
  UNIQUE (tenant_id, agent_id)
);
ALTER TABLE sip_phones ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON sip_phones TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT ON sip_phones TO fsapps_tenant;
