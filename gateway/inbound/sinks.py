"""A change sink for a gateway without the sync processor: the change bus itself.

Received and polled changes are hints; with `[sync]` on they go to its durable inbox, are
processed by the rules and then published. Without it, `BusSink` publishes each hint at once
so subscriptions still hear of direct changes (there is no inbox: nothing is retried, and a
change seen twice is published twice).
"""

from __future__ import annotations

from resolvers.sync import ChangeBus
from resolvers.sync.change import Change


class BusSink:
    """`ChangeSink` over a `ChangeBus`: `put` publishes and answers True."""

    def __init__(self, bus: ChangeBus) -> None:
        self.bus = bus

    async def put(self, change: Change) -> bool:
        self.bus.publish(change)
        return True
