"""voicemail: leaving a message (mod_voicemail.c voicemail_leave_main, l.3366).

``voicemail [check] [auth] <profile> <domain> [<id>]``. The box must be a
directory user (l.3417-3457: "Can't find user", nothing recorded). The
greeting plays (the phrase "the person at extension <id> is not
available", l.3526), then the record-message phrase and a tone, then the
message records until # or hangup or max-record-len (300 s in the vanilla
profile). The message is written to
<storage>/voicemail/<profile>/<domain>/<id>/msg_<uuid>.wav (l.3478) and a
vm::maintenance event says leave-message (l.2897). Not emulated: checking
a mailbox, and the listen/save/re-record menu after #.
"""

from __future__ import annotations

import os
import uuid as uuidlib

from fsapps.sim import media
from fsapps.sim.apps.playback import play_file, run_for
from fsapps.sim.apps.registry import app
from fsapps.sim.channel import Channel

GREETING = "say:The person at extension {id} is not available."
RECORD_MESSAGE = "say:Record your message after the tone. When you are done, hang up or press pound."
TONE = "tone_stream://%(1000,0,800)"
MAX_RECORD_LEN = 300.0


@app("voicemail", needs_media=True)
def voicemail(ch: Channel, data: str) -> None:
    argv = data.split()
    if argv and argv[0] == "check":
        ch.note("voicemail check: not emulated")
        return
    argv = [a for a in argv if a != "auth"]
    if len(argv) < 3:
        ch.note(f"voicemail: usage error: {data}")
        return
    profile, domain, box = argv[0], argv[1], argv[2]
    directory = ch.switch.directory
    if directory is None or directory.user(box, domain) is None:
        ch.note(f"Can't find user [{box}@{domain}]")
        return
    for prompt in (GREETING.format(id=box), RECORD_MESSAGE, TONE):
        res = play_file(ch, prompt, terminators="#")
        if res.status in ("hangup", "not_ready"):
            return
    storage = ch.switch.globals.get("storage_dir", ch.switch.globals.get("recordings_dir", "."))
    folder = os.path.join(storage, "voicemail", profile, domain, box)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"msg_{uuidlib.uuid4()}.wav")
    start = ch.switch.clock.now()
    ch.note(f"voicemail: recording to {path}")
    run_for(ch, MAX_RECORD_LEN, "#")
    seconds = min(ch.switch.clock.now() - start, MAX_RECORD_LEN)
    media.write_silence_wav(path, seconds)
    ch.fire(
        "CUSTOM",
        subclass="vm::maintenance",
        after=[
            ("VM-Action", "leave-message"),
            ("VM-User", box),
            ("VM-Domain", domain),
            ("VM-Caller-ID-Name", ch.profile.caller_id_name),
            ("VM-Caller-ID-Number", ch.profile.caller_id_number),
            ("VM-File-Path", path),
            ("VM-Message-Len", str(int(seconds))),
            ("VM-UUID", ch.uuid),
        ],
    )
