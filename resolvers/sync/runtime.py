"""Sync in a running gateway: the inbox, the processor in the background, and the sink
receivers put changes into (storing a change wakes the processor).

    runtime = SyncRuntime(inbox, processor)
    await runtime.start()                 # app startup
    await runtime.put(change)             # a receiver (`ChangeSink`): stored, then processed
    await runtime.retry(42)               # a failed change back to be applied now
    await runtime.close()                 # app shutdown
"""

from __future__ import annotations

from dataclasses import dataclass

from .change import Change
from .inbox import Inbox
from .processor import Processor


@dataclass
class SyncRuntime:
    inbox: Inbox
    processor: Processor

    async def put(self, change: Change) -> bool:
        stored = await self.inbox.put(change)
        if stored:
            self.processor.wake()
        return stored

    async def retry(self, item_id: int | None = None) -> int:
        """Put a failed change (or every one) back to be applied now; how many."""
        count = await self.inbox.retry(item_id)
        if count:
            self.processor.wake()
        return count

    async def start(self) -> None:
        self.processor.start()

    async def close(self) -> None:
        await self.processor.stop()
        self.inbox.close()
