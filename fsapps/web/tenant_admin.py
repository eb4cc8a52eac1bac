"""What a tenant admin takes away, and hears: a user deleted, a prompt deleted, a recorded
prompt played in the browser.

A user goes with their sessions and API tokens (the foreign keys cascade), their place in
supervisors' groups, and their link to an agent (the agent stays, with no login). No one
deletes their own account, and a tenant keeps at least one enabled tenant admin: the last
one cannot be deleted (their rows are locked first, so two admins deleting each other at
once cannot both succeed).

A prompt is deleted from tenant.yaml as it was set (fsapps.flows.tenant_edit, put live as
a flow upload): a prompt a flow still plays fails the check, comes back as problems at
file:line, and nothing changes. Its recording goes once the change is live.

A recorded prompt's file is where fsapps.web.tenant_config stored it, under
``<sounds>/<language>/<tenant>/``: ``8000/<name>.wav`` first (mod_sndfile's rate folder),
then ``<name>.wav``. The path is built from the tenant and the prompt's name, both checked;
what tenant.yaml names for the prompt must be that tenant's own folder, so neither a
request nor an uploaded tenant.yaml reaches another tenant's file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fsapps.flows.tenant_edit import remove_entry
from fsapps.flows.tiers import TiersError
from fsapps.flows.upload import FlowsSite
from fsapps.web.service import Refused, Service
from fsapps.web.staff import TIERS_REFUSED
from fsapps.web.tenant_config import LANGUAGE


class TenantAdmin:
    def __init__(self, service: Service, flows: FlowsSite | None) -> None:
        self.service, self.flows = service, flows

    # --- users -------------------------------------------------------------------------------

    def delete_user(self, tenant_id: str, user_id: int) -> None:
        with self.service._tenant(tenant_id, "users.create") as t:
            if user_id == self.service.principal.user_id:
                raise Refused("invalid", "own_account", "ask another admin to delete your own account")
            # Every tenant admin's row, locked: who else could still administer the tenant.
            admins = t._all(
                "SELECT id, disabled FROM users WHERE role = 'tenant_admin' ORDER BY id FOR UPDATE"
            )
            user = t._one("SELECT id, role FROM users WHERE id = %s FOR UPDATE", (user_id,))
            if user is None:
                raise Refused("not_found", "no_such_user", f"no user {user_id} in tenant {tenant_id!r}")
            others = [a for a in admins if a["id"] != user_id and not a["disabled"]]
            if user["role"] == "tenant_admin" and not others:
                why = "the tenant's last tenant admin: make another user tenant admin first"
                raise Refused("conflict", "last_tenant_admin", why)
            t.conn.execute(
                "DELETE FROM supervisor_group_members WHERE kind = 'supervisor' AND member = %s",
                (str(user_id),),
            )
            t.conn.execute("DELETE FROM users WHERE id = %s", (user_id,))

    # --- prompts ------------------------------------------------------------------------------

    def _site(self) -> FlowsSite:
        if self.flows is None:
            raise Refused("unavailable", "no_flows_dir", "this server does not take flow uploads")
        return self.flows

    def _tenant_yaml(self, tenant_id: str) -> dict[str, Any]:
        text = self._site().files(tenant_id).get("tenant.yaml")
        data = yaml.safe_load(text) if text else None
        return data if isinstance(data, dict) else {}

    def delete_prompt(self, tenant_id: str, name: str) -> dict[str, Any]:
        self.service.may_in(tenant_id, "flows.write")
        site = self._site()
        files = self._recording_files(tenant_id, name)  # as the live tenant.yaml names it

        def change(files: dict[str, str]) -> dict[str, str]:
            if "tenant.yaml" not in files:
                raise TiersError("no_tenant_yaml", "no tenant.yaml of this tenant here: upload the flows")
            try:
                return {**files, "tenant.yaml": remove_entry(files["tenant.yaml"], "prompts", name)}
            except KeyError:
                raise Refused("not_found", "no_such_prompt", f"no prompt {name!r}") from None

        try:
            site.edit(tenant_id, change)
        except TiersError as exc:
            raise Refused(TIERS_REFUSED[exc.code], exc.code, exc.message) from None
        for path in files:
            path.unlink(missing_ok=True)
        return {"prompts": dict(self._tenant_yaml(tenant_id).get("prompts") or {})}

    def prompt_audio(self, tenant_id: str, name: str) -> Path:
        """The recording a prompt plays (404 for a spoken prompt, or a file not there)."""
        self.service.may_in(tenant_id, "flows.read")
        prompt = (self._tenant_yaml(tenant_id).get("prompts") or {}).get(name)
        if not isinstance(prompt, dict):
            raise Refused("not_found", "no_such_prompt", f"no prompt {name!r}")
        if not prompt.get("file"):
            why = f"prompt {name!r} is text the TTS speaks: no recording"
            raise Refused("not_found", "spoken_prompt", why)
        for path in self._recording_files(tenant_id, name):
            if path.is_file():
                return path
        raise Refused("not_found", "no_recording", f"prompt {name!r}'s recording is not on this server")

    def _recording_files(self, tenant_id: str, name: str) -> list[Path]:
        """Where a recorded prompt's file may be, 8 kHz folder first; [] for a spoken prompt or
        one whose file is not in the tenant's own folder."""
        site = self._site()
        data = self._tenant_yaml(tenant_id)
        prompt = (data.get("prompts") or {}).get(name)
        language = data.get("language", "en")
        if site.sounds is None or not isinstance(prompt, dict) or not isinstance(prompt.get("file"), str):
            return []
        if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
            return []
        folder = (site.sounds / language / tenant_id).resolve()
        named = (site.sounds / language / prompt["file"]).resolve()
        if named.parent != folder or named.suffix != ".wav":
            return []  # tenant.yaml names a file elsewhere: not this tenant's to play or delete
        return [folder / "8000" / named.name, named]
