"""Holding a leg: switch_ivr_hold / switch_ivr_unhold (switch_ivr.c:1525-1655) as
mod_commands' ``uuid_hold`` runs them (mod_commands.c:3971-4003), on a SIP leg.

Held, the leg's partner (its ``signal_bond``) hears the held leg's hold music, broadcast
to it in a loop until the hold ends; unheld, that broadcast is stopped. The leg's call
state goes HELD and back to UNHELD: mod_sofia answers the hold indication by setting
CF_LEG_HOLDING (mod_sofia.c:2125-2133, 2164-2167), and an answered channel's callstate
follows that flag (switch_channel.c:1994, 2179).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsapps.esl.codec import Command

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel


def hold(ch: Channel) -> bool:
    """switch_ivr_hold with moh (ivr:1525-1564); False when it is held already (l.1536)."""
    if ch.callstate == "HELD":
        return False
    ch.note("hold")
    if ch.answered:
        ch.set_callstate("HELD")
    stream = hold_music(ch)
    partner = _partner(ch)
    if stream and partner is not None:
        broadcast_loop(partner, stream)
    ch.fire("CHANNEL_HOLD")
    return True


def unhold(ch: Channel) -> bool:
    """switch_ivr_unhold (ivr:1603-1643); False when it is not held (l.1614)."""
    if ch.callstate != "HELD":
        return False
    ch.note("unhold")
    ch.set_callstate("UNHELD")
    partner = _partner(ch)
    if partner is not None:
        stop_broadcast(partner)
    ch.fire("CHANNEL_UNHOLD")
    return True


def toggle(ch: Channel) -> bool:
    """switch_ivr_hold_toggle_uuid (ivr:1580-1600): an active or unheld leg is held, a held
    one unheld; any other call state is left as it is (and answers success)."""
    if ch.callstate in ("ACTIVE", "UNHELD"):
        return hold(ch)
    if ch.callstate == "HELD":
        return unhold(ch)
    return True


def hold_music(ch: Channel) -> str | None:
    """switch_channel_get_hold_music (switch_channel.c:894-913): temp_hold_music, else
    hold_music, expanded on the held channel."""
    var = ch.get_var("temp_hold_music") or ch.get_var("hold_music")
    return ch.expand(var) if var else None


def broadcast_loop(ch: Channel, stream: str) -> None:
    """switch_ivr_broadcast(uuid, stream, SMF_ECHO_ALEG | SMF_LOOP) (switch_ivr_async.c:
    5727-5745): playback of the stream queued on the channel, event-locked, loops -1."""
    ch.queue_private_event(
        Command(
            "sendmsg",
            (
                ("call-command", "execute"),
                ("execute-app-name", "playback"),
                ("execute-app-arg", stream),
                ("event-lock", "true"),
                ("lead-frames", "5"),
                ("loops", "-1"),
            ),
        )
    )


def stop_broadcast(ch: Channel) -> None:
    """switch_channel_stop_broadcast (switch_channel.h:664): only a broadcasting channel
    gets CF_STOP_BROADCAST and CF_BREAK."""
    if ch.broadcasting:
        ch.stop_broadcast = True
        ch.break_flag = True
        ch.kick()


def _partner(ch: Channel) -> Channel | None:
    """switch_channel_get_partner_uuid (switch_channel.c:4864): signal_bond, else
    originate_signal_bond; the session located (gone: none)."""
    uid = ch.get_var("signal_bond") or ch.get_var("originate_signal_bond")
    other = ch.switch.channels.get(uid) if uid else None
    return other if other is not None and other.up else None


def held_leg_left(ch: Channel) -> None:
    """A held leg's bridge ends (switch_ivr_bridge.c:913-934): its partner, still up and
    not parked, has the hold music stopped and is hung up with the held leg's cause, or
    goes to the held leg's hold_hangup_xfer_exten when it names one."""
    partner = _partner(ch)
    if partner is None or partner.parked:
        return
    stop_broadcast(partner)
    ext = ch.get_var("hold_hangup_xfer_exten")
    if ext:
        partner.set_var("transfer_after_bridge", ext)
    else:
        partner.hangup(ch.hangup_cause or "NORMAL_CLEARING")
