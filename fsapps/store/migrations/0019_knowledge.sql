-- The knowledge base and call scripts agents read on the desk, and what agents write at
-- wrap-up: a disposition code (from the tenant's codes) and notes on the call they handled.

-- Articles and call scripts. ``search`` is built by fsapps.knowledge from the title, tags
-- and body segmented in Python (jieba for Chinese runs, lowercase words for the rest) and
-- read with the 'simple' configuration: the embedded PostgreSQL has no zhparser nor
-- pg_trgm, and the default parser would take a run of Chinese as one word.
CREATE TABLE kb_articles (
  id          bigserial PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  kind        text NOT NULL DEFAULT 'article' CHECK (kind IN ('article', 'script')),
  title       text NOT NULL CHECK (title <> ''),
  body        text NOT NULL DEFAULT '',
  tags        text[] NOT NULL DEFAULT '{}',
  queues      text[] NOT NULL DEFAULT '{}',  -- none: every queue of the tenant
  search      tsvector NOT NULL,
  updated_by  text NOT NULL,                 -- the username, kept if the user goes
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_articles_search ON kb_articles USING gin (search);
CREATE INDEX kb_articles_queues ON kb_articles USING gin (queues);
CREATE INDEX kb_articles_tenant ON kb_articles (tenant_id, kind, updated_at);

-- The disposition codes a tenant's agents pick from at wrap-up (none defined: the
-- defaults of fsapps.knowledge). A code with queues applies to those queues' calls only.
CREATE TABLE wrap_up_codes (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  code       text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  label      text NOT NULL CHECK (label <> ''),
  queues     text[] NOT NULL DEFAULT '{}',
  position   integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, code)
);

-- Whether an agent must give their last call a disposition before going ready again
-- (as Amazon Connect's "require disposition"); no row: not required.
CREATE TABLE wrap_up_settings (
  tenant_id  text PRIMARY KEY REFERENCES tenants (id),
  required   boolean NOT NULL DEFAULT false
);

-- One wrap-up per call and agent who handled it (a transferred call has one from each).
-- The code's label is kept as it was chosen: a code removed later still reads on the
-- customer's timeline and in reports.
CREATE TABLE call_wrap_ups (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  call_uuid    uuid NOT NULL,
  agent_id     text NOT NULL,
  queue        text,
  disposition  text NOT NULL,
  label        text NOT NULL,
  notes        text NOT NULL DEFAULT '',
  written_by   text NOT NULL,
  written_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, call_uuid, agent_id)
);
CREATE INDEX call_wrap_ups_agent ON call_wrap_ups (tenant_id, agent_id, written_at);
-- An agent's last handled call (the wrap-up the desk offers, and the ready check).
CREATE INDEX queue_calls_agent ON queue_calls (tenant_id, agent_id, ended_at);

ALTER TABLE kb_articles ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON kb_articles TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE wrap_up_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON wrap_up_codes TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE wrap_up_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON wrap_up_settings TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE call_wrap_ups ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON call_wrap_ups TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT, UPDATE, DELETE ON kb_articles, wrap_up_codes, wrap_up_settings, call_wrap_ups
  TO fsapps_tenant;
GRANT USAGE ON SEQUENCE kb_articles_id_seq TO fsapps_tenant;
