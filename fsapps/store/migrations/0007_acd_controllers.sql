-- Controllers say they are alive every second; a controller not heard from for a while
-- is dead, and what it held (agents ringing or talking, callers waiting) is freed by the
-- others, so no agent stays Reserved and no ghost caller holds a place forever.
CREATE TABLE acd_controllers (
  name        text PRIMARY KEY,
  seen_epoch  double precision NOT NULL
);
