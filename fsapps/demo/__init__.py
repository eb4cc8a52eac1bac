"""``fsapps demo``: a call center on the emulator, with nothing to install.

``live`` (the default): the console on a loopback port, a tenant with agents whose
emulated phones answer, seeded users for every role, and callers arriving until Ctrl-C.
``scripted`` (``--once``): three scripted callers through a toy menu, each call told
and stored, then exit; deterministic, for CI."""

from fsapps.demo.scripted import CALLERS, DEMO_NUMBER, DEMO_TENANT, describe, run

__all__ = ["CALLERS", "DEMO_NUMBER", "DEMO_TENANT", "describe", "run"]
