"""A voicemail on a customer's timeline, played from their card: whoever reads the card may
hear the messages its customer's numbers left (``customer_recordings.read``, as the card's
recorded calls), and only those.

mod_voicemail writes a box's messages under ``<storage_dir>/voicemail/<profile>/<domain>/<box>/``
(mod_voicemail.c:3488-3490, the profile's storage-dir unset); ``api.voicemail_dir`` is that
``<storage_dir>/voicemail``. The file served is the path the store has for the message,
never one from the client, and only under a profile's folder of the tenant's domain
(symbolic links followed): a row that names another tenant's folder, or a path with ``..``
in it, is refused. ``stored_file`` is the one check, for the card and the tickets alike."""

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
    return stored_file(voicemail_dir, domain, stored, voicemail_id)


def stored_file(voicemail_dir: Path | None, domain: str, stored: str, voicemail_id: str) -> Path:
    """The file of a message the store has at ``stored``, if it is under a profile's folder
    of the tenant's ``domain`` in ``voicemail_dir`` (``<storage_dir>/voicemail``: any
    profile, ``<profile>/<domain>/<box>/msg_<uuid>.wav``) and is a file there."""
    if voicemail_dir is None:
        raise Refused("unavailable", "no_voicemail_dir", "this server cannot read the voicemails")
    root = voicemail_dir.resolve()
    path = Path(stored).resolve()
    inside = (
        bool(domain) and "/" not in domain and not domain.startswith(".")
        and path.is_relative_to(root) and path.relative_to(root).parts[1:2] == (domain,)
    )  # fmt: skip
    if not inside:
        why = f"voicemail {voicemail_id} is not under the tenant's folder"
        raise Refused("forbidden", "outside_voicemails", why)
    if not path.is_file():
        raise Refused("not_found", "voicemail_missing", f"voicemail {voicemail_id} has no file")
    return path
