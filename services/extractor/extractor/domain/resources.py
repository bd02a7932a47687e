"""The WHOOP endpoints the extractor reads, one small spec per resource.

Each spec says where the collection lives, how to fetch one record, which field is the record's
key, which key a tombstone uses, and which timestamp places the record in time (for watermarks
and reconciliation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts import Resource
from shared.contracts.messages import record_id_for
from shared.whoop_client import path_segment


@dataclass(frozen=True)
class ResourceSpec:
    """How one collection resource is read and keyed."""

    resource: Resource
    collection_path: str
    key_field: str
    tombstone_key_field: str
    time_field: str | None

    def by_id_path(self, record_id: str) -> str:
        """Path of one record (not used for recovery: it is read per cycle).

        The id is checked for this resource (``record_id_for``) and percent-encoded as one
        path segment, so no id can walk out of the collection.

        Raises:
            InvalidRecordId: not a WHOOP id of this resource.
        """
        checked = record_id_for(self.resource, record_id)
        return f"{self.collection_path}/{path_segment(checked)}"

    def key(self, record: Mapping[str, Any]) -> str:
        """The record's primary key as text."""
        return str(record[self.key_field])

    def tombstone_key(self, record: Mapping[str, Any]) -> str:
        """The key a tombstone for this record carries (recovery: its sleep UUID)."""
        return str(record[self.tombstone_key_field])


SPECS: dict[Resource, ResourceSpec] = {
    Resource.CYCLE: ResourceSpec(Resource.CYCLE, "/v2/cycle", "id", "id", "start"),
    Resource.SLEEP: ResourceSpec(Resource.SLEEP, "/v2/activity/sleep", "id", "id", "start"),
    Resource.WORKOUT: ResourceSpec(Resource.WORKOUT, "/v2/activity/workout", "id", "id", "start"),
    # Recovery has no start; WHOOP filters it by its sleep's start. We place it by created_at
    # (≈ wake time) and keep reconciliation away from window edges for it.
    Resource.RECOVERY: ResourceSpec(
        Resource.RECOVERY, "/v2/recovery", "cycle_id", "sleep_id", "created_at"
    ),
}

PROFILE_PATH = "/v2/user/profile/basic"
BODY_MEASUREMENT_PATH = "/v2/user/measurement/body"


def parse_ts(value: object) -> datetime | None:
    """WHOOP ISO-8601 (``...Z``) → aware datetime; ``None`` for absent/null/unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def record_time(spec: ResourceSpec, record: Mapping[str, Any]) -> datetime | None:
    """When the record happened, for watermarks and the reconciliation index."""
    return None if spec.time_field is None else parse_ts(record.get(spec.time_field))
