"""The real switch's environment leaves out an activated virtualenv: mod_python3's
embedded interpreter finds its prefix through ``python3`` on PATH."""

from __future__ import annotations

import os
from pathlib import Path

from fsapps.testing.freeswitch import switch_environment


def test_an_activated_venv_is_left_out_and_the_rest_kept() -> None:
    base = {
        "VIRTUAL_ENV": "/work/main/.venv",
        "PATH": "/work/main/.venv/bin:/root/.pyenv/shims:/usr/bin:/bin",
        "HOME": "/root",
    }
    env = switch_environment(base, {"PYTHONPATH": "/work/main"})
    assert env == {"PATH": "/root/.pyenv/shims:/usr/bin:/bin", "HOME": "/root", "PYTHONPATH": "/work/main"}
    assert base["VIRTUAL_ENV"] == "/work/main/.venv"  # the caller's mapping is untouched


def test_without_a_venv_the_environment_is_the_base_and_the_extra() -> None:
    base = {"PATH": "/opt/venv/bin:/usr/bin", "LANG": "C.UTF-8"}
    env = switch_environment(base, {"LANG": "zh_CN.UTF-8"})
    assert env == {"PATH": "/opt/venv/bin:/usr/bin", "LANG": "zh_CN.UTF-8"}


def test_the_venvs_bin_is_found_however_it_is_spelled() -> None:
    env = switch_environment({"VIRTUAL_ENV": "/v//", "PATH": "/v/bin/:/v/./bin:/usr/bin"}, {})
    assert env == {"PATH": "/usr/bin"}


def _python_in(d: Path) -> Path:
    d.mkdir(parents=True)
    (d / "python3").write_text("#!/bin/sh\n")
    return d


def test_another_pythons_bin_is_left_out_without_virtual_env(tmp_path: Path) -> None:
    """A venv's bin reached without VIRTUAL_ENV, another installation's bin (a pyenv version,
    a conda env): left out; wrapper scripts with no prefix of their own (pyenv's shims), and
    directories with no python3, kept."""
    venv = _python_in(tmp_path / "venv" / "bin")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /elsewhere/bin\n")
    install = _python_in(tmp_path / "pyenv" / "versions" / "3.11.7" / "bin")
    (tmp_path / "pyenv" / "versions" / "3.11.7" / "lib" / "python3.11").mkdir(parents=True)
    (tmp_path / "pyenv" / "versions" / "3.11.7" / "lib" / "python3.11" / "os.py").write_text("")
    shims = _python_in(tmp_path / "pyenv" / "shims")
    tools = tmp_path / "tools"
    tools.mkdir()
    path = os.pathsep.join(str(p) for p in (venv, shims, install, tools))
    env = switch_environment({"PATH": path}, {})
    assert env["PATH"].split(os.pathsep) == [str(shims), str(tools)]
