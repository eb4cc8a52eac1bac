-- CDRs (one row per leg, from CHANNEL_HANGUP_COMPLETE) and usage records,
-- both written idempotently by event id (a spool may replay them).

CREATE TABLE cdrs (
  event_id       uuid PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  call_uuid      uuid NOT NULL,            -- the call's first leg: joins the legs of one call
  leg_uuid       uuid NOT NULL,
  leg            text NOT NULL CHECK (leg IN ('a', 'b')),
  direction      text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  caller         text,
  destination    text,
  queue          text,
  agent_id       text,
  started_at     timestamptz NOT NULL,
  answered_at    timestamptz,
  ended_at       timestamptz NOT NULL,
  wait_seconds   integer NOT NULL DEFAULT 0,
  billsec        integer NOT NULL DEFAULT 0,
  duration       integer NOT NULL DEFAULT 0,
  hangup_cause   text NOT NULL,
  recording      text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cdrs_tenant_started ON cdrs (tenant_id, started_at);
CREATE INDEX cdrs_call ON cdrs (call_uuid);

-- A call as the business sees it: its first (a) leg, with its longest
-- connected b leg's agent when the a leg does not name one.
CREATE VIEW calls WITH (security_invoker = true) AS
  SELECT a.call_uuid, a.tenant_id, a.direction, a.caller, a.destination, a.queue,
         coalesce(a.agent_id, b.agent_id) AS agent_id, a.started_at, a.answered_at, a.ended_at,
         a.wait_seconds, a.billsec, a.duration, a.hangup_cause, coalesce(a.recording, b.recording) AS recording
    FROM cdrs a
    LEFT JOIN LATERAL (SELECT agent_id, recording FROM cdrs b
                        WHERE b.call_uuid = a.call_uuid AND b.leg = 'b'
                        ORDER BY b.billsec DESC LIMIT 1) b ON true
   WHERE a.leg = 'a';

CREATE TABLE usage_records (
  event_id     uuid PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  resource     text NOT NULL CHECK (resource IN ('agent', 'ivr', 'recording', 'fax', 'voicemail', 'dialer')),
  resource_id  text,                        -- which agent, flow, campaign
  kind         text NOT NULL CHECK (kind IN ('handled_call', 'ivr_session', 'recording', 'fax_pages',
                                             'voicemail', 'outbound_attempt')),
  started_at   timestamptz NOT NULL,
  ended_at     timestamptz NOT NULL CHECK (ended_at >= started_at),
  workload     numeric(18, 3) NOT NULL CHECK (workload >= 0),
  unit         text NOT NULL CHECK (unit IN ('seconds', 'pages', 'bytes', 'count')),
  outcome      text NOT NULL,
  call_uuid    uuid,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_tenant_started ON usage_records (tenant_id, started_at);

-- Append-only: nobody updates or deletes a usage record.
CREATE FUNCTION fsapps_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER usage_records_append_only BEFORE UPDATE OR DELETE ON usage_records
  FOR EACH ROW EXECUTE FUNCTION fsapps_append_only();

ALTER TABLE cdrs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON cdrs TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE usage_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON usage_records TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
GRANT SELECT, INSERT ON cdrs, usage_records TO fsapps_tenant;
GRANT SELECT ON calls TO fsapps_tenant;
