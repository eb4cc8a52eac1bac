"""The emulator's dialplan applications, one module per concern."""

from fsapps.sim.apps import bridge, calls, digits, playback, recording, voicemail  # noqa: F401  (registration)
from fsapps.sim.apps.registry import APPLICATIONS

__all__ = ["APPLICATIONS"]
