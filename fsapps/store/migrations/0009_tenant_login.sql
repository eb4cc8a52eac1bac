-- Tenant walls that hold against any SQL run inside a tenant transaction.
--
-- Until 0008 a tenant transaction was the owner's connection with SET LOCAL ROLE
-- fsapps_tenant and the setting fsapps.tenant: RESET ROLE, or set_config('fsapps.tenant',
-- 'other', true), walked through the wall. From here on:
--
-- * Tenant transactions run on connections that log in as a role of their own (its name
--   and password in fsapps_private.tenant_login): no superuser, no BYPASSRLS, no CREATEROLE,
--   owner of nothing, member of fsapps_tenant only. RESET ROLE leads back to that role.
-- * fsapps_private.bind_tenant(secret, tenant) binds the transaction to one tenant. Only the
--   Store knows the secret (that role cannot read fsapps_private.tenant_login), and a
--   transaction already bound cannot be bound again. The binding is the setting
--   fsapps.binding, "<tenant>/<HMAC-SHA256 of the tenant, the backend and the transaction's
--   start>", set for the transaction only: fsapps_current_tenant() returns the tenant only
--   when the MAC checks out, so a value set by hand, or copied from an earlier transaction,
--   binds nothing, and after a COMMIT the next transaction sees no tenant's rows.
-- * The policies call fsapps_current_tenant() once per statement, as an InitPlan
--   ((SELECT fsapps_current_tenant())), not once per row: checking the MAC costs about
--   10 us a call.
-- * Tenants no longer update their own tenants row (plan, status: the operator's), and an
--   API token is issued only for a user of the same tenant.
--
-- The login role is created here, so the migrating role needs CREATEROLE (or superuser)
-- and the ADMIN option on fsapps_tenant (the role that created it in 0001 has it). Roles
-- belong to the whole cluster: the name is fsapps_app_<database>, so two fsapps databases
-- in one cluster do not share a password.

CREATE SCHEMA fsapps_private;
REVOKE ALL ON SCHEMA fsapps_private FROM PUBLIC;

CREATE TABLE fsapps_private.tenant_login (
  only_row     boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  role_name    text NOT NULL CHECK (octet_length(role_name) < 64),
  password     text NOT NULL,       -- the embedded server trusts its unix socket and ignores it
  bind_secret  text NOT NULL,       -- what bind_tenant asks of its caller: the Store
  mac_inner    bytea NOT NULL,      -- the HMAC key xor the inner pad (RFC 2104), 64 bytes
  mac_outer    bytea NOT NULL       -- ... xor the outer pad
);
REVOKE ALL ON fsapps_private.tenant_login FROM PUBLIC;

-- 32 bytes from the server's strong random source (gen_random_uuid: 122 random bits each).
CREATE FUNCTION fsapps_private.random_key() RETURNS bytea
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
$$;
REVOKE ALL ON FUNCTION fsapps_private.random_key() FROM PUBLIC;

-- The MAC of a binding: HMAC-SHA256 over the tenant, this backend and this transaction's
-- start (microseconds since the epoch, whatever the session's TimeZone or DateStyle).
-- PL/pgSQL, as the functions below: it keeps its plan for the session, where a SQL function
-- that is not inlined is planned at each call (measured: 10 us a call against 120 us).
CREATE FUNCTION fsapps_private.binding_mac(tenant text) RETURNS text
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  k fsapps_private.tenant_login;
BEGIN
  SELECT * INTO STRICT k FROM fsapps_private.tenant_login;
  RETURN encode(sha256(k.mac_outer || sha256(k.mac_inner || convert_to(
           tenant || '/' || pg_backend_pid()::text || '/'
           || (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint::text, 'UTF8'))), 'hex');
END $$;
REVOKE ALL ON FUNCTION fsapps_private.binding_mac(text) FROM PUBLIC;

-- The tenant this transaction is bound to, or NULL.
CREATE FUNCTION fsapps_private.bound_tenant() RETURNS text
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  binding text := current_setting('fsapps.binding', true);
  tenant text := split_part(binding, '/', 1);
BEGIN
  IF tenant <> '' AND split_part(binding, '/', 2) = fsapps_private.binding_mac(tenant) THEN
    RETURN tenant;
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION fsapps_private.bound_tenant() FROM PUBLIC;

-- Every policy since 0001 calls this: same name, now reading the binding.
CREATE OR REPLACE FUNCTION fsapps_current_tenant() RETURNS text
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN fsapps_private.bound_tenant();
END $$;

CREATE FUNCTION fsapps_private.bind_tenant(secret text, tenant text) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM fsapps_private.tenant_login k WHERE k.bind_secret = secret) THEN
    RAISE EXCEPTION 'fsapps_private.bind_tenant: wrong secret' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF fsapps_private.bound_tenant() IS NOT NULL THEN
    RAISE EXCEPTION 'this transaction is bound to a tenant already' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF tenant IS NULL OR tenant !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
    RAISE EXCEPTION 'not a tenant id: %', tenant USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM set_config('fsapps.binding', tenant || '/' || fsapps_private.binding_mac(tenant), true);
END $$;
REVOKE ALL ON FUNCTION fsapps_private.bind_tenant(text, text) FROM PUBLIC;
GRANT USAGE ON SCHEMA fsapps_private TO fsapps_tenant;
GRANT EXECUTE ON FUNCTION fsapps_private.bind_tenant(text, text) TO fsapps_tenant;

-- Create or repair the login role; returns its name, its password and the binding secret
-- (to the owner: nobody else may run this). Run here, and by the
-- Store each time it opens: a database restored into another cluster gets its role back,
-- and what tenant SQL may do to its own login (ALTER ROLE ... PASSWORD, ALTER ROLE ... SET)
-- is undone.
CREATE FUNCTION fsapps_private.ensure_tenant_login() RETURNS TABLE (role_name text, password text, bind_secret text)
  LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  k fsapps_private.tenant_login;
  key bytea;
  other text;
BEGIN
  PERFORM pg_advisory_xact_lock(1718837616);  -- "fsap": concurrent ALTER ROLEs would collide
  SELECT * INTO k FROM fsapps_private.tenant_login;
  IF NOT FOUND THEN
    key := fsapps_private.random_key() || decode(repeat('00', 32), 'hex');  -- padded to the block size
    k.role_name := 'fsapps_app_' || current_database();
    IF octet_length(k.role_name) > 63 THEN
      k.role_name := 'fsapps_app_' || left(md5(current_database()), 16);
    END IF;
    k.password := encode(fsapps_private.random_key(), 'hex');
    k.bind_secret := encode(fsapps_private.random_key(), 'hex');
    k.mac_inner := key;
    k.mac_outer := key;
    FOR i IN 0..63 LOOP
      k.mac_inner := set_byte(k.mac_inner, i, get_byte(key, i) # 54);   -- 0x36
      k.mac_outer := set_byte(k.mac_outer, i, get_byte(key, i) # 92);   -- 0x5c
    END LOOP;
    INSERT INTO fsapps_private.tenant_login (role_name, password, bind_secret, mac_inner, mac_outer)
      VALUES (k.role_name, k.password, k.bind_secret, k.mac_inner, k.mac_outer);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = k.role_name) THEN
    EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION'
                   ' NOBYPASSRLS PASSWORD %L', k.role_name, k.password);
  ELSE
    BEGIN  -- repair what its own SQL may have changed; the checks below are what must hold
      EXECUTE format('ALTER ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION'
                     ' NOBYPASSRLS PASSWORD %L', k.role_name, k.password);
      EXECUTE format('ALTER ROLE %I RESET ALL', k.role_name);
      EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET ALL', k.role_name, current_database());
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'cannot reset role % (%): its password and settings stay as they are', k.role_name, SQLERRM;
    END;
  END IF;
  IF NOT pg_has_role(k.role_name, 'fsapps_tenant', 'USAGE') THEN
    EXECUTE format('GRANT fsapps_tenant TO %I', k.role_name);
  END IF;
  IF NOT has_database_privilege(k.role_name, current_database(), 'CONNECT, TEMPORARY') THEN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), k.role_name);
  END IF;
  -- What must hold for the wall: no way around row-level security, no other role's rights.
  IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname IN (k.role_name, 'fsapps_tenant')
              AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication)) THEN
    RAISE EXCEPTION 'roles % and fsapps_tenant must be NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB'
      ' NOREPLICATION', k.role_name USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT string_agg(g.rolname, ', ') INTO other
    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
   WHERE (u.rolname = k.role_name AND g.rolname <> 'fsapps_tenant') OR u.rolname = 'fsapps_tenant';
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'role % or fsapps_tenant is a member of %: revoke that, tenant connections must have'
      ' fsapps_tenant''s rights only', k.role_name, other USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Nothing of its own that outlives the session: a table, view or function it made would
  -- be there for the next tenant's SQL (a schema named after it comes first in search_path).
  SELECT string_agg(quote_ident(n.nspname), ', ') INTO other FROM pg_namespace n
   WHERE has_schema_privilege(k.role_name, n.oid, 'CREATE')
     AND n.nspname !~ '^pg_(toast_)?temp_';
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'role % may create objects in schema %: REVOKE CREATE ON SCHEMA % FROM PUBLIC'
      ' (PostgreSQL 15''s default for public), or from whoever gave it', k.role_name, other, other
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF has_database_privilege(k.role_name, current_database(), 'CREATE') THEN
    RAISE EXCEPTION 'role % may create schemas: REVOKE CREATE ON DATABASE % FROM PUBLIC', k.role_name,
      quote_ident(current_database()) USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
              WHERE r.rolname IN (k.role_name, 'fsapps_tenant') AND c.relpersistence <> 't') THEN
    RAISE EXCEPTION 'role % or fsapps_tenant owns tables, which row-level security does not hold for',
      k.role_name USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN QUERY SELECT k.role_name, k.password, k.bind_secret;
