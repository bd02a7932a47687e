"""docs/messaging.md's topic table is the contracts' topology, rendered."""

from __future__ import annotations

from pathlib import Path

from shared.contracts import SUBSCRIPTIONS, Topic, message_type_for_topic

DOC = Path(__file__).resolve().parents[3] / "docs" / "messaging.md"


def render_topic_table() -> str:
    """The markdown table between the ``topics:start``/``topics:end`` markers."""
    lines = ["| topic | payload | subscriptions |", "|---|---|---|"]
    for topic in Topic:
        subs = ", ".join(f"`{s.name}`" for s in SUBSCRIPTIONS if s.topic == topic)
        payload = message_type_for_topic(topic).__name__
        lines.append(f"| `{topic.value}` | `{payload}` | {subs} |")
    return "\n".join(lines)


def test_messaging_doc_topic_table_matches_contracts() -> None:
    text = DOC.read_text()
    start = text.index("<!-- topics:start -->") + len("<!-- topics:start -->")
    end = text.index("<!-- topics:end -->")
    expected = render_topic_table()
    assert text[start:end].strip() == expected, f"replace the table with:\n{expected}"
