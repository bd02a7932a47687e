"""WHOOP webhook signatures: one implementation for the signer (simulator) and the verifier.

WHOOP signs ``X-WHOOP-Signature = base64(HMAC-SHA256(key=client_secret,
msg=X-WHOOP-Signature-Timestamp + raw_body))`` with no separator and the *raw* body bytes.
Keeping signer and verifier in one module means the simulator can never drift from what the
receiver accepts; the worked examples of the API reference (§9.3) pin both in the tests.

WHOOP documents no replay window and retries for about an hour, so callers pass an explicit
``max_age_s`` (an hour or more is sensible) and dedupe deliveries on ``trace_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from shared.errors import TerminalError

SIGNATURE_HEADER = "X-WHOOP-Signature"
TIMESTAMP_HEADER = "X-WHOOP-Signature-Timestamp"

Reason = Literal[
    "missing_signature", "missing_timestamp", "bad_timestamp", "stale", "future", "mismatch"
]


class InvalidSignature(TerminalError):
    """A webhook request is not provably from WHOOP; answer 401 and do not process it.

    Attributes:
        reason: machine-readable cause (``missing_signature``, ``missing_timestamp``,
            ``bad_timestamp``, ``stale``, ``future`` or ``mismatch``), safe to log.
    """

    def __init__(self, reason: Reason, detail: str = "") -> None:
        self.reason: Reason = reason
        super().__init__(
            f"invalid WHOOP webhook signature: {reason}{': ' + detail if detail else ''}"
        )


def sign(client_secret: str, timestamp_ms: str, raw_body: bytes) -> str:
    """Return the ``X-WHOOP-Signature`` value for a body sent at ``timestamp_ms``.

    Args:
        client_secret: the app's client secret (UTF-8); WHOOP has no separate webhook secret.
        timestamp_ms: the exact ``X-WHOOP-Signature-Timestamp`` string (epoch milliseconds).
        raw_body: the request body bytes exactly as sent.

    Returns:
        Standard base64 (with padding) of the HMAC-SHA256 digest.
    """
    mac = hmac.new(client_secret.encode(), timestamp_ms.encode() + raw_body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def verify(
    client_secret: str,
    signature: str | None,
    timestamp_ms: str | None,
    raw_body: bytes,
    *,
    now_s: float,
    max_age_s: float,
    max_future_s: float,
) -> None:
    """Check a delivery's signature and freshness; return quietly when it is genuine.

    Args:
        client_secret: the app's client secret.
        signature: the ``X-WHOOP-Signature`` header (None when absent).
        timestamp_ms: the ``X-WHOOP-Signature-Timestamp`` header (None when absent).
        raw_body: the body bytes as received (never a re-serialised JSON).
        now_s: current epoch time in seconds (injected so tests and replays are exact).
        max_age_s: oldest accepted timestamp, in seconds before ``now_s``.
        max_future_s: tolerated clock skew, in seconds after ``now_s``.

    Raises:
        InvalidSignature: with ``reason`` saying which check failed.
    """
    if not signature:
        raise InvalidSignature("missing_signature")
    if not timestamp_ms:
        raise InvalidSignature("missing_timestamp")
    if not timestamp_ms.isdigit():
        raise InvalidSignature("bad_timestamp", "timestamp must be decimal epoch milliseconds")
    sent_s = int(timestamp_ms) / 1000.0
    if now_s - sent_s > max_age_s:
        raise InvalidSignature("stale", f"older than {max_age_s:.0f}s")
    if sent_s - now_s > max_future_s:
        raise InvalidSignature("future", f"more than {max_future_s:.0f}s ahead")
    expected = sign(client_secret, timestamp_ms, raw_body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        raise InvalidSignature("mismatch")
