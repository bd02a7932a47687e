"""``wdp up --no-simulator`` against an *external* WHOOP: the documented real-account path.

The simulator runs as its own server with its own client id and secret, exactly as WHOOP
would; ``wdp up`` learns them only from a ``.env`` file. The test then drives the real OAuth
flow, the initial backfill and a signed webhook all the way to a prediction.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from wdp_cli.commands.demo import SimulatorAdmin, connect_user
from wdp_cli.stack import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

SERVICES = ("receiver", "extractor", "loader", "transformer", "scorer")


def _wait(predicate: Callable[[], Any], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _predictions(data_dir: Path, user_id: int) -> tuple[int, Any]:
    warehouse = DuckDBWarehouse(data_dir / "warehouse.duckdb")
    try:
        rows = warehouse.query(
            "select count(*) as n, max(scored_at) as t from gold.fact_predictions "
            f"where user_key = {int(user_id)}"
        )
    except Exception:  # noqa: BLE001 - the table appears with the first score
        return 0, None
    finally:
        warehouse.close()
    return int(rows[0]["n"]), rows[0]["t"]


@pytest.fixture
def external_whoop(tmp_path: Path) -> Iterator[SimpleNamespace]:
    port, rx_port = free_port(), free_port()
    client_id, client_secret = "ext-whoop-app", secrets.token_urlsafe(24)
    admin = secrets.token_urlsafe(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WDP_")}
    env.update(
        WDP_SIM_CLIENT_ID=client_id,
        WDP_SIM_CLIENT_SECRET=client_secret,
        WDP_SIM_ADMIN_TOKEN=admin,
        WDP_SIM_WEBHOOK_URL=f"http://127.0.0.1:{rx_port}/webhooks/whoop",
        WDP_SIM_AUTO_APPROVE="true",
        WDP_SIM_N_USERS="1",
        WDP_SIM_HISTORY_DAYS="45",
        WDP_SIM_SEED="5",
    )
    log = (tmp_path / "simulator.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "whoop_simulator", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/healthz").status_code == 200, 60, "the simulator")
        yield SimpleNamespace(
            url=url, client_id=client_id, secret=client_secret, admin=admin, rx_port=rx_port
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_wdp_up_no_simulator_reaches_a_prediction_on_an_external_whoop(
    tmp_path: Path, external_whoop: SimpleNamespace
) -> None:
    ext = external_whoop
    data_dir = tmp_path / "data"
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# my WHOOP app, as registered in the developer dashboard\n"
        f"WDP_WHOOP_CLIENT_ID={ext.client_id}\n"
        f'export WDP_WHOOP_CLIENT_SECRET="{ext.secret}"\n'
        f"WDP_WHOOP_API_BASE_URL={ext.url}/developer\n"
        f"WDP_WHOOP_OAUTH_BASE_URL={ext.url}/oauth/oauth2\n"
        f"WDP_RECEIVER_PORT={ext.rx_port}\n"
        "WDP_RECEIVER_INITIAL_BACKFILL_DAYS=30\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WDP_")}
    out = (tmp_path / "up.out").open("wb")
    up = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "wdp"),
            "up",
            "--no-simulator",
            "--data-dir",
            str(data_dir),
            "--env-file",
            str(dotenv),
            "--health-timeout",
            "240",
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    receiver = f"http://127.0.0.1:{ext.rx_port}"
    try:
        _wait(lambda: b"Ctrl-C stops everything" in (tmp_path / "up.out").read_bytes(), 300, "up")
        printed = (tmp_path / "up.out").read_text()
        key_file = data_dir / "secrets" / "receiver-admin-api-key"
        assert f"admin key  in {key_file}" in printed.replace("\n", "")
        key = key_file.read_text().strip()
        assert key and key not in printed
        assert (key_file.stat().st_mode & 0o777) == 0o600

        sim = SimulatorAdmin(ext.url, ext.admin)
        try:
            [user] = sim.users()
            uid = int(user["user_id"])
            # The real OAuth flow: the receiver uses the .env client id at the external WHOOP.
            login = httpx.get(f"{receiver}/auth/whoop/login", follow_redirects=False)
            assert f"client_id={ext.client_id}" in login.headers["location"]
            assert login.headers["location"].startswith(f"{ext.url}/oauth/oauth2/auth")
            assert connect_user(SimpleNamespace(receiver_url=receiver), uid) == uid  # type: ignore[arg-type]

            _wait(lambda: _predictions(data_dir, uid)[0] > 0, 300, "backfill → predictions")
            _, scored_before = _predictions(data_dir, uid)
            status = httpx.get(
                f"{receiver}/v1/users/{uid}/status", headers={"X-API-Key": key}, timeout=10
            )
            assert status.status_code == 200 and status.json()["status"] == "active"

            # A signed webhook from the external WHOOP reaches a new prediction.
            truth = sim.ground_truth(uid)
            main_sleeps = [r for r in truth["fact_sleep"] if not r["is_nap"]]
            sleep_id = max(main_sleeps, key=lambda r: r["date_key"])["sleep_id"]
            sim.rescore(uid, "sleep", sleep_id)
            _wait(
                lambda: _predictions(data_dir, uid)[1] != scored_before, 180, "webhook → prediction"
            )
        finally:
            sim.close()
        logs = "".join(
            (data_dir / "logs" / f"{s}.log").read_text(errors="replace") for s in SERVICES
        )
        assert ext.secret not in logs and key not in logs
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
        out.close()
