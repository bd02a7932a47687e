"""Service runtime: the bus consumer loop, settlement rules, health and graceful shutdown."""

from shared.runtime.consumer import BatchHandler, Consumer, Delivery, MessageHandler
from shared.runtime.process import configure_process, run_service
from shared.runtime.service import ServiceRunner

__all__ = [
    "BatchHandler",
    "Consumer",
    "Delivery",
    "MessageHandler",
    "ServiceRunner",
    "configure_process",
    "run_service",
]
