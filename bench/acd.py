"""ACD routing: the pure core's speed, and its routing quality in virtual time.

(a) decide() over 1,000 agents, 50 queues, 5,000 waiting members: decisions/s
    and per-pass latency, against the bound of merely ranking the members and
    walking each queue's tiers once (what any dispatcher must do).
(b) A discrete-event simulation (Poisson arrivals, exponential handle times,
    agents answer at once) routed by decide(): single-skill service level and
    average speed of answer against the Erlang C formula for the same load;
    then two skills, cross-skilled agents under skills-based routing against
    one dedicated pool per skill.
(c) end to end through emulator + controller: bench/acd_live.py.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import time
from dataclasses import replace

from fsapps.acd.decide import Offer, decide, listed_by_queue, offer_freed, score
from fsapps.acd.model import Agent, AgentState, AgentStatus, Member, Queue, QueueSettings, Snapshot, Tier


def big_snapshot(rng: random.Random, now: float, agents: int = 1000, queues: int = 50, members: int = 5000):
    qs = {f"q{i}": Queue(f"q{i}", f"t{i % 10}", QueueSettings(strategy=rng.choice(
        ["longest-idle-agent", "skills-based", "round-robin", "agent-with-fewest-calls", "ring-all"])))
        for i in range(queues)}  # fmt: skip
    ags = {}
    for i in range(agents):
        free = rng.random() < 0.3  # most agents are busy at peak: the realistic, harder case
        ags[f"a{i}"] = Agent(
            f"a{i}",
            status=AgentStatus.AVAILABLE if rng.random() < 0.9 else AgentStatus.ON_BREAK,
            state=AgentState.WAITING if free else AgentState.IN_A_QUEUE_CALL,
            last_bridge_end=now - rng.uniform(0, 600),
            skills={s: rng.randint(1, 10) for s in rng.sample("abcdef", 2)},
        )
    tiers = tuple(
        Tier(q, a, rng.randint(1, 2), rng.randint(1, 20)) for a in ags for q in rng.sample(sorted(qs), 2)
    )
    mems = tuple(
        Member(
            f"m{i}",
            f"q{rng.randrange(queues)}",
            now - rng.uniform(0, 900),
            priority=rng.choice([0, 0, 0, 1, 3]),
            skills={rng.choice("abcdef"): rng.randint(1, 5)} if rng.random() < 0.3 else {},
        )
        for i in range(members)
    )
    return Snapshot(qs, ags, tiers, mems)


def bound_pass(snap: Snapshot, now: float) -> int:
    ranked = sorted(snap.members, key=lambda m: -score(m, snap.queues[m.queue], now))
    listed = listed_by_queue(snap)
    return sum(len(listed.get(m.queue, ())) for m in ranked)


def bench_core(rounds: int) -> None:
    rng = random.Random(7)
    now = 2_000_000_000.0
    snap = big_snapshot(rng, now)
    times, bounds, decisions = [], [], 0
    for r in range(rounds):
        t0 = time.perf_counter()
        out = decide(snap, now + r, seed=r)
        times.append(time.perf_counter() - t0)
        decisions += len(out)
        t0 = time.perf_counter()
        bound_pass(snap, now + r)
        bounds.append(time.perf_counter() - t0)
    offers = sum(isinstance(d, Offer) for d in decide(snap, now))
    times.sort()
    p50, p99 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]
    print("(a) decide() with 1,000 agents, 50 queues, 5,000 waiting members, 2,000 tiers")
    print(f"    {rounds} passes: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms per pass;"
          f" {decisions / sum(times):,.0f} decisions/s ({offers} offers per pass)")  # fmt: skip
    print(f"    bound (rank members + walk tiers once): p50 {statistics.median(bounds) * 1e3:.1f} ms;"
          f" ratio decide/bound {p50 / statistics.median(bounds):.2f}x")  # fmt: skip
    # Incremental routing: an agent freed, offered from the queues they serve only.
    freed = [a.id for a in snap.agents.values()]
    rng.shuffle(freed)
    incremental = []
    for r, agent in enumerate(freed[: max(rounds, 30)]):
        one = replace(snap.agents[agent], state=AgentState.WAITING, status=AgentStatus.AVAILABLE)
        s = replace(snap, agents={**snap.agents, agent: one})
        t0 = time.perf_counter()
        offer_freed(s, agent, now + r, seed=r)
        incremental.append(time.perf_counter() - t0)
    incremental.sort()
    i50 = incremental[len(incremental) // 2]
    i99 = incremental[min(len(incremental) - 1, int(len(incremental) * 0.99))]
    print(f"    an agent freed, incremental (offer_freed, the queues they serve): p50 {i50 * 1e3:.2f} ms,"
          f" p99 {i99 * 1e3:.2f} ms; full pass / incremental at p50 {p50 / i50:.1f}x")  # fmt: skip


def erlang_c(traffic: float, agents: int, aht: float, threshold: float) -> tuple[float, float]:
    """Service level within ``threshold`` and average speed of answer (Erlang C)."""
    term, total = 1.0, 1.0
    for k in range(1, agents):
        term *= traffic / k
        total += term
    term *= traffic / agents
    wait_prob = term * agents / (agents - traffic) / (total + term * agents / (agents - traffic))
    sl = 1 - wait_prob * math.exp(-(agents - traffic) * threshold / aht)
    asa = wait_prob * aht / (agents - traffic)
    return sl, asa


Kind = tuple[str, dict[str, int], float]  # queue, required skills, share of the traffic


def simulate(
    calls: int, rate: float, aht: float, agents: list[Agent], queues: dict[str, Queue],
    tiers: tuple[Tier, ...], kinds: list[Kind], seed: int,
) -> list[float]:  # fmt: skip
    """Virtual-time run: returns each answered call's wait. ``kinds``: (queue, skills, share)."""
    rng = random.Random(seed)
    state = {a.id: a for a in agents}
    waiting: dict[str, Member] = {}
    events: list[tuple[float, int, str, str]] = []
    t, seq = 0.0, 0
    for i in range(calls):
        t += rng.expovariate(rate)
        pick, chosen = rng.random(), kinds[-1]
        for kind in kinds:
            pick -= kind[2]
            if pick <= 0:
                chosen = kind
                break
        skill_text = ",".join(f"{k}={v}" for k, v in chosen[1].items())
        heapq.heappush(events, (t, seq, "arrive", f"{chosen[0]}|{i}|{skill_text}"))
        seq += 1
    waits = []
    while events:
        now, _, happening, what = heapq.heappop(events)
        if happening == "arrive":
            queue, ident, skill_text = what.split("|")
            skills = dict((k, int(v)) for k, v in (p.split("=") for p in skill_text.split(",") if p))
            waiting[ident] = Member(ident, queue, now, skills=skills)
        else:
            state[what] = replace(state[what], state=AgentState.WAITING, last_bridge_end=now - 1e-9)
        snap = Snapshot(queues, state, tiers, tuple(waiting.values()))
        for d in decide(snap, now):
            if isinstance(d, Offer):
                member = waiting.pop(d.member)
                waits.append(now - member.joined_epoch)
                agent = d.agents[0]
                state[agent] = replace(state[agent], state=AgentState.IN_A_QUEUE_CALL, last_bridge_start=now)
                heapq.heappush(events, (now + rng.expovariate(1 / aht), seq, "free", agent))
                seq += 1
    return waits


