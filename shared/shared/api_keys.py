"""API-key grants shared by every HTTP service (receiver REST API, dashboard).

A key maps to ``"admin"`` or to the WHOOP user ids its holder may read. Each service wraps the
match in its own principal type and error; the constant-time lookup lives here once so the
two services cannot drift on how a key is compared or how its subject is named.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

#: What one configured key grants: everything, or a list of WHOOP user ids.
ApiKeyGrant = Literal["admin"] | list[int]


@dataclass(frozen=True)
class ApiKeyMatch:
    """The grant behind a presented key; ``subject`` names the key without revealing it."""

    subject: str
    admin: bool
    user_ids: frozenset[int]


def match_api_key(keys: Mapping[str, ApiKeyGrant], presented: str) -> ApiKeyMatch | None:
    """Find the grant of ``presented`` among ``keys``, or ``None`` when no key matches.

    Every key is compared (no early exit) with :func:`hmac.compare_digest`, so the response
    time says nothing about which key, or how much of one, matched.
    """
    match: ApiKeyMatch | None = None
    for index, (key, grant) in enumerate(keys.items()):
        if hmac.compare_digest(key.encode(), presented.encode()):
            subject = f"api-key-{index}"
            if grant == "admin":
                match = ApiKeyMatch(subject, admin=True, user_ids=frozenset())
            else:
                match = ApiKeyMatch(subject, admin=False, user_ids=frozenset(grant))
    return match
