"""voicemail: leaving a message (mod_voicemail.c voicemail_leave_main l.3366, create_file l.1190).

``voicemail [check] [auth] <profile> <domain> [<id>]``. The box must be a
directory user (l.3417-3457: "Can't find user", nothing recorded). Unless
skip_greeting / skip_instructions (read and cleared, l.3400-3411), phrase
macros in the channel's language play the greeting and the instructions;
a language the conf has no phrases for ends the application there ("Can't
find language", as in a vanilla conf for zh). Then the tone and the
recording, which ends on #, hangup, max-record-len, or record-silence-hits
seconds of silence. A message shorter than min-record-len is discarded and
the caller tried again up to max-retries times (l.1238-1256). A kept message
is written to <storage>/voicemail/<profile>/<domain>/<id>/msg_<uuid>.wav and
announced by a vm::maintenance leave-message event. Values are the vanilla
voicemail.conf.xml profile's.

The emulator carries no audio: a caller is silent except for the
``speech_seconds`` its script gives it, spoken into the first recording.
Not emulated: checking a mailbox; the review menu is taken as "save".
"""

from __future__ import annotations

import os
import uuid as uuidlib

from fsapps.sim import media
from fsapps.sim.apps.playback import play_file, run_for
from fsapps.sim.apps.registry import app, is_true
from fsapps.sim.channel import Channel

PHRASE_LANGUAGES = {"de", "en", "es", "fr", "he", "pt", "ru", "sv"}  # vanilla conf/lang/
GREETING = "say:The person at extension {id} is not available."
INSTRUCTIONS = "say:Record your message after the tone. When you are done, hang up or press pound."
TOO_SMALL = "say:That message is too short."
TONE = "tone_stream://%(1000,0,640)"  # tone-spec
MAX_RECORD_LEN = 300.0
MIN_RECORD_LEN = 3.0
MAX_RETRIES = 3
SILENCE_HITS = 2.0  # record-silence-hits: seconds of silence that end a recording


def _phrase(ch: Channel, text: str) -> bool:
    """A phrase macro in the channel's language; False when the conf has no such language."""
    language = ch.get_var("default_language") or "en"
    if language not in PHRASE_LANGUAGES:
        ch.note(f"Can't find language {language}.")
        return False
    return play_file(ch, text, terminators="#").status not in ("hangup", "not_ready")


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
    flags = {}
    for name in ("skip_greeting", "skip_instructions", "skip_record_urgent_check", "voicemail_skip_goodbye"):
        flags[name] = is_true(ch.get_var(name))
        ch.set_var(name, None)
    skip_check = is_true(ch.get_var("skip_record_check"))
    directory = ch.switch.directory
    if directory is None or directory.user(box, domain) is None:
        ch.note(f"Can't find user [{box}@{domain}]")
        return
    if not flags["skip_greeting"] and not _phrase(ch, GREETING.format(id=box)):
        return
    speech = ch.speech_seconds
    for attempt in range(MAX_RETRIES + 1):
        if attempt and not _phrase(ch, TOO_SMALL):
            return
        if not flags["skip_instructions"] and not _phrase(ch, INSTRUCTIONS):
            return
        ch.flush_dtmf()
        if play_file(ch, TONE).status in ("hangup", "not_ready"):
            return
        start = ch.switch.clock.now()
        run_for(ch, min(MAX_RECORD_LEN, speech + SILENCE_HITS), "#")
        seconds = min(ch.switch.clock.now() - start, MAX_RECORD_LEN)
        speech = 0.0
        if seconds >= MIN_RECORD_LEN:
            _keep(ch, profile, domain, box, seconds)
            break
        ch.note(f"voicemail: {seconds:.1f} s is under min-record-len, discarded")
        if not ch.up:
            return
    else:
        return
    if ch.up and not skip_check:
        _phrase(ch, "say:Saved.")


def _keep(ch: Channel, profile: str, domain: str, box: str, seconds: float) -> None:
    storage = ch.switch.globals.get("storage_dir", ch.switch.globals.get("recordings_dir", "."))
    folder = os.path.join(storage, "voicemail", profile, domain, box)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"msg_{uuidlib.uuid4()}.wav")
    media.write_silence_wav(path, seconds)
    ch.note(f"voicemail: kept {seconds:.1f} s in {path}")
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
