"""Errors of the ml package; each says what the caller should do next."""

from __future__ import annotations

from shared.errors import TerminalError


class NotEnoughData(TerminalError):
    """Too few labelled days to train; collect more history (or lower the threshold in tests)."""

    def __init__(self, rows: int, needed: int) -> None:
        self.rows = rows
        self.needed = needed
        super().__init__(f"{rows} labelled rows, at least {needed} needed to train")


class ArtefactError(TerminalError):
    """A stored model artefact cannot be read (corrupt, or written by an incompatible version)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"model artefact {path!r} is unusable: {reason}")
