"""The recorded prompts of the example tenants, as the README describes them: every file
``sounds/prompts.yaml`` lists is in FreeSWITCH's ``<language>/<dir>/8000/`` layout, an 8 kHz
16-bit mono WAV, and ``python3 sounds/generate.py --check`` says so (and names a missing one).
Regenerating them needs espeak-ng and sox, which this machine need not have."""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import yaml

SOUNDS = Path(__file__).resolve().parents[2] / "sounds"


def listed(root: Path) -> list[Path]:
    manifest = yaml.safe_load((root / "prompts.yaml").read_text(encoding="utf-8"))
    return [root / lang / Path(rel).parent / "8000" / Path(rel).name for lang, files in manifest.items()
            for rel in files]  # fmt: skip


def test_every_listed_prompt_is_an_8khz_16bit_mono_wav_and_check_finds_a_missing_one(tmp_path) -> None:
    files = listed(SOUNDS)
    assert len(files) > 10
    for path in files:
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1), path
            assert w.getnframes() > 800, path  # something said: more than 0.1 s
    got = subprocess.run(
        [sys.executable, str(SOUNDS / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert (got.returncode, got.stdout) == (0, ""), got

    copy = tmp_path / "sounds"
    shutil.copytree(SOUNDS, copy)
    gone = listed(copy)[3]
    gone.unlink()
    got = subprocess.run(
        [sys.executable, str(copy / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert (got.returncode, got.stdout) == (1, f"missing: {gone.relative_to(copy)}\n"), got
