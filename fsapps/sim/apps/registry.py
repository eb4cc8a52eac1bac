"""Where dialplan applications are registered by name, with FreeSWITCH's flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel

AppFn = Callable[["Channel", str], None]


@dataclass(frozen=True)
class Application:
    name: str
    fn: AppFn
    # SAF_ZOMBIE_EXEC: still runs on a hung-up channel (switch_core_session.c:2748).
    zombie: bool = False
    # Not SAF_SUPPORT_NOMEDIA: an unanswered inbound channel is pre-answered
    # before CHANNEL_EXECUTE (switch_core_session.c:2789).
    needs_media: bool = False


APPLICATIONS: dict[str, Application] = {}


def app(name: str, *, zombie: bool = False, needs_media: bool = False) -> Callable[[AppFn], AppFn]:
    def register(fn: AppFn) -> AppFn:
        APPLICATIONS[name] = Application(name, fn, zombie, needs_media)
        return fn

    return register


def respond(ch: Channel, text: str) -> None:
    """What CHANNEL_EXECUTE_COMPLETE reports as Application-Response."""
    ch.set_var("current_application_response", text)


def int_arg(s: str | None, default: int) -> int:
    try:
        return int(s) if s not in (None, "") else default
    except ValueError:
        return default


def is_true(value: str | None) -> bool:
    """switch_true (switch_utils.h:550)."""
    if value is None:
        return False
    v = value.strip().lower()
    if v in ("yes", "on", "true", "t", "enabled", "active", "allow"):
        return True
    try:
        return int(v) != 0
    except ValueError:
        return False
