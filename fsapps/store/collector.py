"""CDRs from the switch's CHANNEL_HANGUP_COMPLETE events, written durably.

``write`` is a DurableWriter's ``write`` or anything that hands it records (the controller
batches them: a transaction per CDR, two per call, held the event loop at 30 calls/s)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fsapps.esl import codec
from fsapps.esl.client import InboundClient
from fsapps.store.cdr import cdr_from_event, outbound_usage

log = logging.getLogger("fsapps.store")


class CdrCollector:
    def __init__(self, client: InboundClient, write: Any) -> None:
        # A DurableWriter (its write) or a callable taking records.
        self.write: Callable[..., Any] = write.write if hasattr(write, "write") else write
        self.collected = 0
        if "CHANNEL_HANGUP_COMPLETE" not in client.events:
            client.events.append("CHANNEL_HANGUP_COMPLETE")
        client.on("CHANNEL_HANGUP_COMPLETE", self.on_hangup_complete)

    def on_hangup_complete(self, event: codec.Event) -> None:
        cdr = cdr_from_event(event.fields)
        if cdr is None:
            return  # a channel no tenant claims
        usage = outbound_usage(cdr, event.fields)
        self.write(*[r for r in (cdr, usage) if r is not None])
        self.collected += 1
