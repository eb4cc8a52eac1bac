"""CDR variables set at hangup: switch_channel_set_timestamps (switch_channel.c:4488)."""

from __future__ import annotations

import time

from fsapps.sim.channel import Channel


def set_cdr_variables(ch: Channel) -> None:
    t = ch.profile.times
    end = t.get("hangup") or ch.switch.clock.micros()
    start = t.get("created", end)
    # switch_channel.c:4602, 4670-4674: from the current profile, which a transfer replaced.
    profile_start = t.get("profile_created", start)
    answered = t.get("answered", 0)
    progress = t.get("progress", 0)
    progress_media = t.get("progress_media", 0)
    bridged = t.get("bridged", 0)

    def stamp(us: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us / 1_000_000))

    v = ch.set_var
    v("digits_dialed", ch.digits_dialed or "none")
    v("start_stamp", stamp(start))
    v("profile_start_stamp", stamp(profile_start))
    if answered:
        v("answer_stamp", stamp(answered))
    if bridged:
        v("bridge_stamp", stamp(bridged))
    if progress:
        v("progress_stamp", stamp(progress))
    if progress_media:
        v("progress_media_stamp", stamp(progress_media))
    v("end_stamp", stamp(end))
    for name, us in (
        ("start", start),
        ("profile_start", profile_start),
        ("answer", answered),
        ("bridge", bridged),
        ("last_hold", 0),
    ):
        v(f"{name}_epoch", str(us // 1_000_000))
        v(f"{name}_uepoch", str(us))
    v("hold_accum_seconds", "0")
    v("hold_accum_usec", "0")
    v("hold_accum_ms", "0")
    v("resurrect_epoch", "0")
    v("resurrect_uepoch", "0")
    v("progress_epoch", str(progress // 1_000_000))
    v("progress_uepoch", str(progress))
    v("progress_media_epoch", str(progress_media // 1_000_000))
    v("progress_media_uepoch", str(progress_media))
    v("end_epoch", str(end // 1_000_000))
    v("end_uepoch", str(end))
    p = ch.profile
    v("caller_id", f'"{p.caller_id_name}" <{p.caller_id_number}>' if p.caller_id_name else p.caller_id_number)
    duration_us = end - start
    bill_us = end - answered if answered else 0
    progress_us = progress - start if progress else 0
    answer_us = answered - start if answered else 0
    wait_us = bridged - start if bridged else 0
    pm_us = progress_media - start if progress_media else 0
    v("duration", str(end // 1_000_000 - start // 1_000_000))
    v("billsec", str(end // 1_000_000 - answered // 1_000_000 if answered else 0))
    v("progresssec", str(progress // 1_000_000 - start // 1_000_000 if progress else 0))
    v("answersec", str(answered // 1_000_000 - start // 1_000_000 if answered else 0))
    v("waitsec", str(bridged // 1_000_000 - start // 1_000_000 if bridged else 0))
    v(
        "progress_mediasec",
        str(progress_media // 1_000_000 - start // 1_000_000 if progress_media else 0),
    )
    v("flow_billsec", str(end // 1_000_000 - start // 1_000_000))
    v("mduration", str(duration_us // 1000))
    v("billmsec", str(bill_us // 1000))
    v("progressmsec", str(progress_us // 1000))
    v("answermsec", str(answer_us // 1000))
    v("waitmsec", str(wait_us // 1000))
    v("progress_mediamsec", str(pm_us // 1000))
    v("flow_billmsec", str(duration_us // 1000))
    v("uduration", str(duration_us))
    v("billusec", str(bill_us))
    v("progressusec", str(progress_us))
    v("answerusec", str(answer_us))
    v("waitusec", str(wait_us))
    v("progress_mediausec", str(pm_us))
    v("flow_billusec", str(duration_us))
