"""CDRs from the switch's CHANNEL_HANGUP_COMPLETE events, written durably."""

from __future__ import annotations

import logging

from fsapps.esl import codec
from fsapps.esl.client import InboundClient
from fsapps.store.cdr import cdr_from_event
from fsapps.store.durable import DurableWriter

log = logging.getLogger("fsapps.store")


class CdrCollector:
    def __init__(self, client: InboundClient, writer: DurableWriter) -> None:
        self.writer = writer
        self.collected = 0
        if "CHANNEL_HANGUP_COMPLETE" not in client.events:
            client.events.append("CHANNEL_HANGUP_COMPLETE")
        client.on("CHANNEL_HANGUP_COMPLETE", self.on_hangup_complete)

    def on_hangup_complete(self, event: codec.Event) -> None:
        cdr = cdr_from_event(event.fields)
        if cdr is None:
            return  # a channel no tenant claims
        self.writer.write(cdr)
        self.collected += 1
