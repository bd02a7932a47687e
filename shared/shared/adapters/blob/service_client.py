"""One way to reach the storage account for the small state stores kept in blobs.

The rate limiter, the token store and the job store each keep their state in a container of
the data-lake account. They connect the same way as the blob store (connection string for
Azurite and CI, account URL plus managed identity in Azure), so that choice is made here once.
"""

from __future__ import annotations

from azure.storage.blob.aio import BlobServiceClient

from shared.errors import ConfigurationError
from shared.settings import PlatformSettings


def blob_service_client(settings: PlatformSettings, *, purpose: str) -> BlobServiceClient:
    """Build an async ``BlobServiceClient`` from the platform settings.

    Args:
        settings: a connection string wins over the account URL.
        purpose: names the caller in the configuration error (e.g. ``"job store"``).

    Raises:
        ConfigurationError: neither a connection string nor an account URL is set.
    """
    if settings.blob_connection_string is not None:
        return BlobServiceClient.from_connection_string(
            settings.blob_connection_string.get_secret_value()
        )
    if settings.blob_account_url:
        from azure.identity.aio import DefaultAzureCredential

        return BlobServiceClient(settings.blob_account_url, DefaultAzureCredential())
    raise ConfigurationError(f"{purpose} needs WDP_BLOB_ACCOUNT_URL or a connection string")
