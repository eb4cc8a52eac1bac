-- Self-service applications: blacklist, outage notices, callback requests,
-- survey answers; and the schema tenants' lookup tables live in.

CREATE TABLE blacklist (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  number      text NOT NULL CHECK (number ~ '^\+?[0-9*#]+$'),
  match       text NOT NULL DEFAULT 'exact' CHECK (match IN ('exact', 'prefix')),
  reason      text NOT NULL DEFAULT '',
  expires_at  timestamptz,                  -- NULL: until removed
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, number, match)
);

CREATE TABLE outages (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  area_kind   text NOT NULL CHECK (area_kind IN ('prefix', 'area')),  -- caller prefix, or a district/account attribute
  area        text NOT NULL CHECK (area <> ''),
  message     text NOT NULL CHECK (message <> ''),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outages_tenant_window ON outages (tenant_id, ends_at);

-- Written through the durable writer (spooled while the database is away):
-- keyed by event id so a replay lands once.
CREATE TABLE callback_requests (
  event_id          uuid PRIMARY KEY,
  tenant_id         text NOT NULL REFERENCES tenants (id),
  call_uuid         uuid,
  number            text NOT NULL,
  queue             text,
  queue_entered_at  timestamptz,            -- the caller's place: served as if they had waited on
  requested_at      timestamptz NOT NULL,
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dialing', 'done', 'failed')),
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callback_requests_pending ON callback_requests (tenant_id, queue_entered_at) WHERE status = 'pending';

CREATE TABLE survey_answers (
  event_id     uuid PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  call_uuid    uuid,
  agent_id     text,
  queue        text,
  flow         text NOT NULL,
  question     text NOT NULL,
  score        smallint CHECK (score BETWEEN 1 AND 5),   -- NULL: asked, not answered
  answered_at  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX survey_answers_tenant ON survey_answers (tenant_id, answered_at);

ALTER TABLE blacklist ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON blacklist TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE outages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON outages TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE callback_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON callback_requests TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
ALTER TABLE survey_answers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON survey_answers TO fsapps_tenant
  USING (tenant_id = fsapps_current_tenant()) WITH CHECK (tenant_id = fsapps_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON blacklist, outages TO fsapps_tenant;
GRANT SELECT, INSERT, UPDATE ON callback_requests TO fsapps_tenant;
GRANT SELECT, INSERT ON survey_answers TO fsapps_tenant;

-- Tenants' own records for the lookup application (accounts, orders ...):
-- tables in this schema with a tenant_id column and a tenant_rows policy,
-- read as the fsapps_tenant role, so one tenant's flow cannot read another's.
CREATE SCHEMA IF NOT EXISTS lookup;
GRANT USAGE ON SCHEMA lookup TO fsapps_tenant;
