-- The CRM: a tenant's customers, the numbers they call from, the custom fields the tenant
-- admin defines for them, notes on them, and an account owner (an agent serving the tenant)
-- whom the queues ring first (fsapps.store.acd.send_join looks the owner up by the caller's
-- number as the caller joins: ACCOUNT_OWNER).

-- The tenant's custom fields: a customer's ``fields`` may hold these keys, of these types.
CREATE TABLE customer_fields (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  name       text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  type       text NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'date')),
  label      text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE customers (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  name         text NOT NULL CHECK (name <> ''),
  company      text NOT NULL DEFAULT '',
  tags         text[] NOT NULL DEFAULT '{}',
  fields       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
  owner_agent  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- The owner serves this tenant; an agent who stops serving it owns none of its customers.
  FOREIGN KEY (owner_agent, tenant_id) REFERENCES agent_tenants (agent_id, tenant_id)
    ON DELETE SET NULL (owner_agent)
);
CREATE INDEX customers_tenant_name ON customers (tenant_id, lower(name));
CREATE INDEX customers_tags ON customers USING gin (tags);

-- One number, one customer of the tenant (the screen pop and the owner's routing find
-- them by it). Stored as the caller ID arrives: digits, * and #, an optional leading +.
CREATE TABLE customer_numbers (
  tenant_id    text NOT NULL,
  number       text NOT NULL CHECK (number ~ '^\+?[0-9*#]{1,32}$'),
  customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  position     smallint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, number)
);
CREATE INDEX customer_numbers_customer ON customer_numbers (customer_id);

CREATE TABLE customer_notes (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  author       text NOT NULL,               -- the username, kept if the user goes
  call_uuid    uuid,                        -- the call it was written on, if any
  body         text NOT NULL CHECK (body <> ''),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_notes_customer ON customer_notes (customer_id, created_at);

-- The timeline finds a customer's calls and callbacks by their numbers.
CREATE INDEX queue_calls_caller ON queue_calls (tenant_id, caller);
CREATE INDEX cdrs_caller ON cdrs (tenant_id, caller);
CREATE INDEX callback_requests_number ON callback_requests (tenant_id, number);

ALTER TABLE customer_fields ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON customer_fields TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON customers TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE customer_numbers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON customer_numbers TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE customer_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON customer_notes TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_fields, customers, customer_numbers, customer_notes
  TO fsapps_tenant;
GRANT USAGE ON SEQUENCE customers_id_seq, customer_notes_id_seq TO fsapps_tenant;
