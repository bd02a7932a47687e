"""Outside ``dev`` the receiver and extractor refuse every development default at start-up.

Driven through the real entrypoints: ``python -m receiver`` / ``python -m extractor`` as
processes (they must exit non-zero naming each offending setting), and the composition roots
for one test per setting, each with everything else production-grade so exactly that one
setting is blamed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from extractor.bootstrap import bootstrap as extractor_bootstrap
from extractor.settings import ExtractorSettings
from receiver.bootstrap import bootstrap as receiver_bootstrap
from receiver.settings import ReceiverSettings
from shared.adapters.secrets.env import EnvSecretStore
from shared.settings import PlatformSettings
from shared.startup_checks import DevelopmentDefaultsRefused

REAL_SECRET = "s3cr3t-from-the-whoop-developer-dashboard"
REAL_API_KEY = "k-ops-0123456789abcdef"

# A production-grade configuration; each test breaks exactly one thing.
GOOD_ENV: dict[str, str] = {
    "WDP_ENVIRONMENT": "prod",
    "WDP_WHOOP_CLIENT_ID": "3f1c-real-app",
    "WDP_WHOOP_API_BASE_URL": "https://api.prod.whoop.com/developer",
    "WDP_WHOOP_OAUTH_BASE_URL": "https://api.prod.whoop.com/oauth/oauth2",
    "WDP_WHOOP_CLIENT_SECRET": REAL_SECRET,
    "WDP_SECRET_TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "WDP_RECEIVER_API_KEYS": f'{{"{REAL_API_KEY}": "admin"}}',
    "WDP_RECEIVER_PUBLIC_BASE_URL": "https://wdp.example.org",
}

# (what to change, the setting the error must name)
BREAKAGES: list[tuple[str, dict[str, str | None], str]] = [
    ("client-id", {"WDP_WHOOP_CLIENT_ID": None}, "WDP_WHOOP_CLIENT_ID"),
    (
        "simulator-secret",
        {"WDP_WHOOP_CLIENT_SECRET": "wdp-local-client-secret"},
        "WHOOP client secret",
    ),
    ("missing-secret", {"WDP_WHOOP_CLIENT_SECRET": None}, "WHOOP client secret"),
    ("short-secret", {"WDP_WHOOP_CLIENT_SECRET": "abc"}, "WHOOP client secret"),
    ("api-url", {"WDP_WHOOP_API_BASE_URL": None}, "WDP_WHOOP_API_BASE_URL"),
    ("oauth-url", {"WDP_WHOOP_OAUTH_BASE_URL": None}, "WDP_WHOOP_OAUTH_BASE_URL"),
    (
        "generated-token-key",
        {"WDP_SECRET_TOKEN_ENCRYPTION_KEY": None},
        "token encryption key",
    ),
]
RECEIVER_ONLY: list[tuple[str, dict[str, str | None], str]] = [
    ("no-api-keys", {"WDP_RECEIVER_API_KEYS": None}, "WDP_RECEIVER_API_KEYS"),
    (
        "placeholder-api-key",
        {"WDP_RECEIVER_API_KEYS": '{"changeme": "admin"}'},
        "WDP_RECEIVER_API_KEYS",
    ),
    (
        "http-public-url",
        {"WDP_RECEIVER_PUBLIC_BASE_URL": "http://wdp.example.org"},
        "WDP_RECEIVER_PUBLIC_BASE_URL",
    ),
]


def _env(tmp_path: Path, changes: dict[str, str | None]) -> dict[str, str]:
    env = {**GOOD_ENV, "WDP_DATA_DIR": str(tmp_path / "data")}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("WDP_"):
            monkeypatch.delenv(key)
    return monkeypatch


def _apply(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize(
    ("changes", "setting"),
    [pytest.param(c, s, id=name) for name, c, s in BREAKAGES + RECEIVER_ONLY],
)
async def test_receiver_refuses_each_dev_default(
    tmp_path: Path, clean_environ: pytest.MonkeyPatch, changes: dict[str, str | None], setting: str
) -> None:
    _apply(clean_environ, _env(tmp_path, changes))
    platform = PlatformSettings()
    with pytest.raises(DevelopmentDefaultsRefused) as info:
        await receiver_bootstrap(
            ReceiverSettings(), platform=platform, secrets=EnvSecretStore.from_settings(platform)
        )
    names = [v.setting for v in info.value.violations]
    assert len(names) == 1 and names[0].startswith(setting), names
    assert REAL_SECRET not in str(info.value)  # the error never echoes a secret


@pytest.mark.parametrize(
    ("changes", "setting"), [pytest.param(c, s, id=name) for name, c, s in BREAKAGES]
)
async def test_extractor_refuses_each_dev_default(
    tmp_path: Path, clean_environ: pytest.MonkeyPatch, changes: dict[str, str | None], setting: str
) -> None:
    _apply(clean_environ, _env(tmp_path, changes))
    platform = PlatformSettings()
    with pytest.raises(DevelopmentDefaultsRefused) as info:
        await extractor_bootstrap(
            ExtractorSettings(), platform=platform, secrets=EnvSecretStore.from_settings(platform)
        )
    names = [v.setting for v in info.value.violations]
    assert len(names) == 1 and names[0].startswith(setting), names


async def test_production_config_passes_the_check(
    tmp_path: Path, clean_environ: pytest.MonkeyPatch
) -> None:
    _apply(clean_environ, _env(tmp_path, {}))
    platform = PlatformSettings()
    app = await extractor_bootstrap(
        ExtractorSettings(), platform=platform, secrets=EnvSecretStore.from_settings(platform)
    )
    await app.close()
    assert not (tmp_path / "data" / "secrets").exists()  # no key was generated


async def test_dev_still_generates_the_token_key(
    tmp_path: Path, clean_environ: pytest.MonkeyPatch
) -> None:
    clean_environ.setenv("WDP_DATA_DIR", str(tmp_path / "data"))
    clean_environ.setenv("WDP_WHOOP_CLIENT_SECRET", "wdp-local-client-secret")
    platform = PlatformSettings()
    app = await extractor_bootstrap(
        ExtractorSettings(), platform=platform, secrets=EnvSecretStore.from_settings(platform)
    )
    await app.close()
    assert (tmp_path / "data" / "secrets" / "token-encryption-key").exists()


@pytest.mark.parametrize("module", ["receiver", "extractor"])
def test_process_exits_naming_every_offending_setting(tmp_path: Path, module: str) -> None:
    """The bare misconfiguration from the report: prod with every development default."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WDP_") and k != "APPLICATIONINSIGHTS_CONNECTION_STRING"
    }
    env.update(
        WDP_ENVIRONMENT="prod",
        WDP_DATA_DIR=str(tmp_path / "data"),
        WDP_WHOOP_CLIENT_SECRET="wdp-local-client-secret",
        WDP_RECEIVER_PORT="0",
    )
    proc = subprocess.run(
        [sys.executable, "-m", module],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    for setting in (
        "WDP_WHOOP_CLIENT_ID",
        "WHOOP client secret",
        "WDP_WHOOP_API_BASE_URL",
        "WDP_WHOOP_OAUTH_BASE_URL",
        "token encryption key",
    ):
        assert setting in output, output[-2000:]
    if module == "receiver":
        assert "WDP_RECEIVER_API_KEYS" in output
    assert "wdp-local-client-secret" not in output
