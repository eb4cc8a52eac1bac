-- A supervisor moves a waiting caller to another queue (the HTTP API): the caller's visit to
-- the first queue ends as "moved", and a new visit to the other queue begins.
ALTER TABLE queue_calls DROP CONSTRAINT queue_calls_outcome_check;
ALTER TABLE queue_calls ADD CONSTRAINT queue_calls_outcome_check
  CHECK (outcome IN ('answered', 'abandoned', 'overflowed', 'timed_out', 'callback', 'moved'));
