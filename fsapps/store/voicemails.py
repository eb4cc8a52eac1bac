"""The tenant's voicemails as the customer's card reads them (the rows themselves are written
by the durable writer from mod_voicemail's leave-message events)."""

from __future__ import annotations

from fsapps.store.db import TenantScope


def customer_voicemail(t: TenantScope, customer_id: int, voicemail_id: str) -> str | None:
    """The stored path of a message one of the customer's numbers left (None: no such
    voicemail of theirs)."""
    row = t._one(
        "SELECT v.path FROM voicemails v WHERE v.event_id = %s::uuid"
        " AND v.caller_number IN (SELECT number FROM customer_numbers WHERE customer_id = %s)",
        (voicemail_id, customer_id),
    )
    return None if row is None else str(row["path"])
