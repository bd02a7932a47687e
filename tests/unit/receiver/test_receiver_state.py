"""Receiver state: OAuth states are single-use, expiring, session-bound; dedupe purges."""

from __future__ import annotations

from pathlib import Path

from receiver.adapters.state import SqliteReceiverState


def test_oauth_state_rules(tmp_path: Path) -> None:
    st = SqliteReceiverState(tmp_path / "rx.db")
    st.put_state("state-1234", "session-a", expires_s=100.0)
    assert not st.take_state("state-1234", "session-b", now_s=50.0)  # wrong browser burns it
    assert not st.take_state("state-1234", "session-a", now_s=50.0)
    st.put_state("state-5678", "session-a", expires_s=100.0)
    assert not st.take_state("state-5678", "session-a", now_s=101.0)  # expired
    st.put_state("state-9999", "session-a", expires_s=100.0)
    assert st.take_state("state-9999", "session-a", now_s=99.0)
    assert not st.take_state("state-9999", "session-a", now_s=99.0)  # single use


def test_webhook_dedupe_and_purge(tmp_path: Path) -> None:
    st = SqliteReceiverState(tmp_path / "rx.db")
    assert st.claim_webhook("t1", 1000.0)
    assert not st.claim_webhook("t1", 1001.0)
    assert SqliteReceiverState(tmp_path / "rx.db").claim_webhook("t1", 1002.0) is False
    st.release_webhook("t1")
    assert st.claim_webhook("t1", 1003.0)
    assert st.purge_webhooks(older_than_s=1002.0) == 0
    assert st.purge_webhooks(older_than_s=2000.0) == 1
    assert st.claim_webhook("t1", 3000.0)
