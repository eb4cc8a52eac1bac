-- The language a user's console pages are in (the catalogues': en, zh-CN); NULL: the one
-- their browser asks for. The tenant admin sets it with the user's role.
ALTER TABLE users ADD COLUMN language text CHECK (language IN ('en', 'zh-CN'));

-- What a tenant admin sets for the console: the supervisor floor's stuck-agent limits (how long
-- an agent may ring, talk, wrap up, sit idle after a call or stay on break before the floor
-- raises an alert), in seconds per activity. No row: the defaults (fsapps.console_settings).
CREATE TABLE tenant_console_settings (
  tenant_id     text PRIMARY KEY REFERENCES tenants (id),
  -- {activity: seconds}, checked by fsapps.console_settings.stuck_limits
  stuck_limits  jsonb NOT NULL CHECK (jsonb_typeof(stuck_limits) = 'object'),
  changed_by    text NOT NULL,              -- the username, kept if the user goes
  changed_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenant_console_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON tenant_console_settings TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT, UPDATE ON tenant_console_settings TO fsapps_tenant;
