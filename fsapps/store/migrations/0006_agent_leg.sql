-- The agent's phone leg while it rings or talks for a queue call: supervisors listen to,
-- whisper to or barge into it, and operations find the caller through offered_member.
ALTER TABLE agent_state ADD COLUMN agent_leg uuid;
