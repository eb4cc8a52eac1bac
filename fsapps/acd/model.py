"""Queues, agents, tiers and members, with mod_callcenter's names and defaults.

Settings read as in mod_callcenter.c (1.10.12): queue settings and their
defaults at l.563-584, agent columns and defaults at l.205-240, tiers (level
and position default 1) at l.245-262. fsapps' own settings come after
them, each with a comment. Times are epoch seconds (floats); nothing here
reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AgentStatus(StrEnum):
    """What the agent chose (mod_callcenter.c:104)."""

    LOGGED_OUT = "Logged Out"
    AVAILABLE = "Available"
    AVAILABLE_ON_DEMAND = "Available (On Demand)"
    ON_BREAK = "On Break"


class AgentState(StrEnum):
    """What the agent is doing (mod_callcenter.c:122)."""

    WAITING = "Waiting"
    RECEIVING = "Receiving"
    IN_A_QUEUE_CALL = "In a queue call"
    IDLE = "Idle"
    RESERVED = "Reserved"


class TierState(StrEnum):
    READY = "Ready"
    NO_ANSWER = "No Answer"
    OFFERING = "Offering"
    ACTIVE_INBOUND = "Active Inbound"
    WRAP_UP_INBOUND = "Wrap-up inbound"
    STANDBY = "Standby"


class MemberState(StrEnum):
    WAITING = "Waiting"
    TRYING = "Trying"  # offered to one or more agents, ringing
    ANSWERED = "Answered"
    ABANDONED = "Abandoned"


STRATEGIES = (
    "ring-all", "longest-idle-agent", "round-robin", "top-down", "agent-with-least-talk-time",
    "agent-with-fewest-calls", "sequentially-by-agent-order", "random", "ring-progressively",
    # fsapps' own
    "skills-based",
)  # fmt: skip


@dataclass(frozen=True)
class QueueSettings:
    strategy: str = "longest-idle-agent"
    moh_sound: str | None = None
    announce_sound: str | None = None
    announce_frequency: int = 0
    record_template: str | None = None
    time_base_score: str = "queue"  # "system": the caller's time in the switch counts too
    ring_progressively_delay: int = 0
    tier_rules_apply: bool = False
    tier_rule_wait_second: int = 0
    tier_rule_wait_multiply_level: bool = False
    tier_rule_no_agent_no_wait: bool = True
    discard_abandoned_after: int = 60
    abandoned_resume_allowed: bool = False
    max_wait_time: int = 0
    max_wait_time_with_no_agent: int = 0
    max_wait_time_with_no_agent_time_reached: int = 5
    agent_no_answer_status: str = AgentStatus.ON_BREAK
    skip_agents_with_external_calls: bool = True
    # fsapps: seconds of head start per priority point; a caller of priority p is served
    # as if they had waited p * priority_aging longer, so a normal caller's wait is bounded.
    priority_aging: int = 60
    # fsapps: (after seconds waited, levels dropped) — required skill levels relax as the member waits.
    skill_relax: tuple[tuple[int, int], ...] = ()
    # fsapps: the caller's own account manager alone for this long, then the queue.
    sticky_seconds: int = 0
    ring_timeout: int = 20  # fsapps: seconds an offer rings before it counts as no answer
    service_level_seconds: int = 20  # fsapps: answered within this counts toward the service level
    # fsapps: the percent of callers answered within service-level-seconds the queue aims at
    # (80/20: the call center's usual); the supervisor's floor warns below it.
    service_level_target: int = 80
    callback_key: str = ""  # fsapps: the caller presses it to be called back, keeping their place


@dataclass(frozen=True)
class Queue:
    name: str
    tenant: str
    settings: QueueSettings = field(default_factory=QueueSettings)


@dataclass(frozen=True)
class Agent:
    id: str
    status: str = AgentStatus.LOGGED_OUT
    state: str = AgentState.WAITING
    contact: str = ""
    max_no_answer: int = 0
    wrap_up_time: int = 0
    reject_delay_time: int = 0
    busy_delay_time: int = 0
    no_answer_delay_time: int = 0
    last_bridge_start: float = 0
    last_bridge_end: float = 0
    last_offered_call: float = 0
    last_status_change: float = 0  # when the status last changed (a logout: max-wait-time-with-no-agent)
    no_answer_count: int = 0
    calls_answered: int = 0
    talk_time: float = 0
    ready_time: float = 0
    external_calls_count: int = 0
    break_reason: str = ""
    skills: dict[str, int] = field(default_factory=dict)  # fsapps: proficiency 1-10 per skill
    offered_member: str = ""  # fsapps: the caller this agent's phone rings or talks for


@dataclass(frozen=True)
class Tier:
    queue: str
    agent: str
    level: int = 1
    position: int = 1
    state: str = TierState.READY


@dataclass(frozen=True)
class Member:
    uuid: str
    queue: str
    joined_epoch: float
    state: str = MemberState.WAITING
    base_score: int = 0
    system_epoch: float = 0  # when the call entered the switch (time-base-score system)
    priority: int = 0  # fsapps: 0 normal; higher classes are served first, with aging
    # fsapps: the weight of the member's tenant with the queue's shared agents (agent_tenants):
    # a caller of a tenant with weight 3 ages three times as fast as one with weight 1, so a
    # shared pool serves its tenants' waiting callers in about those proportions.
    weight: float = 1.0
    skills: dict[str, int] = field(default_factory=dict)  # fsapps: required skill -> minimum level
    owner_agent: str | None = None  # fsapps: the caller's account manager (sticky)
    private_agent: str | None = None  # fsapps: waits for this agent only
    abandoned_epoch: float = 0
    last_announce: float = 0
    # ring-progressively: who is already ringing and when the last was added
    ringing: tuple[str, ...] = ()
    last_originated: float = 0
    # fsapps: whether the caller's ringing can take another agent while it rings
    # (ring-progressively); when it cannot, the next agent waits until the ring ends.
    adds_legs: bool = True
    # top-down: the (position, level) of the tier last offered this member, as
    # mod_callcenter's cc_last_agent_tier_position and _level; (0, 0): from the top
    last_tier: tuple[int, int] = (0, 0)
    # fsapps: a supervisor moved the waiting caller to this queue of their tenant's
    # (queue_members.transfer's "move"); "" : staying
    moving_to: str = ""


@dataclass(frozen=True)
class Snapshot:
    queues: dict[str, Queue]
    agents: dict[str, Agent]
    tiers: tuple[Tier, ...]
    members: tuple[Member, ...]
    # round-robin: the (level, position) of the agent last offered in each queue
    # (fsapps.acd.decide.last_offered_tiers reads it from the agents)
    last_offered_tier: dict[str, tuple[int, int]] = field(default_factory=dict)
    # for each queue with no agent logged in now, since when (max-wait-time-with-no-agent;
    # fsapps.acd.decide.no_agent_since reads it from the agents); absent: it has one
    no_agent_since: dict[str, float] = field(default_factory=dict)
    # recent average handle time per queue, for estimated waits (seconds)
    handle_time: dict[str, float] = field(default_factory=dict)
