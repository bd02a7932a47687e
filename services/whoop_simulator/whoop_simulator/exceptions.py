"""Simulator errors, each carrying the HTTP answer WHOOP would give."""

from __future__ import annotations

from shared.errors import TerminalError


class OAuthFailure(TerminalError):
    """An OAuth request fails; rendered as RFC 6749 JSON ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        self.error = error
        self.description = description
        self.status = status
        super().__init__(f"{error}: {description}")


class ApiFailure(TerminalError):
    """A data-API request fails with ``status`` (400, 401, 404, 429, 5xx)."""

    def __init__(
        self, status: int, error: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}
        super().__init__(f"{status} {error}: {description}")
