"""Listening in on a call: eavesdrop (mod_dptools.c:920) and three_way
(mod_dptools.c:1030), both switch_ivr_eavesdrop_session (switch_ivr_async.c).

The emulator has no audio: the spy's channel stays in the application until
the channel it listens to, or the spy, hangs up. Who hears the spy is set
by eavesdrop_whisper_aleg / eavesdrop_whisper_bleg / eavesdrop_bridge_*
(three_way: both sides, ED_MUX_READ | ED_MUX_WRITE); the notes say which.
"""

from __future__ import annotations

from fsapps.sim.apps.registry import app, is_true
from fsapps.sim.channel import Channel


def _listen(ch: Channel, data: str, heard_by: list[str]) -> None:
    target = ch.switch.channels.get(data.strip())
    if target is None or not target.up or target is ch:
        ch.note(f"eavesdrop: no channel {data.strip()!r}")
        return
    who = " and ".join(heard_by) if heard_by else "nobody"
    ch.note(f"eavesdropping on {target.name}; heard by {who}")
    target.watchers.add(ch)  # its hangup wakes this wait
    try:
        ch.wait(float("inf"), lambda: None if target.up else "gone")
    finally:
        target.watchers.discard(ch)


@app("eavesdrop", needs_media=True)
def eavesdrop(ch: Channel, data: str) -> None:
    heard_by = []
    if is_true(ch.get_var("eavesdrop_whisper_aleg")) or is_true(ch.get_var("eavesdrop_bridge_aleg")):
        heard_by.append("a-leg")
    if is_true(ch.get_var("eavesdrop_whisper_bleg")) or is_true(ch.get_var("eavesdrop_bridge_bleg")):
        heard_by.append("b-leg")
    _listen(ch, data, heard_by)


@app("three_way", needs_media=True)
def three_way(ch: Channel, data: str) -> None:
    _listen(ch, data, ["a-leg", "b-leg"])
