"""A tenant's queues as written in tenant.yaml, read into the ACD model. Pure.

Settings keep mod_callcenter's hyphenated names (callcenter.conf.xml's
``<param name="max-wait-time" .../>``), so a FreeSWITCH engineer can move a
queue over line by line; fsapps' own settings follow the same style.

    queues:
      support:
        strategy: longest-idle-agent
        announce-frequency: 30
        max-wait-time: 300
        tiers: [alice, {agent: bob, level: 2}]
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fsapps.acd.model import STRATEGIES, AgentStatus, Queue, QueueSettings, Tier

# The key the ACD knows a queue by: queue names are the tenant's own.
SEP = "/"

PROMPT_SETTINGS = ("moh-sound", "announce-sound")

# Hold music when a queue names none: a chime, 12 s a clip, no sound packs needed.
DEFAULT_MOH = "tone_stream://L=2;%(300,700,523);%(300,700,659);%(300,700,784);%(300,2700,659)"


def queue_key(tenant_id: str, queue: str) -> str:
    return f"{tenant_id}{SEP}{queue}"


def split_key(key: str) -> tuple[str, str]:
    tenant, _, queue = key.partition(SEP)
    return tenant, queue


def _setting_schema(f: dataclasses.Field[Any]) -> dict[str, Any]:
    if f.name == "strategy":
        return {"type": "string", "enum": list(STRATEGIES)}
    if f.name == "time_base_score":
        return {"type": "string", "enum": ["queue", "system"]}
    if f.name == "agent_no_answer_status":
        return {"type": "string", "enum": [s.value for s in AgentStatus]}
    if f.name == "skill_relax":
        return {
            "type": "array",
            "description": "required skill levels drop by `drop` once the caller has waited `after` seconds",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["after", "drop"],
                "properties": {
                    "after": {"type": "integer", "minimum": 0},
                    "drop": {"type": "integer", "minimum": 1},
                },
            },
        }
    if f.name == "service_level_target":
        return {"type": "integer", "minimum": 0, "maximum": 100,
                "description": "percent of callers to answer within service-level-seconds"}  # fmt: skip
    if f.name == "callback_key":
        return {"type": "string", "pattern": r"^[0-9*#]$"}
    if f.name in ("moh_sound", "announce_sound"):
        return {"type": "string", "description": "a prompt of this tenant"}
    if f.name == "record_template":
        return {
            "type": "string",
            "description": "the recording's path, under $${recordings_dir}/<tenant id>/;"
            " ${uuid} and ${strftime(<format>)} are expanded, nothing else",
        }
    if f.type in ("bool", bool):
        return {"type": "boolean"}
    return {"type": "integer", "minimum": 0}


def queue_schema() -> dict[str, Any]:
    props = {f.name.replace("_", "-"): _setting_schema(f) for f in dataclasses.fields(QueueSettings)}
    props["tiers"] = {
        "type": "array",
        "description": "the agents serving the queue (mod_callcenter's tiers):"
        " an agent id, or one with level and position",
        "items": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["agent"],
                    "properties": {
                        "agent": {"type": "string", "minLength": 1},
                        "level": {"type": "integer", "minimum": 1},
                        "position": {"type": "integer", "minimum": 1},
                    },
                },
            ]
        },
    }
    return {"type": "object", "additionalProperties": False, "properties": props}


def queue_settings(data: dict[str, Any]) -> QueueSettings:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(QueueSettings):
        key = f.name.replace("_", "-")
        if key not in data:
            continue
        value = data[key]
        if f.name == "skill_relax":
            value = tuple((int(r["after"]), int(r["drop"])) for r in value)
        values[f.name] = value
    return QueueSettings(**values)


def queue_tiers(key: str, data: dict[str, Any]) -> tuple[Tier, ...]:
    out = []
    for i, item in enumerate(data.get("tiers") or (), start=1):
        if isinstance(item, str):
            out.append(Tier(key, item, 1, i))
        else:
            out.append(Tier(key, item["agent"], int(item.get("level", 1)), int(item.get("position", i))))
    return tuple(out)


def tenant_queues(
    tenant_id: str, queues: dict[str, dict[str, Any]]
) -> tuple[dict[str, Queue], tuple[Tier, ...]]:
    """``queues``: name -> its YAML mapping. Returns the queues by key and all their tiers."""
    out: dict[str, Queue] = {}
    tiers: list[Tier] = []
    for name, data in queues.items():
        key = queue_key(tenant_id, name)
        out[key] = Queue(key, tenant_id, queue_settings(data or {}))
        tiers.extend(queue_tiers(key, data or {}))
    return out, tuple(tiers)
