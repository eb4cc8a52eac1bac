-- Operator -> tenants; users and API tokens; agents, dedicated or shared.
-- Tenant walls: row-level security for the role fsapps_tenant, which every
-- tenant-scoped transaction takes (SET LOCAL ROLE) with fsapps.tenant set.

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fsapps_tenant') THEN
    CREATE ROLE fsapps_tenant NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;
END $$;
GRANT fsapps_tenant TO CURRENT_USER;

CREATE FUNCTION fsapps_current_tenant() RETURNS text
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('fsapps.tenant', true), '') $$;

CREATE TABLE tenants (
  id            text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name          text NOT NULL,
  domain        text NOT NULL UNIQUE,
  timezone      text NOT NULL DEFAULT 'UTC',
  language      text NOT NULL DEFAULT 'en',
  billing_plan  jsonb NOT NULL DEFAULT '{"currency": "EUR", "components": []}',
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE access_numbers (
  number      text PRIMARY KEY,          -- one number, one tenant
  tenant_id   text NOT NULL REFERENCES tenants (id),
  flow        text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id             bigserial PRIMARY KEY,
  tenant_id      text REFERENCES tenants (id),     -- NULL: an operator user
  username       text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('operator_admin', 'tenant_admin', 'supervisor', 'agent')),
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'operator_admin') = (tenant_id IS NULL))
);

CREATE TABLE api_tokens (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id     text REFERENCES tenants (id),
  name          text NOT NULL,
  token_sha256  text NOT NULL UNIQUE,     -- the token itself is shown once, never stored
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE agents (
  id          text PRIMARY KEY,            -- login / extension, unique across the operator
  name        text NOT NULL,
  user_id     bigint REFERENCES users (id),
  contact     text,                        -- dial string to reach the agent's phone
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- An agent serves one tenant (dedicated) or several (an outsourced agent).
CREATE TABLE agent_tenants (
  agent_id   text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  weight     integer NOT NULL DEFAULT 1 CHECK (weight > 0),
  PRIMARY KEY (agent_id, tenant_id)
);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_own_row ON tenants TO fsapps_tenant USING (id = fsapps_current_tenant());
ALTER TABLE access_numbers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON access_numbers TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON users TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON api_tokens TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE agent_tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON agent_tenants TO fsapps_tenant USING (tenant_id = fsapps_current_tenant());
ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
CREATE POLICY serving_tenant ON agents TO fsapps_tenant USING (EXISTS (
  SELECT 1 FROM agent_tenants m WHERE m.agent_id = agents.id AND m.tenant_id = fsapps_current_tenant()));

GRANT SELECT, UPDATE ON tenants TO fsapps_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON access_numbers, users, api_tokens TO fsapps_tenant;
GRANT USAGE ON SEQUENCE users_id_seq, api_tokens_id_seq TO fsapps_tenant;
GRANT SELECT ON agents, agent_tenants TO fsapps_tenant;
