#!/usr/bin/env python3
"""Regenerate the recorded prompts listed in sounds/prompts.yaml.

    apt-get install espeak-ng sox      # Debian packages
    python3 sounds/generate.py         # all of them
    python3 sounds/generate.py --check # exit 1 if any listed file is missing

espeak-ng speaks each text (voice cmn for zh, en-us for en) and sox makes it
FreeSWITCH's narrowband format: 8 kHz, 16-bit signed, mono WAV, written to
<language>/<dir>/8000/<name>.wav, the rate folder mod_sndfile looks in first.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
VOICES = {"zh": "cmn", "en": "en-us"}
RATE = 8000


def target(language: str, rel: str) -> Path:
    p = Path(rel)
    return HERE / language / p.parent / str(RATE) / p.name


def speak(text: str, voice: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tts.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(
            ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(out), "gain", "-n", "-3"],
            check=True,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report missing files")
    args = ap.parse_args()
    manifest = yaml.safe_load((HERE / "prompts.yaml").read_text(encoding="utf-8"))
    missing = [(lang, rel) for lang, files in manifest.items() for rel in files if not target(lang, rel).is_file()]
    if args.check:
        for lang, rel in missing:
            print(f"missing: {target(lang, rel).relative_to(HERE)}")
        return 1 if missing else 0
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install espeak-ng sox", file=sys.stderr)
            return 2
    for lang, files in manifest.items():
        for rel, text in files.items():
            out = target(lang, rel)
            speak(text, VOICES[lang], out)
            print(out.relative_to(HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
