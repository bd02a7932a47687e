"""Dashboard errors; each maps to one HTTP status in the entrypoints."""

from __future__ import annotations

from shared.errors import PlatformError


class Unauthenticated(PlatformError):
    """No valid credentials were presented (→ 401, or the login page for HTML)."""


class Forbidden(PlatformError):
    """The caller is authenticated but may not read this user's or the platform's data (→ 403)."""
