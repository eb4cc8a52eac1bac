-- Which transaction last changed each agent's row, and each agent's state: a dispatcher
-- keeps the agents in memory and reads, each pass, only those changed by transactions its
-- last read could not see (changed_xid at or after that read's snapshot xmin;
-- fsapps.store.acd.load_agent_changes). An agent's contact (agents) counts as much as
-- their state (agent_state): a phone provisioned or moved is rung at its new address.
ALTER TABLE agent_state ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE agents ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE FUNCTION fsapps_row_changed() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.changed_xid := pg_current_xact_id();
  RETURN NEW;
END
$$;

CREATE TRIGGER agent_state_changed BEFORE INSERT OR UPDATE ON agent_state
  FOR EACH ROW EXECUTE FUNCTION fsapps_row_changed();
CREATE TRIGGER agents_changed BEFORE INSERT OR UPDATE ON agents
  FOR EACH ROW EXECUTE FUNCTION fsapps_row_changed();
