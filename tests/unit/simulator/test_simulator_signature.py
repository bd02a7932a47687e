"""The project's WHOOP webhook signer/verifier against the reference's worked examples (§9.3)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from shared.errors import TerminalError
from shared.whoop_signature import InvalidSignature, sign, verify

SECRET = "whoop-demo-client-secret-0001"
TS1 = "1735689600000"
BODY1 = (
    b'{"user_id":10129,"id":"550e8400-e29b-41d4-a716-446655440000","type":"sleep.updated",'
    b'"trace_id":"e369c784-5100-49e8-8098-75d35c47b31b"}'
)
SIG1 = "0dDnfmvZIjdyTtP3jWc843xwaVL8MZcYWxKGprNQW1w="
TS2 = "1735693200000"
BODY2 = (
    b'{"user_id":10129,"id":"ecfc6a15-4661-442f-a9a4-f160dd7afae8","type":"recovery.updated",'
    b'"trace_id":"d3709ee7-104e-4f70-a928-2932964b017b"}'
)
SIG2 = "cVV8aAzJZyJmKan0Ka6L3r7th87lRKFLFvxZfSQ4EE0="
WINDOW = {"max_age_s": 3 * 3600, "max_future_s": 300}


def test_body_is_134_bytes() -> None:
    assert len(BODY1) == 134


@pytest.mark.parametrize(("ts", "body", "sig"), [(TS1, BODY1, SIG1), (TS2, BODY2, SIG2)])
def test_worked_examples_sign_and_verify(ts: str, body: bytes, sig: str) -> None:
    assert sign(SECRET, ts, body) == sig
    verify(SECRET, sig, ts, body, now_s=int(ts) / 1000 + 60, **WINDOW)


@pytest.mark.parametrize(
    "wrong",
    [
        "lhdrcPRnvXaRkLmYVjEVZuyk5sLpBn28B/Izf5rFXZ8=",  # timestamp + "." + body
        "d1d0e77e6bd92237724ed3f78d673ce37c706952fc3197185b1286a6b3505b5c",  # hex digest
        "VAsTM3HR2niRmQzsWa+tNK+dMtyclMTugT6cqPARXJk=",  # body with trailing newline
    ],
)
def test_wrong_variants_are_rejected(wrong: str) -> None:
    with pytest.raises(InvalidSignature) as err:
        verify(SECRET, wrong, TS1, BODY1, now_s=1735689600.0, **WINDOW)
    assert err.value.reason == "mismatch"
    assert isinstance(err.value, TerminalError)


def test_wrong_variants_are_what_the_reference_says() -> None:
    key = SECRET.encode()
    dotted = hmac.new(key, TS1.encode() + b"." + BODY1, hashlib.sha256).digest()
    assert base64.b64encode(dotted).decode() == "lhdrcPRnvXaRkLmYVjEVZuyk5sLpBn28B/Izf5rFXZ8="
    newline = hmac.new(key, TS1.encode() + BODY1 + b"\n", hashlib.sha256).digest()
    assert base64.b64encode(newline).decode() == "VAsTM3HR2niRmQzsWa+tNK+dMtyclMTugT6cqPARXJk="
    assert sign(SECRET, TS1, BODY1 + b"\n") != SIG1


@pytest.mark.parametrize(
    ("sig", "ts", "now", "reason"),
    [
        (None, TS1, 1735689600.0, "missing_signature"),
        (SIG1, None, 1735689600.0, "missing_timestamp"),
        (SIG1, "17356896e5", 1735689600.0, "bad_timestamp"),
        (SIG1, TS1, 1735689600.0 + 3 * 3600 + 1, "stale"),
        (SIG1, TS1, 1735689600.0 - 301, "future"),
    ],
)
def test_verify_reasons(sig: str | None, ts: str | None, now: float, reason: str) -> None:
    with pytest.raises(InvalidSignature) as err:
        verify(SECRET, sig, ts, BODY1, now_s=now, **WINDOW)
    assert err.value.reason == reason


def test_wrong_secret_is_a_mismatch() -> None:
    with pytest.raises(InvalidSignature):
        verify("other-secret", SIG1, TS1, BODY1, now_s=1735689600.0, **WINDOW)
