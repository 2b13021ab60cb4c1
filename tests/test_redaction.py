"""No secret or token in logs (DEBUG included), reprs or exception texts, end to end."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from toy_provider import load, toy_target, write_secret

from unified_auth.errors import UnifiedAuthError
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks


def test_a_whole_session_leaks_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(1_800_000_000.0)
    texts: list[str] = []
    with LianaEmulator(clock=clock) as liana:
        client_id, secret = liana.create_credential("canary")
        secret_file = write_secret(tmp_path / "s", secret)
        key_file = write_secret(tmp_path / "k", "static-key-canary-77")
        with caplog.at_level(logging.DEBUG):
            hub = load({"targets": {
                "api": toy_target(liana.url, client_id, secret_file),
                "wrong": toy_target(liana.url, client_id, key_file, prefix="/api/"),
                "keyed": {"provider": "toy-key", "hosts": ["keyed.example.com"],
                          "key": {"file": str(key_file)}},
            }}, clock=clock)
            session = hub.session()
            session.get(f"{liana.url}/v1/lists")
            tokens = [hub.credentials("api").value.reveal()]
            liana.revoke_tokens()
            session.get(f"{liana.url}/v1/lists")  # 401, refetch, retry
            tokens.append(hub.credentials("api").value.reveal())
            clock.advance(900 * 0.95)
            tokens.append(hub.credentials("api").value.reveal())
            for failing in (lambda: hub.credentials("wrong"),
                            lambda: hub.credentials("nope")):
                try:
                    failing()
                except UnifiedAuthError as exc:
                    texts += [str(exc), repr(exc), repr(exc.__cause__)]
            hub.credentials("keyed")
            texts += [repr(hub), repr(hub.targets), repr(hub.credentials("api")),
                      repr(hub.broker.lease(hub.target("api"))), repr(hub.auth("api"))]
    assert len(set(tokens)) == 3
    texts += [record.getMessage() for record in caplog.records]
    texts.append(caplog.text)
    assert any("fetched credentials" in t for t in texts)  # DEBUG was really captured
    assert_no_leaks(texts, [secret, "static-key-canary-77", *tokens])
