-- An agent's transfer of their caller, for the controller holding the caller to carry
-- out once the agent's leg is gone: {"agent": id} | {"dial": string} | {"queue": name}.
ALTER TABLE queue_members ADD COLUMN transfer jsonb;
