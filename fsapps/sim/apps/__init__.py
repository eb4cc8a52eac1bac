"""The emulator's dialplan applications, one module per concern."""

from fsapps.sim.apps import (  # noqa: F401  (registration)
    bridge,
    calls,
    digits,
    eavesdrop,
    playback,
    recording,
    voicemail,
)
from fsapps.sim.apps.registry import APPLICATIONS

__all__ = ["APPLICATIONS"]
