"""Abstract ports; each has a local and an Azure/Snowflake adapter in ``shared.adapters``."""

from shared.ports.blob import BlobInfo, BlobNotFound, BlobStore
from shared.ports.bus import (
    DeadLetter,
    LockLost,
    MessageBus,
    OutgoingMessage,
    ReceivedMessage,
)
from shared.ports.secrets import SecretNotFound, SecretStore
from shared.ports.tokens import StoredTokens, TokenStore, UserRecord
from shared.ports.warehouse import BronzeFile, InputLimits, LoadResult, Warehouse

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "BronzeFile",
    "DeadLetter",
    "InputLimits",
    "LoadResult",
    "LockLost",
    "MessageBus",
    "OutgoingMessage",
    "ReceivedMessage",
    "SecretNotFound",
    "SecretStore",
    "StoredTokens",
    "TokenStore",
    "UserRecord",
    "Warehouse",
]
