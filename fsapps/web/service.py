"""What people may do in the call center, checked once, here: every operation asks
``policy.may`` and then runs its SQL in the tenant's row-level-security transaction
(``store.tenant``), so a mistake in one operation's query still cannot reach another
tenant's rows. The HTTP API is one front end over it; the CLI can be another.

Order of refusals: a tenant that is not the principal's is "not found" (a tenant's
users cannot learn which other tenants exist), an action their role may not take is
"forbidden", then a missing thing is "not found".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from fsapps.acd import config as acd_config
from fsapps.acd import figures
from fsapps.acd.decide import score
from fsapps.acd.model import AgentStatus, Member, Queue
from fsapps.store import acd as store_acd
from fsapps.store import api as repo
from fsapps.store import selfservice
from fsapps.store.db import Store, StoreError, TenantScope, UnknownTenant
from fsapps.store.records import Tenant
from fsapps.web.policy import Principal, Role, Target, may, role_of
from fsapps.web.visibility import Viewer

QueuesOf = Callable[[str], dict[str, dict[str, Any]]]  # tenant -> queue name -> its tenant.yaml mapping


class Refused(Exception):
    """An operation that did not happen: ``kind`` is forbidden, not_found, conflict or invalid."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.code, self.message = kind, code, message


def principal_for(store: Store, row: dict[str, Any]) -> Principal:
    """The principal of a users row (from a session or a token): a supervisor with their
    groups' queues and agents, an agent with their own agent id."""
    role = role_of(row["role"])
    tenant = row["tenant_id"]
    queues: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    agent_id = None
    if role in (Role.SUPERVISOR, Role.AGENT):
        with store.tenant(tenant) as t:
            if role is Role.SUPERVISOR:
                queues, agents = repo.supervised(t, row["user_id"])
            else:
                agent_id = repo.own_agent(t, row["user_id"])
    return Principal(row["user_id"], row["username"], role, tenant, agent_id, queues, agents)


STATUSES = {s.value for s in AgentStatus}


