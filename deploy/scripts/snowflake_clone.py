"""Create or drop the zero-copy clone dbt slim CI builds in (deploy.yml, job dbt-ci).

    python deploy/scripts/snowflake_clone.py create CLONE SOURCE
    python deploy/scripts/snowflake_clone.py drop CLONE

Connects with the same WDP_SNOWFLAKE_* variables as dbt's `snowflake` target (key-pair auth).
"""

from __future__ import annotations

import os
import re
import sys

import snowflake.connector
from cryptography.hazmat.primitives import serialization

_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")


def statements(action: str, clone: str, source: str | None) -> list[str]:
    """The SQL for one action; names must be plain upper-case identifiers (no injection)."""
    for name in (clone, source):
        if name is not None and not _NAME.match(name):
            raise ValueError(f"not a plain identifier: {name!r}")
    if action == "create" and source is not None:
        return [f"CREATE OR REPLACE TRANSIENT DATABASE {clone} CLONE {source}"]
    if action == "drop":
        return [f"DROP DATABASE IF EXISTS {clone}"]
    raise ValueError("usage: create CLONE SOURCE | drop CLONE")


def main(argv: list[str]) -> int:
    action, clone, source = argv[0], argv[1], (argv[2] if len(argv) > 2 else None)
    sql = statements(action, clone, source)
    with open(os.environ["WDP_SNOWFLAKE_PRIVATE_KEY_PATH"], "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), password=None)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with snowflake.connector.connect(
        account=os.environ["WDP_SNOWFLAKE_ACCOUNT"],
        user=os.environ["WDP_SNOWFLAKE_USER"],
        role=os.environ["WDP_SNOWFLAKE_ROLE"],
        warehouse=os.environ["WDP_SNOWFLAKE_WAREHOUSE"],
        private_key=der,
    ) as conn:
        for statement in sql:
            conn.cursor().execute(statement)
            sys.stdout.write(statement + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
