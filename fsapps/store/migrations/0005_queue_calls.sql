-- One row per caller's visit to a queue: how long they waited, rang, talked, and how it
-- ended (answered, abandoned, overflowed, timed_out, callback). Written through the
-- durable spool like usage records, so a database outage loses none.

CREATE TABLE queue_calls (
  event_id          uuid PRIMARY KEY,
  tenant_id         text NOT NULL REFERENCES tenants (id),
  call_uuid         uuid,
  queue             text NOT NULL,
  agent_id          text,                    -- who answered
  caller            text,
  joined_at         timestamptz NOT NULL,
  ended_at          timestamptz NOT NULL,
  wait_seconds      numeric(12, 3) NOT NULL,  -- joined -> answered, or -> left
  ring_seconds      numeric(12, 3) NOT NULL DEFAULT 0,
  talk_seconds      numeric(12, 3) NOT NULL DEFAULT 0,
  wrap_up_seconds   numeric(12, 3) NOT NULL DEFAULT 0,
  offers            integer NOT NULL DEFAULT 0,  -- agents rung before one answered
  outcome           text NOT NULL CHECK (outcome IN ('answered', 'abandoned', 'overflowed', 'timed_out', 'callback')),
  recording         text,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queue_calls_tenant ON queue_calls (tenant_id, queue, joined_at);

ALTER TABLE queue_calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON queue_calls TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
GRANT SELECT, INSERT ON queue_calls TO fsapps_tenant;
