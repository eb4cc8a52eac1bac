-- What mod_callcenter keeps about a waiting caller outside its members table, kept on
-- the caller's row here so that every controller sharing this database sees it, and a
-- caller handed to another controller keeps it:
--
-- * system_epoch: when the call was answered by the switch (mod_callcenter's members
--   column of that name, filled from the channel's answered time, mod_callcenter.c:3037):
--   with time-base-score "system" the time before the queue counts toward the caller's place.
-- * last_tier_level, last_tier_position: the tier of the agent last offered this caller;
--   top-down goes on below it (mod_callcenter keeps them in the caller's channel variables
--   cc_last_agent_tier_level and cc_last_agent_tier_position, l.2436-2443, and clears them
--   when no agent is left below, l.2736-2745). 0, 0: start from the top.
-- * last_originated: when an agent was last added to this caller's ringing
--   (ring-progressively's cc_last_originated_call, l.2427-2432); the next one joins
--   ring-progressively-delay seconds later (l.2704-2716).
--
-- The queue's last offered agent (round-robin) needs no column: mod_callcenter reads it
-- from the agents' last_offered_call (l.2655-2656), as fsapps does from agent_state;
-- when a queue last had an agent logged in is the agents' last_status_change, and whom
-- a caller's offer rings the agents' offered_member.
ALTER TABLE queue_members
  ADD COLUMN system_epoch        double precision NOT NULL DEFAULT 0,
  ADD COLUMN last_tier_level     integer NOT NULL DEFAULT 0,
  ADD COLUMN last_tier_position  integer NOT NULL DEFAULT 0,
  ADD COLUMN last_originated     double precision NOT NULL DEFAULT 0;
