"""The routing core: ``decide(snapshot, now) -> [decisions]``. Pure.

One pass of mod_callcenter's dispatch (mod_callcenter.c:2779, every 100 ms
there; here whenever something changes): members in score order
(l.2781: ``now - joined_epoch + base_score``), each offered to the first
eligible agent its queue's strategy orders (l.2614-2690), or to all of them
for ring-all. Agent eligibility copies agents_callback (l.2302-2345): tier
rules, tier state Ready or No Answer, agent state Waiting, past wrap-up,
past ready_time (the reject/busy/no-answer delays), not On Break, no
external call. fsapps adds skills (with relaxation as the member waits),
priority classes with aging, the caller's own account manager first
(sticky), and private queues.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace

from fsapps.acd.model import (
    Agent,
    AgentState,
    AgentStatus,
    Member,
    MemberState,
    Queue,
    QueueSettings,
    Snapshot,
    Tier,
    TierState,
)

# The statuses the dispatch query selects (l.2664); On Break is then skipped (l.2331).
LISTED = (AgentStatus.AVAILABLE, AgentStatus.ON_BREAK, AgentStatus.AVAILABLE_ON_DEMAND)
STAFFED = (AgentStatus.AVAILABLE, AgentStatus.AVAILABLE_ON_DEMAND)


@dataclass(frozen=True)
class Offer:
    """Ring ``agents`` (several: ring-all, or the next of ring-progressively) for ``member``."""

    member: str
    queue: str
    agents: tuple[str, ...]
    ring_timeout: int


@dataclass(frozen=True)
class Announce:
    member: str
    queue: str
    position: int
    estimated_wait: int  # seconds


@dataclass(frozen=True)
class Exit:
    """The member leaves the queue: the flow's ``timeout`` branch (overflow, voicemail, callback)."""

    member: str
    queue: str
    reason: str  # max-wait-time | max-wait-time-with-no-agent | moved
    to: str = ""  # moved: the queue (of the same tenant) the caller waits in next


@dataclass(frozen=True)
class Discard:
    """An abandoned member past discard-abandoned-after: their place is gone."""

    member: str
    queue: str


@dataclass(frozen=True)
class Rewind:
    """top-down: no agent is listed below the tier last offered this member, who starts
    again from the top at the next pass (l.2736-2745 clears cc_last_agent_tier_*)."""

    member: str
    queue: str


Decision = Offer | Announce | Exit | Discard | Rewind

# ring-progressively-delay 0 (the setting's default) means 10 seconds (l.2479, l.2518-2519).
RING_PROGRESSIVELY_DELAY = 10


def score(member: Member, queue: Queue, now: float) -> float:
    """mod_callcenter's member score plus fsapps' priority head start and tenant weight."""
    s = queue.settings
    value = (
        (now - member.joined_epoch) * member.weight + member.base_score + member.priority * s.priority_aging
    )
    if s.time_base_score == "system" and member.system_epoch:
        value += member.joined_epoch - member.system_epoch  # l.3077: time in the switch counts too
    return value


def last_offered_tiers(tiers: Iterable[Tier], agents: dict[str, Agent]) -> dict[str, tuple[int, int]]:
    """round-robin's starting point: for each queue, the (level, position) of its agent
    most recently offered a call, from any queue (l.2655-2656: the tier of the queue's
    agent with the greatest agents.last_offered_call > 0)."""
    best: dict[str, tuple[float, int, int]] = {}
    for t in tiers:
        agent = agents.get(t.agent)
        if agent is None or agent.last_offered_call <= 0:
            continue
        key = (agent.last_offered_call, t.level, t.position)
        if t.queue not in best or key > best[t.queue]:
            best[t.queue] = key
    return {q: (level, position) for q, (_, level, position) in best.items()}


