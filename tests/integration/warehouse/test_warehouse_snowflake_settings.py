"""``SnowflakeWarehouse.from_settings``: key-pair auth, emulator mode, refusal without creds."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from shared.adapters.warehouse.snowflake import SnowflakeWarehouse
from shared.errors import ConfigurationError
from shared.settings import PlatformSettings
from tests.fakesnow_server import FakesnowServer


def test_key_pair_auth_sends_pkcs8_der_and_no_password(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass phrase"),
    )
    (tmp_path / "loader.p8").write_bytes(pem)
    settings = PlatformSettings(
        warehouse="snowflake",
        snowflake_account="xy12345.west-europe.azure",
        snowflake_user="WDP_LOADER_SVC",
        snowflake_role="WDP_LOADER",
        snowflake_private_key_path=tmp_path / "loader.p8",
        snowflake_private_key_passphrase=SecretStr("pass phrase"),
    )

    wh = SnowflakeWarehouse.from_settings(settings)

    kwargs = wh._connect_kwargs
    assert kwargs["authenticator"] == "SNOWFLAKE_JWT"
    assert "password" not in kwargs
    loaded = serialization.load_der_private_key(kwargs["private_key"], password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    assert kwargs["role"] == "WDP_LOADER"
    assert wh.create_database is False  # production never creates the database


def test_wrong_passphrase_is_a_configuration_error(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "k.p8").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"right"),
        )
    )
    settings = PlatformSettings(
        snowflake_account="a",
        snowflake_user="u",
        snowflake_private_key_path=tmp_path / "k.p8",
        snowflake_private_key_passphrase=SecretStr("wrong"),
    )
    with pytest.raises(ConfigurationError, match="private key"):
        SnowflakeWarehouse.from_settings(settings)


def test_no_credentials_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        SnowflakeWarehouse.from_settings(
            PlatformSettings(snowflake_account="a", snowflake_user="u")
        )
    with pytest.raises(ConfigurationError):
        SnowflakeWarehouse.from_settings(PlatformSettings())


def test_emulator_settings_connect_and_create_the_database(
    fakesnow_server: FakesnowServer,
) -> None:
    settings = PlatformSettings(
        warehouse="snowflake",
        snowflake_account="fakesnow",
        snowflake_user=fakesnow_server.user,
        snowflake_password=SecretStr(fakesnow_server.password),
        snowflake_host=fakesnow_server.host,
        snowflake_port=fakesnow_server.port,
        snowflake_protocol="http",
        snowflake_database="FROM_SETTINGS",
    )
    wh = SnowflakeWarehouse.from_settings(settings)
    try:
        wh.ensure_schema()
        assert wh.query("SELECT count(*) AS n FROM BRONZE.LOAD_HISTORY") == [{"n": 0}]
    finally:
        wh.close()
