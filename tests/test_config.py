"""Settings: production refuses dev placeholders wherever settings are built, CLI included."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from digilocker_gateway.config import DEV_PARTNER_CLIENT_SECRET, Settings

KEY = "k1:" + base64.b64encode(b"\x01" * 32).decode()
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "encryption_keys": KEY,
    "digilocker_base_url": "https://digilocker.example.test/public",
    "public_base_url": "https://kyc.example.test",
    "digilocker_client_secret": "a-real-partner-secret",
}


def test_complete_production_settings_are_accepted() -> None:
    settings = Settings(**PRODUCTION)
    assert settings.environment == "production"
    assert not settings.uses_embedded_simulator


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"encryption_keys": None}, "DLG_ENCRYPTION_KEYS"),
        ({"digilocker_base_url": None}, "DLG_DIGILOCKER_BASE_URL"),
        ({"public_base_url": None}, "DLG_PUBLIC_BASE_URL"),
        ({"aadhaar_trust_simulator": True}, "DLG_AADHAAR_TRUST_SIMULATOR"),
        ({"digilocker_client_secret": DEV_PARTNER_CLIENT_SECRET}, "dev secret"),
    ],
)
def test_production_settings_with_a_dev_placeholder_cannot_be_built(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(**{**PRODUCTION, **change})


def test_dev_settings_keep_their_placeholders() -> None:
    settings = Settings()
    assert settings.uses_embedded_simulator
    assert settings.digilocker_client_secret.get_secret_value() == DEV_PARTNER_CLIENT_SECRET


@pytest.mark.parametrize("command", [["migrate"], ["admin", "create-client"], ["purge"]])
def test_every_command_refuses_production_with_the_dev_secret(
    tmp_path: Path, command: list[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLG_")} | {
        "DLG_ENVIRONMENT": "production",
        "DLG_DATA_DIR": str(tmp_path / "data"),
        "DLG_ENCRYPTION_KEYS": KEY,
        "DLG_DIGILOCKER_BASE_URL": "https://digilocker.example.test/public",
        "DLG_PUBLIC_BASE_URL": "https://kyc.example.test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "digilocker_gateway", *command],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = done.stderr.decode()
    assert done.returncode != 0
    assert "settings refused" in stderr
    assert "dev secret" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "data").exists()  # nothing was created
