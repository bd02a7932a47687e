"""Extractor-specific errors; each says what the consumer does next."""

from __future__ import annotations

from shared.errors import TransientError


class RecoveryNotReady(TransientError):
    """WHOOP has no recovery for the cycle yet (404 right after a sleep); retried later."""

    def __init__(self, cycle_id: str) -> None:
        self.cycle_id = cycle_id
        super().__init__(f"recovery for cycle {cycle_id} is not available yet")
