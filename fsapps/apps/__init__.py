"""fsapps' dialplan applications; importing this package registers them all."""

from fsapps.apps import (  # noqa: F401  (registration)
    announce,
    blacklist,
    callback,
    flow,
    lookup,
    outage_notice,
    queue,
    readback,
    survey,
    ticket_status,
    welcome,
)
from fsapps.apps.registry import APPLICATIONS, NODE_APPLICATIONS, application, node_application

__all__ = ["APPLICATIONS", "NODE_APPLICATIONS", "application", "node_application"]
