"""Displacing a leg's audio with a file: switch_ivr_displace_session and its stop
(switch_ivr_async.c:987-1122) as mod_commands' ``uuid_displace`` runs them
(mod_commands.c:4826-4877).

The media bug replaces, by default, what the channel is sent (write_displace_callback);
with the ``r`` flag, what is read from it (read_displace_callback), that is what its
bridged partner hears. ``m`` mixes the file in instead of replacing, ``l`` loops it. One
bug per file and channel; it goes when stopped, at its limit, or with the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fsapps.sim import media

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel


@dataclass
class Displacement:
    file: str
    started: float
    until: float | None  # the limit's end (switch time), or none
    read: bool  # 'r': replaces what is read from the channel (its partner hears the file)
    mux: bool
    loop: bool

    def running(self, now: float) -> bool:
        return self.until is None or now < self.until


def displace(ch: Channel, file: str, limit: int, flags: str) -> bool:
    """switch_ivr_displace_session (async:1001-1122)."""
    if not file or not ch.up:
        return False
    if not (ch.answered or ch.early_media):
        ch.mark_pre_answered()  # l.1024: switch_channel_pre_answer
    if file in ch.displaced and ch.displaced[file].running(ch.switch.clock.now()):
        return False  # l.1033-1036: "Only 1 of the same file per channel please!"
    try:
        media.resolve(file, ch.get_var("sound_prefix") or "")  # l.1075: the file must open
    except media.MediaNotFound:
        ch.note(f"displace: cannot open {file}")
        return False
    now = ch.switch.clock.now()
    ch.displaced[file] = Displacement(
        file, now, now + limit if limit else None, read="r" in flags, mux="m" in flags, loop="l" in flags
    )
    ch.note(f"displace({file})")
    return True


def stop_displace(ch: Channel, file: str) -> bool:
    """switch_ivr_stop_displace_session (async:987-999): the channel's bug for that file."""
    if ch.displaced.pop(file, None) is None:
        return False
    ch.note(f"displace stopped: {file}")
    return True


def heard_from(ch: Channel) -> list[str]:
    """What a bridged partner of ``ch`` hears in place of (or mixed into) ``ch``'s audio:
    its read-side displacements still running."""
    now = ch.switch.clock.now()
    return [d.file for d in ch.displaced.values() if d.read and d.running(now)]
