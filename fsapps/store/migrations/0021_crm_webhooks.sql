-- The customer card on the desk: where a call was handed from one agent to another (the
-- card travels with it), and each tenant's CRM webhook (call offered / answered / ended,
-- POSTed with an HMAC-SHA256 signature by fsapps.webhooks).

-- An agent's transfer or consult of their caller to another agent of the tenant: the
-- receiving agent's desk pops the caller's card from it (also after a reload).
CREATE TABLE call_handovers (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  member       uuid NOT NULL,                -- the caller's channel (queue_members.uuid)
  queue        text NOT NULL,
  number       text NOT NULL DEFAULT '',     -- the caller ID, as the queue had it
  name         text NOT NULL DEFAULT '',
  from_agent   text NOT NULL,
  to_agent     text NOT NULL,
  how          text NOT NULL CHECK (how IN ('transfer', 'consult')),
  customer_id  bigint REFERENCES customers (id) ON DELETE SET NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_handovers_to ON call_handovers (tenant_id, to_agent, at DESC);

-- One webhook per tenant. The secret signs each body (X-Fsapps-Signature: sha256=<hex>);
-- it is written, never read back by the API. The last delivery's outcome is the sender's.
CREATE TABLE crm_webhooks (
  tenant_id    text PRIMARY KEY REFERENCES tenants (id),
  url          text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
  secret       text NOT NULL CHECK (length(secret) BETWEEN 16 AND 200),
  enabled      boolean NOT NULL DEFAULT true,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  last_at      timestamptz,
  last_event   text,
  last_status  text                          -- "200", "timeout", "refused: ...", ...
);

ALTER TABLE call_handovers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON call_handovers TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE crm_webhooks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON crm_webhooks TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT ON call_handovers TO fsapps_tenant;
GRANT USAGE ON SEQUENCE call_handovers_id_seq TO fsapps_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm_webhooks TO fsapps_tenant;
