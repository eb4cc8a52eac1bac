-- Wallboards: a TV on the floor shows the tenant's queue figures, opened with a read-only
-- token a tenant admin issues and revokes. Like api_tokens, only the token's SHA-256 digest
-- is kept; unlike them it belongs to no user (a TV is nobody), and it reads queue figures
-- and nothing else (fsapps.web.policy's wallboard role). Found by the owner before any
-- tenant is known; listed, issued and revoked in the tenant's transaction.
CREATE TABLE wallboard_tokens (
  id            bigserial PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  name          text NOT NULL CHECK (name <> ''),
  token_sha256  text NOT NULL UNIQUE,
  created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);
ALTER TABLE wallboard_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON wallboard_tokens TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT, INSERT ON wallboard_tokens TO fsapps_tenant;
GRANT UPDATE (revoked_at) ON wallboard_tokens TO fsapps_tenant;
GRANT USAGE ON SEQUENCE wallboard_tokens_id_seq TO fsapps_tenant;