def no_agent_since(
    queues: Iterable[str], tiers: Iterable[Tier], agents: dict[str, Agent]
) -> dict[str, float]:
    """For each queue with no agent logged in (none of its agents Available, On Demand or
    On Break: the statuses the dispatch query lists, l.2632-2690; mod_callcenter calls an
    agent found on any listed row, l.2297, and keeps the time it last found one,
    last_agent_exist, l.2731-2733), since when: its agents' last status change, the moment
    the last of them logged out. 0 when they never were logged in, as last_agent_exist
    starts at 0 (l.770)."""
    last: dict[str, float] = {q: 0.0 for q in queues}
    staffed: set[str] = set()
    for t in tiers:
        agent = agents.get(t.agent)
        if agent is None or t.queue not in last:
            continue
        if agent.status in LISTED:
            staffed.add(t.queue)
        last[t.queue] = max(last[t.queue], agent.last_status_change)
    return {q: since for q, since in last.items() if q not in staffed}


def required_level(level: int, waited: float, relax: Iterable[tuple[int, int]]) -> int:
    drop = max((d for after, d in relax if waited >= after), default=0)
    return max(1, level - drop)


def qualified(agent: Agent, member: Member, queue: Queue, now: float) -> bool:
    waited = now - member.joined_epoch
    return all(
        agent.skills.get(skill, 0) >= required_level(level, waited, queue.settings.skill_relax)
        for skill, level in member.skills.items()
    )


def proficiency(agent: Agent, member: Member) -> int:
    return sum(agent.skills.get(skill, 0) for skill in member.skills)


def ordered(
    tiers: list[tuple[Tier, Agent]], queue: Queue, member: Member, snap: Snapshot, rng: random.Random
) -> list[tuple[Tier, Agent]]:
    """The queue's agents in its strategy's order (the ORDER BY of l.2614-2690)."""
    strategy = queue.settings.strategy
    if strategy == "top-down":
        position, level = member.last_tier
        first = [x for x in tiers if x[0].position > position and x[0].level == level]
        rest = [x for x in tiers if x[0].level > level]
        key = lambda x: (x[0].level, x[0].position, x[1].last_offered_call)  # noqa: E731
        return sorted(first, key=key) + sorted(rest, key=key)
    if strategy == "round-robin":
        last = snap.last_offered_tier.get(queue.name)
        first = [x for x in tiers if last and x[0].position > last[1] and x[0].level == last[0]]
        key = lambda x: (x[0].level, x[0].position, x[1].last_offered_call)  # noqa: E731
        return sorted(first, key=key) + sorted(tiers, key=key)
    if strategy == "random":
        shuffled = list(tiers)
        rng.shuffle(shuffled)
        return sorted(shuffled, key=lambda x: x[0].level)
    keys = {
        "longest-idle-agent": lambda x: (x[0].level, x[1].last_bridge_end, x[0].position),
        "agent-with-least-talk-time": lambda x: (x[0].level, x[1].talk_time, x[0].position),
        "agent-with-fewest-calls": lambda x: (x[0].level, x[1].calls_answered, x[0].position),
        "ring-all": lambda x: (x[0].level, x[0].position),
        "ring-progressively": lambda x: (x[0].level, x[0].position),
        "skills-based": lambda x: (
            x[0].level,
            -proficiency(x[1], member),
            x[1].last_bridge_end,
            x[0].position,
        ),
    }
    # sequentially-by-agent-order, and any unknown name (l.2680: the fallback order)
    default = lambda x: (x[0].level, x[0].position, x[1].last_offered_call)  # noqa: E731
    return sorted(tiers, key=keys.get(strategy, default))


def eligible(agent: Agent, tier: Tier, queue: Queue, now: float) -> bool:
    """agents_callback's checks (l.2322-2345)."""
    s = queue.settings
    return (
        tier.state in (TierState.READY, TierState.NO_ANSWER)
        and agent.state == AgentState.WAITING
        and agent.last_bridge_end < now - agent.wrap_up_time
        and agent.ready_time <= now
        and agent.status != AgentStatus.ON_BREAK
        and not (s.skip_agents_with_external_calls and agent.external_calls_count > 0)
    )


def listed_by_queue(snap: Snapshot) -> dict[str, list[tuple[Tier, Agent]]]:
    """Each queue's tiers with their agents in a status the dispatch query selects."""
    out: dict[str, list[tuple[Tier, Agent]]] = {}
    for t in snap.tiers:
        agent = snap.agents.get(t.agent)
        if agent is not None and agent.status in LISTED:
            out.setdefault(t.queue, []).append((t, agent))
    return out