def bench_quality(calls: int) -> None:
    aht, rate, n = 300.0, 240 / 3600, 25  # 20 Erlangs (FACTS.md: N=25 -> SL20 85.0%, ASA 12.5 s)
    q = {"q": Queue("q", "t", QueueSettings(strategy="longest-idle-agent"))}
    agents = [Agent(f"a{i}", status=AgentStatus.AVAILABLE) for i in range(n)]
    tiers = tuple(Tier("q", a.id) for a in agents)
    waits = simulate(calls, rate, aht, agents, q, tiers, [("q", {}, 1.0)], seed=1)
    warm = waits[len(waits) // 10 :]
    sl = sum(w <= 20 for w in warm) / len(warm)
    asa = statistics.fmean(warm)
    sl_c, asa_c = erlang_c(rate * aht, n, aht, 20)
    # Batch means: the simulation's own error on the service level.
    batches = [warm[i : i + len(warm) // 10] for i in range(0, len(warm), len(warm) // 10)][:10]
    err = 2 * statistics.stdev([sum(w <= 20 for w in b) / len(b) for b in batches]) / math.sqrt(len(batches))
    print(f"(b) one skill, 20 Erlangs, 25 agents, {len(warm):,} calls after warm-up:")
    print(f"    simulated SL20 {sl:.1%} (±{err:.1%}), ASA {asa:.1f} s;"
          f" Erlang C SL20 {sl_c:.1%}, ASA {asa_c:.1f} s; SL ratio {sl / sl_c:.3f}")  # fmt: skip

    # Two skills, half the traffic each, 2 x 13 agents: dedicated pools vs everyone cross-skilled.
    per = 13
    kinds = [("q", {"x": 1}, 0.5), ("q", {"y": 1}, 0.5)]
    dedicated = [Agent(f"x{i}", status=AgentStatus.AVAILABLE, skills={"x": 5}) for i in range(per)] + [
        Agent(f"y{i}", status=AgentStatus.AVAILABLE, skills={"y": 5}) for i in range(per)
    ]
    pooled = [Agent(f"p{i}", status=AgentStatus.AVAILABLE, skills={"x": 5, "y": 5}) for i in range(2 * per)]
    sb = {"q": Queue("q", "t", QueueSettings(strategy="skills-based"))}
    results = {}
    for name, ags in (("dedicated pools", dedicated), ("skills-based, cross-skilled", pooled)):
        tiers = tuple(Tier("q", a.id) for a in ags)
        w = simulate(calls, rate, aht, ags, sb, tiers, kinds, seed=2)[calls // 10 :]
        results[name] = (sum(x <= 20 for x in w) / len(w), statistics.fmean(w))
        print(f"    two skills, {name}: SL20 {results[name][0]:.1%}, ASA {results[name][1]:.1f} s")
    a, b = results["skills-based, cross-skilled"], results["dedicated pools"]
    print(f"    skills-based / dedicated: SL ratio {a[0] / b[0]:.2f}, ASA ratio {a[1] / max(b[1], 1e-9):.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--calls", type=int, default=20000)
    args = p.parse_args()
    bench_core(args.rounds)
    bench_quality(args.calls)


if __name__ == "__main__":
    main()
