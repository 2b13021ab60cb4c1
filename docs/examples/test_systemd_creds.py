"""Tests of the systemd_creds secret plugin, with the acme provider as its user.

tests/test_docs.py collects them (with docs/examples/ and the acme package's src/ on
sys.path, as an installed plugin's tests would have them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import systemd_creds
import unified_auth_acme

import unified_auth
from unified_auth.errors import SecretError
from unified_auth.testing import LianaEmulator, ManualClock, load_isolated


def acme_config(liana: LianaEmulator, secret_file: Path, **options: Any) -> dict[str, Any]:
    """A config with one ``acme`` target on the emulator; its secret is in ``secret_file``."""
    client_id, secret = liana.create_credential("systemd tests")
    secret_file.write_text(secret, encoding="utf-8")
    return {"targets": {"acme": {
        "provider": "acme", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
        "client_secret": {"file": str(secret_file)}, "token_url": liana.token_url, **options}}}


def load(config: dict[str, Any], clock: ManualClock, *plugins: object) -> unified_auth.UnifiedAuth:
    return load_isolated(config, plugins=[unified_auth_acme, *plugins], clock=clock)


def test_a_systemd_credential_is_a_secret_source(
    liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = acme_config(liana_emulator, tmp_path / "acme-secret",
                         client_secret={"systemd": "acme-secret"})
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))

    credentials = load(config, unified_auth_clock, systemd_creds).credentials("acme")

    assert credentials.expires_at is not None


def test_a_missing_systemd_credential_names_the_target_and_key(
    unified_auth_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    config = {"targets": {"acme": {"provider": "acme", "hosts": ["api.acme.example"],
                                   "client_id": "c1", "client_secret": {"systemd": "acme"}}}}
    ua = load(config, unified_auth_clock, systemd_creds)

    with pytest.raises(SecretError, match=r"^<dict>: targets\.acme\.client_secret: "):
        ua.credentials("acme")
