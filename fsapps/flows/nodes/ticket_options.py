"""The ticket options a voicemail or callback node carries: whether what the caller left
opens a ticket, and with which queue, skill and priority (fsapps.store.ticket_requests
opens it; the skill assigns it to an agent as a ticket opened through the API would be)."""

from typing import Any

from fsapps import tickets as rules

NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$", "maxLength": 64}


def ticket_properties(default: bool) -> dict[str, Any]:
    return {
        "ticket": {"type": "boolean", "description": f"open a ticket (default: {str(default).lower()})"},
        "ticket_queue": {**NAME, "description": "the queue the ticket is assigned to"},
        "ticket_skill": {**NAME, "description": "its agent: the skill's holder with the fewest open tickets"},
        "ticket_priority": {"type": "string", "enum": list(rules.PRIORITIES)},
    }
