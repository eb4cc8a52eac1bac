"""fsapps render into a conf directory: all or nothing, then reloadxml; check's exit codes."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from fsapps.cli import main
from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import (
    NOT_FOUND,
    InstallError,
    current_files,
    dialplan_document,
    install,
)
from fsapps.flows.render import render
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.sim.xmldialplan import XmlDialplan

EXAMPLES = Path(__file__).resolve().parents[2] / "dialplan"
SOUNDS = EXAMPLES.parent / "sounds"


def snapshot(conf: Path) -> dict[str, str]:
    """Every path under conf/ and what it holds (symlink targets included)."""
    out = {}
    for root, dirs, files in os.walk(conf):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(conf))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A writable copy of dialplan/ and sounds/, side by side."""
    shutil.copytree(EXAMPLES, tmp_path / "dialplan")
    shutil.copytree(SOUNDS, tmp_path / "sounds")
    return tmp_path / "dialplan"


def test_install_swaps_in_a_generation_the_emulator_loads(tmp_path: Path) -> None:
    files = render(check(EXAMPLES))
    conf = tmp_path / "conf"
    done = install(files, conf)
    assert done.changed and (conf / "fsapps" / "current").resolve() == done.path.resolve()
    assert current_files(conf) == files
    dp = XmlDialplan.from_conf(conf)
    names = sorted(c.get("name") or "" for c in dp.section.findall("context"))
    assert names == ["fsapps_cablenet", "fsapps_harbourbank", "fsapps_shopwise", "fsapps_travelgo", "public"]
    public = dp.context("public")
    assert public is not None and len(public.findall("extension")) == 6  # one per access number
    again = install(files, conf)
    assert (again.changed, again.generation) == (False, done.generation)


def test_a_file_freeswitch_could_not_load_changes_nothing(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    install(render(check(EXAMPLES)), conf)
    before = snapshot(conf)
    broken = dict(render(check(EXAMPLES)))
    broken["contexts/shopwise.xml"] = broken["contexts/shopwise.xml"].replace("</context>", "</contxt>")
    with pytest.raises(InstallError, match=r"contexts/shopwise\.xml:\d+:\d+: not well-formed XML"):
        install(broken, conf)
    assert snapshot(conf) == before


def test_old_generations_are_pruned_to_the_current_and_the_one_before(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    files = render(check(EXAMPLES))
    gens = []
    for i in range(4):
        variant = dict(files)
        variant["public/zz.xml"] = f"<include>\n  <extension name='x{i}'/>\n</include>\n"
        gens.append(install(variant, conf).generation)
    left = sorted(p.name for p in (conf / "fsapps").glob("gen-*"))
    assert left == sorted(gens[-2:])


def test_mod_xml_curl_gets_tenant_contexts_and_not_found_for_the_rest() -> None:
    files = render(check(EXAMPLES))
    doc = dialplan_document(files, "fsapps_harbourbank")
    assert '<context name="fsapps_harbourbank">' in doc and 'name="dialplan"' in doc
    assert "fsapps_cablenet" not in doc
    assert dialplan_document(files, "public") == NOT_FOUND


def test_check_exit_codes_and_messages(examples: Path, capsys) -> None:
    assert main(["check", str(examples)]) == 0
    assert "4 tenant(s), 5 flow(s)" in capsys.readouterr().out
    flow = examples / "shopwise" / "flows" / "main.yaml"
    flow.write_text(flow.read_text().replace("type: hangup", "type: hang_up"))
    assert main(["check", str(examples)]) == 1
    out = capsys.readouterr()
    assert f"{flow}:" in out.out and "unexpected value 'hang_up'" in out.out
    assert "1 problem" in out.err


def test_render_with_a_mistake_leaves_the_conf_as_it_was(examples: Path, tmp_path: Path, capsys) -> None:
    conf = tmp_path / "conf"
    assert main(["render", str(examples), "--out", str(conf)]) == 0
    before = snapshot(conf)
    tenant = examples / "travelgo" / "tenant.yaml"
    tenant.write_text(tenant.read_text().replace('"07:00-23:00"', '"7am-11pm"'))
    assert main(["render", str(examples), "--out", str(conf)]) == 1
    out = capsys.readouterr()
    assert "tenant.yaml:" in out.out and "nothing rendered" in out.err
    assert snapshot(conf) == before


def test_render_reload_puts_a_new_number_live_on_the_switch(
    examples: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    conf = tmp_path / "conf"
    assert main(["render", str(examples), "--out", str(conf)]) == 0
    sw = Switch(dialplan=XmlDialplan.from_conf(conf), speed=50, password="pw-" + os.urandom(4).hex()).start()
    try:

        def call(number: str) -> str | None:
            ch = sw.place_call(number, script=CallerScript(hangup_after=1.0))
            assert ch.destroyed.wait(20)
            return ch.hangup_cause

        assert call("08001239999") == "NO_ROUTE_DESTINATION"
        tenant = examples / "shopwise" / "tenant.yaml"
        tenant.write_text(
            tenant.read_text().replace('"08001234567": main', '"08001234567": main\n  "08001239999": main')
        )
        monkeypatch.setenv("FSAPPS_ESL_HOST", "127.0.0.1")
        monkeypatch.setenv("FSAPPS_ESL_PORT", str(sw.port))
        monkeypatch.setenv("FSAPPS_ESL_PASSWORD", sw.password)
        assert main(["render", str(examples), "--out", str(conf), "--reload"]) == 0
        assert "reloadxml: +OK [Success]" in capsys.readouterr().out
        assert call("08001239999") == "NORMAL_CLEARING"  # answered by shopwise's flow, then hung up
    finally:
        sw.stop()


def test_reload_failure_is_reported_and_the_running_dialplan_kept(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    install(render(check(EXAMPLES)), conf)
    dp = XmlDialplan.from_conf(conf)
    sw = Switch(dialplan=dp, speed=50, password="pw").start()
    try:
        (conf / "dialplan" / "broken.xml").write_text("<include>\n<context name='x'>\n</include>\n")
        c = Connection("127.0.0.1", sw.port, "pw")
        c.connect()
        reply = c.api("reloadxml")
        c.stop()
        assert reply.startswith("+OK [") and "not well-formed XML" in reply and "Success" not in reply
        assert dp.context("fsapps_cablenet") is not None
    finally:
        sw.stop()
