"""A consumer that merges a burst of messages into one batch before handling it.

A backfill lands as dozens of ``bronze.loaded`` messages within a second; one dbt build for the
burst costs the same as one build per message, so after the first message arrives the consumer
keeps receiving for up to ``debounce_s`` (or until ``max_messages``) and then handles and
settles them together through the shared runtime's ``process``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from shared.errors import TransientError
from shared.ports.bus import ReceivedMessage
from shared.runtime import Consumer

log = logging.getLogger(__name__)


class DebouncingConsumer(Consumer):
    """``Consumer`` in batch mode with a debounce window after the first message."""

    def __init__(self, *args: Any, debounce_s: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.debounce_s = debounce_s

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; each burst is handled and settled as one batch."""
        while not stop.is_set():
            try:
                first = await self._receive(self.max_messages, self.max_wait_s)
            except TransientError as exc:
                log.warning("receive failed, retrying", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
                continue
            if not first:
                continue
            burst = await self.gather_burst(first)
            await self.process(burst)

    async def gather_burst(self, first: list[ReceivedMessage]) -> list[ReceivedMessage]:
        """Keep receiving until the debounce window closes or the batch is full."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.debounce_s
        burst = list(first)
        while len(burst) < self.max_messages:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                more = await self._receive(self.max_messages - len(burst), remaining)
            except TransientError as exc:
                log.warning("receive failed during debounce", extra={"error": str(exc)})
                break
            burst.extend(more)
        return burst

    async def _receive(self, max_messages: int, max_wait_s: float) -> list[ReceivedMessage]:
        return await self.bus.receive(
            self.topic.value, self.subscription, max_messages=max_messages, max_wait_s=max_wait_s
        )
