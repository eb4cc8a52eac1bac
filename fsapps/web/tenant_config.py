"""A tenant's business hours (tenant.yaml's calendars) and prompts for the HTTP API: read from
the live flows, changed one at a time by rewriting tenant.yaml (fsapps.flows.tenant_edit) and
putting it live through the flows' own check-then-install path (FlowsSite.edit), so a
problem comes back at tenant.yaml:line and nothing changes, as a flow upload's does.

A recorded prompt is checked (fsapps.flows.wav) and stored where the switch plays the
tenant's prompts from: ``<sounds>/<language>/<tenant>/8000/<name>.wav`` at 8 kHz, and
``<sounds>/<language>/<tenant>/<name>.wav`` at 16 kHz, which mod_sndfile plays at any
call's rate (it opens ``<dir>/<rate>/<file>`` first, then ``<dir>/<file>``). The path is
built here from the tenant and the prompt's name; nothing of it comes from the client. If
the edit is refused, the files are put back as they were."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from fsapps.flows.tenant_edit import set_entry
from fsapps.flows.tiers import TiersError
from fsapps.flows.upload import FlowsSite, UploadRefused
from fsapps.flows.wav import BadWav, check_wav
from fsapps.web.service import Refused, Service
from fsapps.web.staff import TIERS_REFUSED

LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


class TenantConfig:
    def __init__(self, service: Service, flows: FlowsSite | None) -> None:
        self.service, self.flows = service, flows

    def _site(self) -> FlowsSite:
        if self.flows is None:
            raise Refused("unavailable", "no_flows_dir", "this server does not take flow uploads")
        return self.flows

    def _live(self, tenant_id: str) -> dict[str, Any]:
        self.service.may_in(tenant_id, "flows.read")
        text = self._site().files(tenant_id).get("tenant.yaml")
        data = yaml.safe_load(text) if text else None
        return data if isinstance(data, dict) else {}

    def calendars(self, tenant_id: str) -> dict[str, Any]:
        return {"calendars": dict(self._live(tenant_id).get("calendars") or {})}

    def prompts(self, tenant_id: str) -> dict[str, Any]:
        return {"prompts": dict(self._live(tenant_id).get("prompts") or {})}

    def set_calendar(self, tenant_id: str, name: str, calendar: dict[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = {"weekly": {days: hours[0] if len(hours) == 1 else hours
                                            for days, hours in calendar["weekly"].items()}}  # fmt: skip
        for key in ("holidays", "closed"):
            if calendar.get(key):
                value[key] = calendar[key]
        self._edit(tenant_id, lambda files: _with(files, "calendars", name, value))
        return self.calendars(tenant_id)

    def set_prompt_text(self, tenant_id: str, name: str, text: str) -> dict[str, Any]:
        self._edit(tenant_id, lambda files: _with(files, "prompts", name, {"text": text}))
        return self.prompts(tenant_id)

    def set_prompt_recording(self, tenant_id: str, name: str, data: bytes) -> dict[str, Any]:
        try:
            wav = check_wav(data)
        except BadWav as exc:
            raise Refused("invalid", "bad_wav", str(exc)) from None
        site = self._site()
        if site.sounds is None:
            raise Refused("unavailable", "no_sounds_dir", "this server has no prompts directory")
        sounds = site.sounds

        def change(files: dict[str, str]) -> dict[str, str]:
            language = (yaml.safe_load(files.get("tenant.yaml") or "") or {}).get("language", "en")
            if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
                why = "tenant.yaml names no language to file prompts under"
                raise Refused("conflict", "no_tenant_yaml", why)
            folder = sounds / language / tenant_id
            at_8k, at_any = folder / "8000" / f"{name}.wav", folder / f"{name}.wav"
            keep, drop = (at_8k, at_any) if wav.rate == 8000 else (at_any, at_8k)
            saved.extend(_saved(p) for p in (keep, drop))
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_bytes(data)
            drop.unlink(missing_ok=True)  # mod_sndfile would play the rate folder's first
            return _with(files, "prompts", name, {"file": f"{tenant_id}/{name}.wav"})

        saved: list[tuple[Path, bytes | None]] = []
        with _restored_on_failure(saved):
            self._edit(tenant_id, change)
        return self.prompts(tenant_id)

    def _edit(self, tenant_id: str, change: Any) -> None:
        self.service.may_in(tenant_id, "flows.write")
        try:
            self._site().edit(tenant_id, change)
        except TiersError as exc:
            raise Refused(TIERS_REFUSED[exc.code], exc.code, exc.message) from None


def _with(files: dict[str, str], section: str, name: str, value: dict[str, Any]) -> dict[str, str]:
    if "tenant.yaml" not in files:
        raise TiersError("no_tenant_yaml", "no tenant.yaml of this tenant here: upload the flows")
    return {**files, "tenant.yaml": set_entry(files["tenant.yaml"], section, name, value)}


def _saved(path: Path) -> tuple[Path, bytes | None]:
    return path, path.read_bytes() if path.is_file() else None


@contextmanager
def _restored_on_failure(saved: list[tuple[Path, bytes | None]]) -> Iterator[None]:
    """The prompt files as they were, should the edit not go live (but once installed, as
    reload_failed is, tenant.yaml names them: they stay for the next reloadxml)."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, UploadRefused) and exc.code == "reload_failed":
            raise
        for path, before in saved:
            if before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(before)
        raise
