"""A tenant's flows, uploaded (the HTTP API): checked before anything goes live, then
rendered, installed and loaded, as ``fsapps render --reload`` does for the operator.

The upload is the tenant's whole YAML: ``tenant.yaml`` and ``flows/<flow>.yaml``. It is
checked as part of the project it joins (a copy of the live directory with this tenant's
files replaced), so a number or domain another tenant has is a problem too. Problems come
back with the file (relative to the tenant's folder), line, column and message; then
nothing is written. A clean project is rendered and installed into the conf directory
(fsapps.flows.install: all or nothing), the tenant's folder in the live directory is
replaced, FreeSWITCH reloads its XML, and the controller adopts the new flows.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent.lock

from fsapps.flows.check import check
from fsapps.flows.install import InstallError, install
from fsapps.flows.model import Problem, Project, Roster
from fsapps.flows.render import SipPhone, render

log = logging.getLogger("fsapps.flows")

FILE = re.compile(r"tenant\.yaml|flows/[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.yaml")
MAX_FILES = 50
RELOAD_OK = "+OK [Success]"


class UploadRefused(Exception):
    """``code``: bad_files, problems (``problems`` lists them), other_tenants, install_failed,
    reload_failed."""

    def __init__(self, code: str, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.problems = code, message, problems or []


@dataclass
class FlowsSite:
    """Where uploads go live: the project directory (``fsapps serve``'s flows.dir), the
    prompts, the conf directory FreeSWITCH reads, and how the switch and the controller
    take the new flows."""

    root: Path
    conf: Path
    reloadxml: Callable[[], str]  # the switch's reply to reloadxml
    adopt: Callable[[Project], None] = lambda project: None  # the controller runs these flows now
    sounds: Path | None = None
    roster: Callable[[], Roster | None] = lambda: None  # the operator's agents and tenants
    phones: Callable[[], Mapping[str, Sequence[SipPhone]]] = dict  # agents' SIP users (the database)
    lock: gevent.lock.Semaphore = field(default_factory=gevent.lock.Semaphore)

    def files(self, tenant: str) -> dict[str, str]:
        """The tenant's YAML as it is live."""
        folder = self.root / tenant
        out = {}
        for path in sorted([folder / "tenant.yaml", *sorted((folder / "flows").glob("*.yaml"))]):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and FILE.fullmatch(rel):
                out[rel] = path.read_text(encoding="utf-8")
        return out

    def upload(self, tenant: str, files: Mapping[str, str]) -> Project:
        """Check the tenant's ``files`` in the project; clean, put them live. Returns the
        project now live; raises UploadRefused with nothing changed (but reload_failed:
        the files are installed and the switch kept its previous XML)."""
        with self.lock:
            return self._upload(tenant, files)

    def edit(self, tenant: str, change: Callable[[dict[str, str]], dict[str, str]]) -> Project:
        """The tenant's live files, changed by ``change`` and uploaded, with no other upload
        in between (an edit of one queue's tiers loses nobody else's upload)."""
        with self.lock:
            return self._upload(tenant, change(self.files(tenant)))

    def _upload(self, tenant: str, files: Mapping[str, str]) -> Project:
        bad = sorted(f for f in files if not FILE.fullmatch(f))
        if bad or "tenant.yaml" not in files or len(files) > MAX_FILES:
            why = (
                f"not a tenant's file: {', '.join(bad)}"
                if bad
                else "expected tenant.yaml and flows/<flow>.yaml"
            )
            raise UploadRefused("bad_files", f"{why} (at most {MAX_FILES} files)")
        with tempfile.TemporaryDirectory(prefix="fsapps-upload-") as scratch:
            staged = Path(scratch) / "dialplan"
            shutil.copytree(self.root, staged, ignore=shutil.ignore_patterns(".*"))
            folder = staged / tenant
            for old in [folder / "tenant.yaml", *(folder / "flows").glob("*.yaml")]:
                old.unlink(missing_ok=True)  # the upload is all of them; other files stay
            for rel, text in files.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_text(text, encoding="utf-8")
            project = check(staged, sounds=self.sounds, roster=self.roster())
            if project.problems:
                before = check(self.root, sounds=self.sounds, roster=self.roster())
                self._refuse_problems(project, folder, staged, before)
            # Rendered from the live directory (what the XML names is there, not in scratch),
            # the tenant's folder put back as it was if FreeSWITCH could not load the XML.
            undo = self._replace(tenant, folder)
            try:
                live = check(self.root, sounds=self.sounds, roster=self.roster())
                if live.problems:  # the live directory changed under us: nothing rendered
                    raise UploadRefused("other_tenants", "the live flows have problems: ask the operator")
                install(render(live, self.phones()), self.conf)
            except InstallError as exc:
                undo()
                raise UploadRefused(
                    "install_failed", f"FreeSWITCH could not load the rendered XML: {exc}"
                ) from None
            except BaseException:
                undo()
                raise
            undo.keep()
            try:
                reply = (self.reloadxml() or "").strip()
            except Exception as exc:  # the switch is not answering: the files wait for the next reloadxml
                reply = f"no answer ({exc})"
            if reply == RELOAD_OK:  # the controller runs what the switch runs
                self.adopt(live)
        if reply != RELOAD_OK:
            raise UploadRefused(
                "reload_failed", f"installed, but FreeSWITCH did not load it: reloadxml: {reply}"
            )
        log.info("flows of %s uploaded and live", tenant)
        return live

    def publish(self, phones: Mapping[str, Sequence[SipPhone]]) -> None:
        """The live flows again, with ``phones`` in the tenants' directories: rendered,
        installed and reloaded (a provisioned phone). Raises UploadRefused."""
        with self.lock:
            live = check(self.root, sounds=self.sounds, roster=self.roster())
            if live.problems:
                raise UploadRefused("other_tenants", "the live flows have problems: ask the operator")
            try:
                install(render(live, phones), self.conf)
            except InstallError as exc:
                raise UploadRefused(
                    "install_failed", f"FreeSWITCH could not load the rendered XML: {exc}"
                ) from None
            reply = (self.reloadxml() or "").strip()
        if reply != RELOAD_OK:
            raise UploadRefused(
                "reload_failed", f"installed, but FreeSWITCH did not load it: reloadxml: {reply}"
            )

    def boxes(self, tenant: str) -> set[str]:
        """The tenant's voicemail boxes: users of its directory already."""
        project = check(self.root, sounds=self.sounds)
        return {str(n.get("box")) for t in project.tenants if t.id == tenant for f in t.flows.values()
                for n in f.nodes.values() if n.type == "voicemail"}  # fmt: skip

    def _refuse_problems(self, project: Project, folder: Path, staged: Path, before: Project) -> None:
        """This upload's problems, in its files. A problem in another tenant's file that the
        live project does not have is this upload's too (a number or domain that tenant
        had first): reported where the message says this upload's file has it."""
        had = {_key(p, self.root) for p in before.problems}
        mine, theirs = [], 0
        for p in project.problems:
            path = Path(p.where.file)
            if path.is_relative_to(folder):
                where = path.relative_to(folder).as_posix() or "."
                mine.append(_problem(where, p.where.line, p.where.col, p.message, folder))
                continue
            if _key(p, staged) in had:
                theirs += 1  # there before this upload: the operator's to fix
                continue
            at = re.search(re.escape(str(folder)) + r"/(\S+?):(\d+):(\d+)", p.message)
            if at is None:
                mine.append(_problem("tenant.yaml", 1, 1, "conflicts with another tenant's flows", folder))
            else:
                mine.append(_problem(at[1], int(at[2]), int(at[3]), p.message, folder))
        if mine:
            raise UploadRefused("problems", f"{len(mine)} problem(s); nothing changed", mine)
        if theirs:
            raise UploadRefused(
                "other_tenants", "the project has problems outside this tenant's files: ask the operator"
            )

    def _replace(self, tenant: str, staged_folder: Path) -> _Undo:
        """The tenant's folder in the live directory becomes the staged one (copied beside
        it, then renamed over it); the old one is kept aside until ``keep``."""
        tag = uuid.uuid4().hex[:8]
        new, old = self.root / f".{tenant}.new-{tag}", self.root / f".{tenant}.old-{tag}"
        shutil.copytree(staged_folder, new)
        live = self.root / tenant
        had = live.exists()
        if had:
            live.rename(old)
        new.rename(live)
        return _Undo(live, old if had else None)


def _key(p: Problem, root: Path) -> tuple[str, int, int, str]:
    """A problem, wherever its project directory is."""
    path = Path(p.where.file)
    file = path.relative_to(root).as_posix() if path.is_relative_to(root) else p.where.file
    return file, p.where.line, p.where.col, p.message.replace(str(root), "")


def _problem(file: str, line: int, column: int, message: str, folder: Path) -> dict[str, Any]:
    """A problem as the API gives it: naming no other tenant and no path on this server
    (a tenant's users cannot learn which other tenants there are, as the API's 404s)."""
    message = re.sub(r"by tenant \S+ at \S+", "by another tenant", message)
    message = re.sub(r"belongs to tenant \S+ in the database", "belongs to another tenant", message)
    # An agent of another tenant reads as one that does not exist: ids are global, and a
    # tenant's users are not to learn another's agents by guessing them into their tiers.
    message = re.sub(r"^agent (.+) does not serve tenant \S+", r"no agent \1 serves this tenant", message)
    message = re.sub(r"^no agent (.+) in the roster", r"no agent \1 serves this tenant", message)
    message = message.replace(str(folder) + "/", "")
    return {"file": file, "line": line, "column": column, "message": message}


@dataclass
class _Undo:
    live: Path
    old: Path | None

    def __call__(self) -> None:
        shutil.rmtree(self.live, ignore_errors=True)
        if self.old is not None:
            self.old.rename(self.live)

    def keep(self) -> None:
        if self.old is not None:
            shutil.rmtree(self.old, ignore_errors=True)
