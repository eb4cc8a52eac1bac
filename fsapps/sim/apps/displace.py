"""Displacing a leg's audio with a file: switch_ivr_displace_session and its stop
(switch_ivr_async.c:987-1122) as mod_commands' ``uuid_displace`` runs them
(mod_commands.c:4826-4877).

The media bug replaces, by default, what the channel is sent (write_displace_callback);
with the ``r`` flag, what is read from it (read_displace_callback), that is what its
bridged partner hears, and then what the channel is sent becomes silence unless the file
is mixed in (async:902-921; seen on 1.10.12: the agent's phone of a held caller hears
nothing). ``m`` mixes the file in instead of replacing, ``l`` loops it. One bug per file
and channel; it goes when stopped, at its limit, or with the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fsapps.sim import media
from fsapps.sim.apps.recording import Recording

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


def silenced(ch: Channel) -> bool:
    """Whether ``ch``'s far end is sent silence in place of its partner's audio: a read-side
    displacement that replaces (no ``m``) also blanks every frame written to the channel
    (read_displace_callback's WRITE_REPLACE, async:902-921: memset 255, samples of -1)."""
    now = ch.switch.clock.now()
    return any(d.read and not d.mux and d.running(now) for d in ch.displaced.values())


def media_bugs(ch: Channel) -> list[tuple[str, str]]:
    """(function, target) of the channel's media bugs the emulator keeps, oldest first, as
    uuid_buglist lists them: recordings ("session_record", async:3308) and displacements
    ("displace", async:1110-1114). The switch lists them in the order they were added
    (switch_core_media_bug.c:984-996); here bugs begun at the same instant list recordings first."""
    now = ch.switch.clock.now()
    bugs = [(r.started, "session_record", r.path) for r in ch.media_bugs.values() if isinstance(r, Recording)]
    bugs += [(d.started, "displace", d.file) for d in ch.displaced.values() if d.running(now)]
    return [(function, target) for _, function, target in sorted(bugs, key=lambda b: b[0])]


def heard_from(ch: Channel) -> list[str]:
    """What a bridged partner of ``ch`` hears in place of (or mixed into) ``ch``'s audio:
    its read-side displacements still running."""
    now = ch.switch.clock.now()
    return [d.file for d in ch.displaced.values() if d.read and d.running(now)]
