"""A voicemail on a customer's timeline, played from their card: whoever reads the card may
hear the messages its customer's numbers left (``customer_recordings.read``, as the card's
recorded calls), and only those.

mod_voicemail writes a box's messages under ``<storage_dir>/voicemail/<profile>/<domain>/<box>/``
(mod_voicemail.c:3488-3490, the profile's storage-dir unset). The file served is the path
the store has for the message, never one from the client, and only under the tenant's
domain's folder of that directory (symbolic links followed): a row that names another
tenant's folder, or a path with ``..`` in it, is refused."""

from __future__ import annotations

from pathlib import Path

from fsapps.store import customers as crm
from fsapps.store.voicemails import customer_voicemail
from fsapps.web.service import Refused, Service


def voicemail_file(service: Service, tenant_id: str, customer_id: int, voicemail_id: str,
                   voicemail_dir: Path | None) -> Path:  # fmt: skip
    with service._tenant(tenant_id, "customer_recordings.read") as t:
        if crm.customer(t, customer_id) is None:
            raise Refused("not_found", "no_such_customer", f"no customer {customer_id}")
        stored = customer_voicemail(t, customer_id, voicemail_id)
        domain = t.info().domain
    if stored is None:
        raise Refused("not_found", "no_such_voicemail", f"no voicemail {voicemail_id} of this customer")
    if voicemail_dir is None:
        raise Refused("unavailable", "no_voicemail_dir", "this server cannot read the voicemails")
    wall = (voicemail_dir / domain).resolve()
    path = Path(stored).resolve()
    if not domain or "/" in domain or domain.startswith(".") or not path.is_relative_to(wall):
        why = f"voicemail {voicemail_id} is not under the tenant's voicemail folder"
        raise Refused("forbidden", "outside_voicemails", why)
    if not path.is_file():
        raise Refused("not_found", "voicemail_missing", f"voicemail {voicemail_id} has no file")
    return path
