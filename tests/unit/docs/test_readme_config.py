"""README's configuration section must be exactly what ``wdp config`` generates.

The table is rendered from the settings classes, so a new or changed setting without a
regenerated README (``wdp config``), or a setting without a description, fails CI here.
"""

from __future__ import annotations

from pathlib import Path

from wdp_cli.config_docs import BEGIN, END, settings_markdown

README = Path(__file__).resolve().parents[3] / "README.md"


def _rows(markdown: str) -> list[list[str]]:
    """Cells of every data row (header and separator rows excluded)."""
    rows: list[list[str]] = []
    for line in markdown.splitlines():
        if not line.startswith("| `"):
            continue
        # Escaped pipes inside a description are not cell separators.
        cells = line.replace("\\|", "\0").strip().strip("|").split(" | ")
        rows.append([cell.strip().replace("\0", "\\|") for cell in cells])
    return rows


def test_readme_contains_generated_config_table_verbatim() -> None:
    readme = README.read_text(encoding="utf-8")
    table = settings_markdown()
    assert readme.count(BEGIN) == 1 and readme.count(END) == 1
    assert table in readme, "README.md config table is stale: regenerate it from `wdp config`"


def test_every_setting_has_a_meaning() -> None:
    rows = _rows(settings_markdown())
    assert len(rows) > 50
    empty = [row[0] for row in rows if not row[-1]]
    assert not empty, f"settings without a description: {empty}"


def test_table_does_not_embed_the_checkout_path() -> None:
    # A machine-specific default would make the README differ between checkouts.
    assert str(README.parent) not in settings_markdown()
