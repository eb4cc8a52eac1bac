-- Quality assurance (S2.6 质检席): the tenant admin's scorecards, and evaluations of recorded
-- queue calls scored against them (fsapps.qa holds the rules, fsapps.store.qa the SQL).

-- A scorecard is a name for a form that changes over time; each change is a new version,
-- and an evaluation names the version it was scored against, so editing the form never
-- changes an evaluation already made. A retired scorecard is offered for no new evaluation;
-- its versions stay for the evaluations that name them.
CREATE TABLE qa_scorecards (
  id          bigserial PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);
CREATE INDEX qa_scorecards_tenant ON qa_scorecards (tenant_id) WHERE retired_at IS NULL;

CREATE TABLE qa_scorecard_versions (
  id            bigserial PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  scorecard_id  bigint NOT NULL REFERENCES qa_scorecards (id),
  version       integer NOT NULL CHECK (version >= 1),
  name          text NOT NULL CHECK (name <> ''),
  -- [{label, weight, type: yes_no|scale, max, critical}], checked by fsapps.qa.criteria
  criteria      jsonb NOT NULL CHECK (jsonb_typeof(criteria) = 'array'),
  created_by    text NOT NULL,              -- the username, kept if the user goes
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (scorecard_id, version)
);

CREATE TABLE qa_evaluations (
  id            bigserial PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  recording_id  uuid NOT NULL REFERENCES queue_calls (event_id),
  scorecard_version_id bigint NOT NULL REFERENCES qa_scorecard_versions (id),
  -- Copied from the queue call, so the agent's own and the reports' averages read one table.
  call_uuid     uuid,
  queue         text NOT NULL,
  agent_id      text,                       -- who answered the call: whose score this is
  call_at       timestamptz NOT NULL,       -- when the caller joined the queue: reports' date ranges
  evaluator     text NOT NULL,              -- the username, kept if the user goes
  answers       jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'array'),  -- [{value, note}] per criterion
  note          text NOT NULL DEFAULT '',
  score         numeric(5, 2) NOT NULL CHECK (score BETWEEN 0 AND 100),
  critical_failed boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qa_evaluations_agent ON qa_evaluations (tenant_id, agent_id, call_at);
CREATE INDEX qa_evaluations_queue ON qa_evaluations (tenant_id, queue, call_at);
CREATE INDEX qa_evaluations_recording ON qa_evaluations (recording_id);
-- The QA worklist filters recordings by the caller's survey answers.
CREATE INDEX survey_answers_call ON survey_answers (tenant_id, call_uuid);

ALTER TABLE qa_scorecards ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON qa_scorecards TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE qa_scorecard_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON qa_scorecard_versions TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER TABLE qa_evaluations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON qa_evaluations TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
-- Versions and evaluations are written once: no UPDATE or DELETE for the tenant's role.
GRANT SELECT, INSERT, UPDATE ON qa_scorecards TO fsapps_tenant;
GRANT SELECT, INSERT ON qa_scorecard_versions, qa_evaluations TO fsapps_tenant;
GRANT USAGE ON SEQUENCE qa_scorecards_id_seq, qa_scorecard_versions_id_seq, qa_evaluations_id_seq
  TO fsapps_tenant;