END $$;
REVOKE ALL ON FUNCTION fsapps_private.ensure_tenant_login() FROM PUBLIC;

SELECT fsapps_private.ensure_tenant_login();

-- The policies: the binding checked once per statement.
ALTER POLICY tenant_own_row ON tenants USING (id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON access_numbers
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON users
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
-- A token for one's own users only: the users a tenant sees are its own.
ALTER POLICY tenant_rows ON api_tokens
  USING (tenant_id = (SELECT fsapps_current_tenant()))
  WITH CHECK (tenant_id = (SELECT fsapps_current_tenant())
              AND EXISTS (SELECT 1 FROM users u WHERE u.id = api_tokens.user_id AND u.tenant_id = api_tokens.tenant_id));
ALTER POLICY tenant_rows ON agent_tenants USING (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY serving_tenant ON agents USING (EXISTS (
  SELECT 1 FROM agent_tenants m WHERE m.agent_id = agents.id AND m.tenant_id = (SELECT fsapps_current_tenant())));
ALTER POLICY tenant_rows ON cdrs
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON usage_records
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON blacklist
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON outages
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON callback_requests
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON survey_answers
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON queue_members
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));
ALTER POLICY tenant_rows ON queue_calls
  USING (tenant_id = (SELECT fsapps_current_tenant())) WITH CHECK (tenant_id = (SELECT fsapps_current_tenant()));

-- The plan and the status are the operator's.
REVOKE UPDATE ON tenants FROM fsapps_tenant;
-- So are the access numbers: one number, one tenant, given out by the operator (a tenant
-- could otherwise claim a number nobody has yet).
REVOKE INSERT, UPDATE, DELETE ON access_numbers FROM fsapps_tenant;