def candidates(
    member: Member,
    queue: Queue,
    snap: Snapshot,
    now: float,
    taken: set[str],
    rng: random.Random,
    listed: list[tuple[Tier, Agent]] | None = None,
    orders: dict[object, list[tuple[Tier, Agent]]] | None = None,
    first_only: bool = False,
) -> list[str]:
    """The member's eligible agents in the strategy's order; ``first_only``: the first of
    them alone (what every strategy but ring-all offers), found without looking further."""
    s = queue.settings
    # A private or sticky member's list is filtered or reordered after it is made: whole.
    stop_at_first = first_only and member.private_agent is None and member.owner_agent is None
    if listed is None:
        listed = listed_by_queue(snap).get(queue.name, [])
    # The strategy's order depends on the queue, and for some strategies on the member's
    # skills or last tier: one sort per distinct key per pass, not one per member.
    key: object = (queue.name, s.strategy, tuple(sorted(member.skills.items())), member.last_tier)
    if s.strategy == "random" or orders is None:
        agents_in_order = ordered(listed, queue, member, snap, rng)
    else:
        if key not in orders:
            orders[key] = ordered(listed, queue, member, snap, rng)
        agents_in_order = orders[key]
    waited = now - member.joined_epoch
    out: list[str] = []
    tier, tier_agents = 0, 0
    for t, agent in agents_in_order:
        if s.tier_rules_apply and t.level > tier:
            # l.2302: may the member move on to this tier yet?
            if s.tier_rule_no_agent_no_wait and tier_agents == 0:
                tier = t.level
            elif waited >= (t.level * s.tier_rule_wait_second if s.tier_rule_wait_multiply_level
                            else s.tier_rule_wait_second):  # fmt: skip
                tier, tier_agents = t.level, 0
            else:
                break
        tier_agents += 1
        if agent.id in taken or agent.id in member.ringing or agent.id in out:
            continue
        if not eligible(agent, t, queue, now) or not qualified(agent, member, queue, now):
            continue
        out.append(agent.id)
        if stop_at_first:
            break
    if member.private_agent is not None:
        return [a for a in out if a == member.private_agent]
    if member.owner_agent is not None:
        if waited < s.sticky_seconds:
            return [a for a in out if a == member.owner_agent]
        if member.owner_agent in out:
            out.remove(member.owner_agent)
            out.insert(0, member.owner_agent)
    return out


def _unconstrained(member: Member, s: QueueSettings) -> bool:
    """A member whose candidates are every eligible agent of the queue."""
    return not (member.skills or member.private_agent or member.owner_agent or s.tier_rules_apply
                or member.state != MemberState.WAITING or s.strategy == "top-down")  # fmt: skip


def _no_agent_exit(member: Member, queue: Queue, snap: Snapshot, now: float) -> bool:
    """max-wait-time-with-no-agent (l.2888-2903): the queue has had nobody logged in for
    that long (l.2890); then, with max-wait-time-with-no-agent-time-reached above 0, the
    member leaves once they have waited both together (l.2892-2894), else at once."""
    s = queue.settings
    since = snap.no_agent_since.get(queue.name)
    if not s.max_wait_time_with_no_agent or since is None or now - since < s.max_wait_time_with_no_agent:
        return False
    reached = s.max_wait_time_with_no_agent_time_reached
    return reached <= 0 or now - member.joined_epoch >= reached + s.max_wait_time_with_no_agent


def _below(tier: Tier, last: tuple[int, int]) -> bool:
    """top-down: listed after the member's last tier (the two halves of l.2632-2642)."""
    position, level = last
    return (tier.level == level and tier.position > position) or tier.level > level