class Service:
    def __init__(self, store: Store, principal: Principal, *, queues: QueuesOf,
                 clock: Callable[[], float]) -> None:  # fmt: skip
        self.store = store
        self.principal = principal
        self.queues_of = queues
        self.clock = clock

    # --- the checks --------------------------------------------------------------------

    def _allow(self, action: str, target: Target) -> None:
        if not may(self.principal, action, target):
            raise Refused("forbidden", "forbidden", f"{self.principal.role} may not {action} here")

    @contextlib.contextmanager
    def _tenant(self, tenant_id: str, action: str, target: Target | None = None) -> Iterator[TenantScope]:
        """The tenant's transaction, once the principal may take ``action`` there."""
        p = self.principal
        if p.role is not Role.OPERATOR and p.tenant_id != tenant_id:
            raise Refused("not_found", "no_such_tenant", f"no tenant {tenant_id!r}")
        self._allow(action, target or Target(tenant_id))
        try:
            with self.store.tenant(tenant_id) as t:
                t.info()  # an operator naming a tenant that is not there
                yield t
        except UnknownTenant:
            raise Refused("not_found", "no_such_tenant", f"no tenant {tenant_id!r}") from None

    def may_in(self, tenant_id: str, action: str, target: Target | None = None) -> None:
        """Refused (as ``_tenant`` refuses) unless the principal may take ``action`` in the
        tenant: for what is not in the database (the flows directory)."""
        with self._tenant(tenant_id, action, target):
            pass

    def _visible(self, full: frozenset[str]) -> frozenset[str] | None:
        """A supervisor sees their groups' part of a list; None: all of it."""
        return full if self.principal.role is Role.SUPERVISOR else None

    # --- tenants (operator) -----------------------------------------------------------------

    def tenants(self) -> list[Tenant]:
        self._allow("tenants.list", Target(None))
        with self.store.operator() as op:
            return op.tenants()

    def add_tenant(self, tenant: Tenant, numbers: list[str]) -> Tenant:
        self._allow("tenants.create", Target(None))
        try:
            with self.store.operator() as op:
                return op.add_tenant(tenant, numbers)
        except StoreError as exc:
            raise Refused("conflict", "tenant_exists", str(exc)) from None

    def tenant(self, tenant_id: str) -> Tenant:
        with self._tenant(tenant_id, "tenant.read") as t:
            return t.info()

    # --- users, tokens, groups --------------------------------------------------------------

    def users(self, tenant_id: str) -> list[Any]:
        with self._tenant(tenant_id, "users.list") as t:
            return t.users()

    def add_user(
        self, tenant_id: str, username: str, password: str, role: str, language: str | None = None
    ) -> Any:
        if role == "operator":
            raise Refused("invalid", "invalid_role", "an operator belongs to no tenant")
        try:
            with self._tenant(tenant_id, "users.create") as t:
                return t.add_user(username, password, role, language)
        except psycopg.errors.UniqueViolation:
            raise Refused("conflict", "user_exists", f"user {username!r} exists already") from None

    def change_user(self, tenant_id: str, user_id: int, changes: dict[str, Any]) -> Any:
        with self._tenant(tenant_id, "users.create") as t:
            if user_id == self.principal.user_id and changes:
                raise Refused("invalid", "own_account", "ask another admin to change your own role or access")
            row = repo.change_user(t, user_id, changes.get("role"), changes.get("disabled"),
                                   *([changes["language"]] if "language" in changes else []))  # fmt: skip
            if row is None:
                raise Refused("not_found", "no_such_user", f"no user {user_id} in tenant {tenant_id!r}")
            return row

    def issue_token(self, tenant_id: str, user_id: int, name: str, expires_at: datetime | None) -> str:
        if expires_at is not None and expires_at <= self._now():
            raise Refused("invalid", "expired", "the token would be expired already")
        with self._tenant(tenant_id, "users.token") as t:
            self._user(t, user_id)
            return t.issue_token(user_id, name, expires_at)

    def _user(self, t: TenantScope, user_id: int) -> None:
        if not any(u.id == user_id for u in t.users()):
            raise Refused("not_found", "no_such_user", f"no user {user_id} in tenant {t.tenant_id!r}")

    def tokens(self, tenant_id: str, user_id: int) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "users.token") as t:
            self._user(t, user_id)
            return repo.tokens(t, user_id)

    def revoke_token(self, tenant_id: str, user_id: int, token_id: int) -> None:
        with self._tenant(tenant_id, "users.token") as t:
            if not repo.revoke_token(t, user_id, token_id):
                raise Refused("not_found", "no_such_token", f"no live token {token_id} of user {user_id}")

    def groups(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "groups.list") as t:
            return repo.groups(t)

    def put_group(self, tenant_id: str, name: str, supervisors: list[int], agents: list[str],
                  queues: list[str]) -> None:  # fmt: skip
        with self._tenant(tenant_id, "groups.write") as t:
            users = {u.id: u for u in t.users()}
            for s in supervisors:
                if s not in users or users[s].role != "supervisor":
                    raise Refused(
                        "invalid", "not_a_supervisor", f"user {s} is no supervisor of {tenant_id!r}"
                    )
            known = {a["id"] for a in repo.agents(t)}
            for a in agents:
                if a not in known:
                    raise Refused("invalid", "no_such_agent", f"no agent {a!r} serves {tenant_id!r}")
            defined = self.queues_of(tenant_id)
            for q in queues:
                if q not in defined:
                    raise Refused("invalid", "no_such_queue", f"no queue {q!r} in {tenant_id!r}")
            repo.put_group(t, name, supervisors, agents, queues)

    # --- agents ---------------------------------------------------------------------------------

    def agents(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "agents.list") as t:
            return [self._with_tiers(t, a) for a in repo.agents(t, self._visible(self.principal.agents))]

    def _agent(self, t: TenantScope, agent_id: str) -> dict[str, Any]:
        row = repo.agent(t, agent_id)
        if row is None:
            raise Refused("not_found", "no_such_agent", f"no agent {agent_id!r}")
        return self._with_tiers(t, row)

    def _with_tiers(self, t: TenantScope, row: dict[str, Any]) -> dict[str, Any]:
        """The queues the agent serves in this tenant, as its tenant.yaml's tiers say."""
        tiers = []
        for name, data in sorted(self.queues_of(t.tenant_id).items()):
            for tier in acd_config.queue_tiers(acd_config.queue_key(t.tenant_id, name), data):
                if tier.agent == row["id"]:
                    tiers.append({"queue": name, "level": tier.level, "position": tier.position})
        doing, seconds = figures.activity(row, self.clock())
        direct = (
            {"number": row["direct_call_number"], "direction": row["direct_call_direction"]}
            if row.get("direct_call_since") else None
        )  # fmt: skip
        return {**row, "tiers": tiers, "activity": doing, "activity_seconds": seconds, "direct_call": direct}

    def agent(self, tenant_id: str, agent_id: str) -> dict[str, Any]:
        with self._tenant(tenant_id, "agent.read", Target(tenant_id, agent_id=agent_id)) as t:
            return self._agent(t, agent_id)

    def set_status(self, tenant_id: str, agent_id: str, status: str, reason: str) -> dict[str, Any]:
        if status not in STATUSES:
            raise Refused("invalid", "invalid_status", f"status: one of {', '.join(sorted(STATUSES))}")
        if reason and status != AgentStatus.ON_BREAK:
            raise Refused("invalid", "reason_without_break", "a reason goes with On Break only")
        with self._tenant(tenant_id, "agent.status", Target(tenant_id, agent_id=agent_id)) as t:
            self._agent(t, agent_id)
            if self.principal.role is Role.AGENT:  # a supervisor forcing a status overrides it
                from fsapps.web.wrapups import check_ready

                check_ready(t, agent_id, status)
            t.conn.execute(
                "INSERT INTO agent_state (agent_id) VALUES (%s) ON CONFLICT DO NOTHING", (agent_id,)
            )
            store_acd.set_status(t.conn, agent_id, status, self.clock(), reason)
            return self._agent(t, agent_id)

    def set_skills(self, tenant_id: str, agent_id: str, skills: dict[str, int]) -> dict[str, Any]:
        with self._tenant(tenant_id, "agent.skills", Target(tenant_id, agent_id=agent_id)) as t:
            self._agent(t, agent_id)
            repo.set_skills(t, agent_id, skills)
            return self._agent(t, agent_id)

    def provision_phone(self, tenant_id: str, agent_id: str, user: str, site: Any) -> dict[str, Any]:
        """A SIP user ``user`` in the tenant's directory for the agent, with a new password
        (returned here, once; only its a1-hash is kept), the agent's contact pointed at it,
        and the directory rendered, installed and reloaded. One phone per agent: a second
        call replaces the first (and its password)."""
        import hashlib
        import secrets

        from fsapps.flows.upload import UploadRefused

        if site is None:
            raise Refused("unavailable", "no_flows_dir", "this server does not render the directory")
        with self._tenant(tenant_id, "agent.phone", Target(tenant_id, agent_id=agent_id)) as t:
            self._agent(t, agent_id)
            domain = t.info().domain
            shared = t._one("SELECT count(*) AS n FROM agent_tenants WHERE agent_id = %s", (agent_id,))
        with self.store.operator() as op:
            tenants = op._one("SELECT count(*) AS n FROM agent_tenants WHERE agent_id = %s", (agent_id,))
        elsewhere = shared is not None and tenants is not None and tenants["n"] > shared["n"]
        if elsewhere and self.principal.role is not Role.OPERATOR:  # their phone is every tenant's contact
            why = f"agent {agent_id!r} serves other tenants too: ask the operator"
            raise Refused("conflict", "shared_agent", why)
        if user in site.boxes(tenant_id):
            raise Refused("conflict", "user_taken", f"{user!r} is a voicemail box of {tenant_id!r}")
        password = secrets.token_urlsafe(18)
        a1 = hashlib.md5(f"{user}:{domain}:{password}".encode()).hexdigest()  # the SIP digest's A1
        contact = f"user/{user}@{domain}"
        try:
            with self.store.operator() as op:  # the agent's contact is the owner's to write
                if not repo.provision_phone(op.conn, tenant_id, user, agent_id, a1, contact):
                    raise Refused("conflict", "user_taken", f"{user!r} is another agent's phone")
                site.publish(repo.sip_phones(op.conn))  # a failure rolls the rows back
        except UploadRefused as exc:
            kind = "switch" if exc.code == "reload_failed" else "conflict"
            raise Refused(kind, exc.code, exc.message) from None
        return {"agent": agent_id, "user": user, "domain": domain, "contact": contact, "password": password}

    # --- live events -------------------------------------------------------------------------

    def viewer(self, tenant_id: str | None) -> Viewer:
        """Whose event stream this is, and what it may show (fsapps.web.visibility);
        ``tenant_id`` None: the operator's, across tenants."""
        p = self.principal
        if tenant_id is None:
            self._allow("events.all", Target(None))
            return Viewer(p, None)
        with self._tenant(tenant_id, "events.read"):
            pass
        served: frozenset[str] = frozenset()
        if p.role is Role.AGENT:
            served = frozenset(
                name
                for name, data in self.queues_of(tenant_id).items()
                for tier in acd_config.queue_tiers(acd_config.queue_key(tenant_id, name), data)
                if tier.agent == p.agent_id
            )
        return Viewer(p, tenant_id, served)

    # --- queues -----------------------------------------------------------------------------------

    def queues(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "queues.list") as t:
            seen = self._visible(self.principal.queues)
            names = [n for n in sorted(self.queues_of(tenant_id)) if seen is None or n in seen]
            return [self._queue(t, tenant_id, n) for n in names]

    def queue(self, tenant_id: str, name: str) -> dict[str, Any]:
        with self._tenant(tenant_id, "queue.read", Target(tenant_id, queue=name)) as t:
            return self._queue(t, tenant_id, name)

    def _queue(self, t: TenantScope, tenant_id: str, name: str) -> dict[str, Any]:
        data = self.queues_of(tenant_id).get(name)
        if data is None:
            raise Refused("not_found", "no_such_queue", f"no queue {name!r}")
        key = acd_config.queue_key(tenant_id, name)
        settings = acd_config.queue_settings(data)
        tiers = acd_config.queue_tiers(key, data)
        now = self.clock()
        queue = Queue(key, tenant_id, settings)

        def served_first(m: dict[str, Any]) -> tuple[Any, ...]:
            # The dispatcher's own order (fsapps.acd.decide: highest score first), talking callers last.
            member = Member(
                uuid=str(m["uuid"]), queue=key, joined_epoch=m["joined_epoch"], priority=m["priority"],
                base_score=m["base_score"], system_epoch=m["system_epoch"],
            )  # fmt: skip
            return (m["state"] == "Answered", -score(member, queue, now), m["joined_epoch"], str(m["uuid"]))

        callers = []
        position = 0
        for m in sorted(repo.waiting(t, name), key=served_first):
            answered = m["state"] == "Answered"
            if not answered:
                position += 1
            callers.append({
                "uuid": str(m["uuid"]), "number": m["cid_number"], "name": m["cid_name"], "state": m["state"],
                "priority": m["priority"], "position": None if answered else position,
                "wait_seconds": round(max(now - m["joined_epoch"], 0.0), 1), "agent": m["serving_agent"],
            })  # fmt: skip
        return {
            "name": name,
            "strategy": settings.strategy,
            "settings": {k: v for k, v in data.items() if k != "tiers"},
            "tiers": [{"agent": x.agent, "level": x.level, "position": x.position} for x in tiers],
            "callers": callers,
            "waiting": position,
        }

    def queue_figures(self, tenant_id: str) -> list[dict[str, Any]]:
        """Each queue's figures now and today (a supervisor: their groups' queues; a
        wallboard: all of the tenant's): counts only, no caller's number or name."""
        with self._tenant(tenant_id, "queues.figures") as t:
            defined = self.queues_of(tenant_id)
            seen = self._visible(self.principal.queues)
            names = [n for n in sorted(defined) if seen is None or n in seen]
            now = self.clock()
            today = figures.day_start(now, t.info().timezone)
            visits = repo.visits_since(t, names, datetime.fromtimestamp(today, UTC))
            members = repo.waiting_members(t, names)
            states = {a["id"]: a for a in repo.agent_states(t)}
        out = []
        for name in names:
            data = defined[name] or {}
            settings = acd_config.queue_settings(data)
            tiers = acd_config.queue_tiers(acd_config.queue_key(tenant_id, name), data)
            day = figures.queue_day([v for v in visits if v["queue"] == name], settings.service_level_seconds)
            waiting, longest = figures.waiting_now([m for m in members if m["queue"] == name], now)
            agents = [states[x.agent] for x in tiers if x.agent in states]
            out.append({
                "name": name, "waiting": waiting, "longest_wait_seconds": longest,
                "answered": day.answered, "answered_within": day.answered_within, "abandoned": day.abandoned,
                "offered": day.offered, "service_level": day.service_level,
                "service_level_seconds": settings.service_level_seconds,
                "service_level_target": settings.service_level_target,
                "agents": figures.agents_by_activity(agents, now),
                "day_started_at": datetime.fromtimestamp(today, UTC),
            })  # fmt: skip
        return out

    # --- wallboard tokens -------------------------------------------------------------------

    def wallboard_tokens(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "wallboards.manage") as t:
            return repo.wallboard_tokens(t)

    def issue_wallboard_token(self, tenant_id: str, name: str) -> dict[str, Any]:
        with self._tenant(tenant_id, "wallboards.manage") as t:
            user = self.principal.user_id if self.principal.tenant_id == tenant_id else None
            token_id, token = repo.issue_wallboard_token(t, name, user)
        return {"id": token_id, "token": token}

    def revoke_wallboard_token(self, tenant_id: str, token_id: int) -> None:
        with self._tenant(tenant_id, "wallboards.manage") as t:
            if not repo.revoke_wallboard_token(t, token_id):
                raise Refused("not_found", "no_such_token", f"no live wallboard token {token_id}")

    def set_priority(self, tenant_id: str, queue: str, member: str, priority: int) -> None:
        with self._tenant(tenant_id, "queue.priority", Target(tenant_id, queue=queue)) as t:
            if queue not in self.queues_of(tenant_id):
                raise Refused("not_found", "no_such_queue", f"no queue {queue!r}")
            if not repo.set_priority(t, queue, member, priority):
                raise Refused("not_found", "no_such_caller", f"no caller {member} waiting in {queue!r}")

    # --- blacklist, outages -------------------------------------------------------------------

    def blacklist(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "blacklist.read") as t:
            return selfservice.list_blacklist(t)

    def add_blacklist(self, tenant_id: str, number: str, match: str, reason: str,
                      expires_at: datetime | None) -> None:  # fmt: skip
        with self._tenant(tenant_id, "blacklist.write") as t:
            selfservice.add_blacklist(t, number, match, reason, expires_at)

    def remove_blacklist(self, tenant_id: str, number: str, match: str) -> None:
        with self._tenant(tenant_id, "blacklist.write") as t:
            if not selfservice.remove_blacklist(t, number, match):
                raise Refused("not_found", "not_blacklisted", f"{number} ({match}) is not on the blacklist")

    def outages(self, tenant_id: str, include_ended: bool) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "outages.read") as t:
            return selfservice.list_outages(t, self._now(), include_ended=include_ended)

    def post_outage(self, tenant_id: str, area_kind: str, area: str, message: str, starts_at: datetime | None,
                    ends_at: datetime) -> int:  # fmt: skip
        starts = starts_at or self._now()
        if ends_at <= starts:
            raise Refused("invalid", "ends_before_start", "an outage ends after it starts")
        with self._tenant(tenant_id, "outages.write") as t:
            return selfservice.post_outage(t, area_kind, area, message, starts, ends_at)

    def end_outage(self, tenant_id: str, outage_id: int) -> None:
        with self._tenant(tenant_id, "outages.write") as t:
            if not selfservice.end_outage(t, outage_id, self._now()):
                raise Refused("not_found", "no_such_outage", f"no current outage {outage_id}")

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # --- callbacks ------------------------------------------------------------------------------

    def callbacks(self, tenant_id: str, status: str) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "callbacks.list") as t:
            rows = repo.callbacks(t, status, self._visible(self.principal.queues))
            if self.principal.role is Role.AGENT and status != "pending":
                # Agents see what is there to claim, and what they claimed: not their colleagues' work.
                rows = [r for r in rows if r["claimed_by"] == self.principal.agent_id]
            return rows

    def _callback(self, t: TenantScope, action: str, event_id: str) -> dict[str, Any]:
        row = repo.callback(t, event_id)
        if row is None:
            raise Refused("not_found", "no_such_callback", f"no callback {event_id}")
        self._allow(action, Target(t.tenant_id, queue=row["queue"], agent_id=row["claimed_by"]))
        return row

    def claim_callback(self, tenant_id: str, event_id: str) -> None:
        with self._tenant(tenant_id, "callback.claim") as t:
            self._callback(t, "callback.claim", event_id)
            agent_id = self.principal.agent_id
            if agent_id is None:  # the operator, or an agent's user with no agent
                raise Refused("invalid", "not_an_agent", "a callback is claimed by the agent who dials it")
            if not repo.claim_callback(t, event_id, agent_id):
                raise Refused("conflict", "callback_taken", f"callback {event_id} is no longer pending")

    def finish_callback(self, tenant_id: str, event_id: str, status: str) -> None:
        with self._tenant(tenant_id, "callback.done") as t:
            self._callback(t, "callback.done", event_id)
            if not repo.finish_callback(t, event_id, status):
                raise Refused("conflict", "callback_finished", f"callback {event_id} is finished already")

    # --- what happened: surveys, CDRs, usage, statements -------------------------------------------

    def surveys(self, tenant_id: str, limit: int) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "surveys.read") as t:
            rows = selfservice.survey_answers(t, limit)
            seen = self._visible(self.principal.queues)
            return [r for r in rows if seen is None or r["queue"] in seen]

    def recordings(self, tenant_id: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "recordings.read") as t:
            return repo.recordings(t, **filters, queues=self._visible(self.principal.queues))

    def recording(self, tenant_id: str, recording_id: str) -> dict[str, Any]:
        with self._tenant(tenant_id, "recordings.read") as t:
            row = repo.recording(t, recording_id)
            if row is None:
                raise Refused("not_found", "no_such_recording", f"no recording {recording_id}")
            self._allow("recordings.read", Target(tenant_id, queue=row["queue"]))
            return row

    def recording_file(self, tenant_id: str, recording_id: str, recordings_dir: Path | None) -> Path:
        """The recording's file: the path the store has for it, never one from the client,
        and only under the tenant's folder of the recordings directory (symbolic links
        followed) and a file there."""
        row = self.recording(tenant_id, recording_id)
        return recording_path(recordings_dir, tenant_id, row["recording"], recording_id)

    def cdrs(self, tenant_id: str, limit: int) -> list[dict[str, Any]]:
        with self._tenant(tenant_id, "cdrs.read") as t:
            if self.principal.role is Role.AGENT:  # their own calls
                if self.principal.agent_id is None:
                    return []
                return repo.cdrs(t, limit, self.principal.agent_id)
            return repo.cdrs(t, limit)

    def usage(self, tenant_id: str, start: datetime, end: datetime) -> list[Any]:
        with self._tenant(tenant_id, "usage.read") as t:
            return t.usage_between(start, end)

    def statement(self, tenant_id: str, month: str) -> Any:
        from fsapps.billing.rating import PlanError, month_bounds, parse_plan, rate

        with self._tenant(tenant_id, "statement.read") as t:
            tenant = t.info()
            try:
                start, end = month_bounds(month, tenant.timezone)
            except ValueError as exc:
                raise Refused("invalid", "invalid_month", str(exc)) from None
            try:
                plan = parse_plan(tenant.billing_plan)
            except PlanError as exc:
                raise Refused("conflict", "invalid_plan", str(exc)) from None
            return rate(tenant.id, month, tenant.timezone, plan, t.usage_between(start, end), t.seats())

    def statements(self, month: str) -> list[Any]:
        """Every tenant's statement for the month (the operator's billing run), each rated in
        its own tenant's transaction."""
        self._allow("statements.all", Target(None))
        with self.store.operator() as op:
            tenants = [t.id for t in op.tenants() if t.status != "closed"]
        out = []
        for tenant_id in tenants:
            try:
                out.append(self.statement(tenant_id, month))
            except Refused as exc:
                raise Refused(exc.kind, exc.code, f"tenant {tenant_id!r}: {exc.message}") from None
        return out


def session_expiry(now: float, hours: float) -> datetime:
    return datetime.fromtimestamp(now, UTC) + timedelta(hours=hours)


def recording_path(recordings_dir: Path | None, tenant_id: str, stored: str, recording_id: str) -> Path:
    """A recording's file: the path the store has for it (never one from the client), only
    under the tenant's folder of the recordings directory (symbolic links followed) and a
    file there."""
    if recordings_dir is None:
        raise Refused("unavailable", "no_recordings_dir", "this server cannot read the recordings")
    wall = (recordings_dir / tenant_id).resolve()
    path = Path(stored).resolve()
    if not path.is_relative_to(wall):
        why = f"recording {recording_id} is not under the tenant's recordings"
        raise Refused("forbidden", "outside_recordings", why)
    if not path.is_file():
        raise Refused("not_found", "recording_missing", f"recording {recording_id} has no file (yet)")
    return path
