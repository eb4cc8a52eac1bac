"""The tenant's CRM webhook: the URL its call offered / answered / ended events are POSTed
to and the secret that signs them (fsapps.webhooks), set by the tenant admin. The secret
is written, never shown again; the answer says how the last delivery went."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.store import webhooks as store
from fsapps.web.app import PREFIX, context, service
from fsapps.web.desk_schemas import WEBHOOK_EVENTS, WebhookIn, WebhookOut
from fsapps.web.service import Refused
from fsapps.webhooks import target

bp = APIBlueprint("webhooks", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="CRM webhook")


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "events": list(WEBHOOK_EVENTS)}


@bp.get("/crm-webhook")
@bp.output(WebhookOut)
@bp.doc(summary="The tenant's CRM webhook (without its secret), and its last delivery",
        responses=[200, 401, 403, 404])  # fmt: skip
def get_webhook(tenant: str) -> Any:
    with service()._tenant(tenant, "webhook.manage") as t:
        row = store.webhook(t)
    if row is None:
        raise Refused("not_found", "no_webhook", "this tenant has no CRM webhook")
    return _shown(row)


@bp.put("/crm-webhook")
@bp.input(WebhookIn, arg_name="body")
@bp.output(WebhookOut)
@bp.doc(summary="Set the CRM webhook: its URL (http or https, public addresses only unless the operator"
                " allows private ones) and signing secret", responses=[200, 401, 403, 404, 422])  # fmt: skip
def put_webhook(tenant: str, body: dict[str, Any]) -> Any:
    with service()._tenant(tenant, "webhook.manage") as t:
        try:
            target.check_url(body["url"], context().webhook_private)
        except target.Refused as exc:
            raise Refused("invalid", "invalid_url", f"url: {exc}") from None
        store.put(t, body["url"], body["secret"], body["enabled"])
        row = store.webhook(t)
    assert row is not None
    return _shown(row)


@bp.delete("/crm-webhook")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove the CRM webhook", responses=[204, 401, 403, 404])
def delete_webhook(tenant: str) -> Any:
    with service()._tenant(tenant, "webhook.manage") as t:
        if not store.delete(t):
            raise Refused("not_found", "no_webhook", "this tenant has no CRM webhook")
    return "", 204