def decide(snap: Snapshot, now: float, seed: int = 0) -> list[Decision]:
    rng = random.Random(seed)
    out: list[Decision] = []
    taken = {a.id for a in snap.agents.values() if a.state != AgentState.WAITING}
    for m in snap.members:
        taken.update(m.ringing)
    for m in snap.members:
        q = snap.queues.get(m.queue)
        if (
            q
            and m.state == MemberState.ABANDONED
            and now - m.abandoned_epoch >= q.settings.discard_abandoned_after
        ):
            out.append(Discard(m.uuid, m.queue))
    live = [
        m
        for m in snap.members
        if m.queue in snap.queues and m.state in (MemberState.WAITING, MemberState.TRYING)
    ]
    live.sort(key=lambda m: (-score(m, snap.queues[m.queue], now), m.joined_epoch, m.uuid))
    positions: dict[str, int] = {}
    listed = listed_by_queue(snap)
    orders: dict[object, list[tuple[Tier, Agent]]] = {}
    # Queues where a member with no constraints found nobody: members after them
    # (lower scores, same or narrower choice) find nobody either in this pass.
    exhausted: set[str] = set()
    for m in live:
        q = snap.queues[m.queue]
        s = q.settings
        if m.moving_to and m.state == MemberState.WAITING:
            # Moved by a supervisor: before any offer of this pass, and holding no place here.
            out.append(Exit(m.uuid, m.queue, "moved", to=m.moving_to))
            continue
        position = positions[m.queue] = positions.get(m.queue, 0) + 1
        if s.max_wait_time and now - m.joined_epoch >= s.max_wait_time:
            out.append(Exit(m.uuid, m.queue, "max-wait-time"))
            continue
        if _no_agent_exit(m, q, snap, now):
            out.append(Exit(m.uuid, m.queue, "max-wait-time-with-no-agent"))
            continue
        progressive = s.strategy == "ring-progressively"
        if m.state == MemberState.TRYING and not (progressive and m.adds_legs):
            continue
        if (
            m.state == MemberState.WAITING
            and s.announce_frequency
            and now - m.last_announce >= s.announce_frequency
        ):
            staffed = sum(1 for _, a in listed.get(m.queue, []) if a.status in STAFFED)
            wait = estimated_wait(position, snap.handle_time.get(m.queue, 180.0), staffed)
            out.append(Announce(m.uuid, m.queue, position, wait))
        delay = s.ring_progressively_delay or RING_PROGRESSIVELY_DELAY
        if progressive and m.last_originated and now < m.last_originated + delay:
            continue  # l.2704-2716: the next agent joins the ringing after the delay
        if m.queue in exhausted:
            continue
        if (
            s.strategy == "top-down"
            and m.last_tier != (0, 0)
            and not any(_below(t, m.last_tier) for t, _ in listed.get(m.queue, []))
        ):
            out.append(Rewind(m.uuid, m.queue))
            continue
        found = candidates(m, q, snap, now, taken, rng, listed.get(m.queue, []), orders,
                           first_only=s.strategy != "ring-all")  # fmt: skip
        if not found and _unconstrained(m, s):
            exhausted.add(m.queue)
        chosen = tuple(found) if s.strategy == "ring-all" else tuple(found[:1])
        if chosen:
            out.append(Offer(m.uuid, m.queue, chosen, s.ring_timeout))
            taken.update(chosen)
    return out


def offer_freed(snap: Snapshot, agent_id: str, now: float, seed: int = 0) -> Offer | None:
    """Incremental routing: the offer a full pass would make to ``agent_id`` just freed, read
    from the queues that agent serves only.

    It is the full pass's answer when nothing else changed since a pass that left no offer to
    make (a settled floor: every other free agent is one no waiting caller could take). A
    caller's score, place and candidates depend only on their own queue, so dropping the
    callers of queues the agent does not serve changes nothing for those it does; no other
    agent being free for them, the first of them, in the pass's order, who may have this
    agent gets them. The dispatcher's full pass, run on every tick, still makes every other
    decision (timeouts, announcements, agents freed by time). bench/acd.py times it beside a
    full pass."""
    served = {t.queue for t in snap.tiers if t.agent == agent_id}
    if not served:
        return None
    reduced = replace(
        snap,
        members=tuple(m for m in snap.members if m.queue in served),
        tiers=tuple(t for t in snap.tiers if t.queue in served),
    )
    for d in decide(reduced, now, seed):
        if isinstance(d, Offer) and agent_id in d.agents:
            return d
    return None


def estimated_wait(position: int, handle_time: float, staffed: int) -> int:
    """Position times the recent handle time, shared by the agents staffing the queue."""
    return math.ceil(position * handle_time / max(staffed, 1))
