"""Warehouse integration fixtures: the fakesnow server (see tests/fakesnow_server.py).

``pytest_plugins`` is only allowed in the root conftest, so the session fixture is imported
here; pytest registers fixtures that a conftest imports.
"""

from tests.fakesnow_server import fakesnow_server

__all__ = ["fakesnow_server"]
