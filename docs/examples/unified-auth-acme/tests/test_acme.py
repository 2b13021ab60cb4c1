"""The acme plugin's own tests, with the fixtures of unified-auth's pytest plugin.

The Liana emulator (``liana_emulator``) stands in for Acme's token endpoint and API: it
speaks the same OAuth 2.0 client-credentials protocol. ``pytest`` here runs them; in
unified-auth's own suite, tests/test_docs.py collects them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import unified_auth_acme

import unified_auth
from unified_auth.errors import ConfigError, CredentialsRejected, SecretError
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks, load_isolated


def acme_config(liana: LianaEmulator, secret_file: Path, **options: Any) -> dict[str, Any]:
    """A config with one ``acme`` target on the emulator; its secret is in ``secret_file``."""
    client_id, secret = liana.create_credential("acme tests")
    secret_file.write_text(secret, encoding="utf-8")
    return {"targets": {"acme": {
        "provider": "acme",
        "hosts": [f"{liana.url}/v1/"],
        "client_id": client_id,
        "client_secret": {"file": str(secret_file)},
        "token_url": liana.token_url,
        **options,
    }}}


def load(config: dict[str, Any], clock: ManualClock, *plugins: object) -> unified_auth.UnifiedAuth:
    # Only the plugins under test (no installed ones), and the emulator's clock.
    return load_isolated(config, plugins=[unified_auth_acme, *plugins], clock=clock)


def test_a_token_is_fetched_once_and_renewed_before_it_expires(
    liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path
) -> None:
    ua = load(acme_config(liana_emulator, tmp_path / "acme.secret"), unified_auth_clock)
    session = ua.session()
    url = f"{liana_emulator.url}/v1/lists"

    for _ in range(3):
        assert session.get(url, timeout=5).status_code == 200
    assert liana_emulator.counters.tokens_issued == 1

    unified_auth_clock.advance(870)  # the 900 s token is past its mandatory refresh point
    assert session.get(url, timeout=5).status_code == 200
    assert liana_emulator.counters.tokens_issued == 2
    assert liana_emulator.counters.expired_token_requests == 0


def test_a_rotated_secret_is_read_again_after_a_401(
    liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path
) -> None:
    config = acme_config(liana_emulator, tmp_path / "acme.secret")
    session = load(config, unified_auth_clock).session()
    url = f"{liana_emulator.url}/v1/lists"
    assert session.get(url, timeout=5).status_code == 200

    client_id = config["targets"]["acme"]["client_id"]
    (tmp_path / "acme.secret").write_text(liana_emulator.rotate_secret(client_id), encoding="utf-8")
    liana_emulator.revoke_tokens()

    assert session.get(url, timeout=5).status_code == 200  # 401, new secret, new token, retry


def test_a_refused_client_is_a_clear_error_without_the_secret(
    liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = acme_config(liana_emulator, tmp_path / "acme.secret")
    liana_emulator.rotate_secret(config["targets"]["acme"]["client_id"])  # the file's secret is stale
    ua = load(config, unified_auth_clock)

    with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsRejected) as refused:
        ua.credentials("acme")

    assert "refused client id" in str(refused.value)
    stale = (tmp_path / "acme.secret").read_text(encoding="utf-8")
    assert_no_leaks([str(refused.value), caplog.text], [stale])


def test_config_errors_name_the_target_and_key() -> None:
    config = {"targets": {"acme": {"provider": "acme", "hosts": ["api.acme.example"],
                                   "client_id": "c1", "client_secret": {"env": "ACME_SECRET"},
                                   "token_url": "http://auth.acme.example/token"}}}

    with pytest.raises(ConfigError) as invalid:
        load(config, ManualClock())

    assert str(invalid.value).startswith("<dict>: targets.acme.token_url: invalid value: ")


def test_an_expiring_credential_is_warned_about() -> None:
    clock = ManualClock(datetime(2026, 5, 20, tzinfo=UTC))
    config = {"targets": {"acme": {"provider": "acme", "hosts": ["api.acme.example"],
                                   "client_id": "c1", "client_secret": {"env": "ACME_SECRET"},
                                   "expires_on": "2026-05-31"}}}

    warnings = load(config, clock).warnings("acme")

    assert warnings == ["the Acme client credential expires on 2026-05-31 (in 11 days): "
                        "create a new one in the Acme console before then"]


def test_the_probe_says_which_client_the_api_accepted(
    liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path
) -> None:
    config = acme_config(liana_emulator, tmp_path / "acme.secret")
    with load(config, unified_auth_clock) as ua:
        assert ua.probe("acme") == f"client {config['targets']['acme']['client_id']}"
