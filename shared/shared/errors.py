"""One error root with a transient/terminal split, so consumers know whether to retry.

Consumers abandon a message on :class:`TransientError` (it is redelivered and eventually
dead-lettered after max deliveries) and dead-letter it at once on :class:`TerminalError`.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Root of every error the platform raises on purpose."""


class TransientError(PlatformError):
    """Retry later: throttled, timed out, a 5xx, a lock held by another process."""


class TerminalError(PlatformError):
    """Do not retry: the input is wrong and will stay wrong; dead-letter it with the reason."""


class ContractError(TerminalError):
    """A message does not match its contract (unknown topic, bad payload, unsupported version)."""

    def __init__(self, topic: str, reason: str) -> None:
        self.topic = topic
        self.reason = reason
        super().__init__(f"message on topic {topic!r} breaks its contract: {reason}")


class ConfigurationError(PlatformError):
    """Settings are missing or inconsistent; the service refuses to start rather than guess."""
