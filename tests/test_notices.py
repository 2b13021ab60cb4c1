"""Warnings as values: each notice is logged once with its value, and shown by its kind."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest
from test_plugin_manager import install_distribution
from toy_provider import ToyPlugin, toy_target, write_secret

import unified_auth
from unified_auth import Notice, Target, hookimpl
from unified_auth.cli import logs
from unified_auth.testing import LianaEmulator, ManualClock, load_isolated


def notices(caplog: pytest.LogCaptureFixture) -> list[Notice]:
    return [record.notice for record in caplog.records if hasattr(record, "notice")]


def test_a_clear_text_secret_is_a_notice_on_the_record_and_on_the_hub(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "ua.toml"
    config.write_text('[targets.k]\nprovider = "toy-key"\nhosts = ["k.example"]\n'
                      'key = "clear-text-key-value"\n')
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        hub = load_isolated(config, plugins=[ToyPlugin()])
    [notice] = notices(caplog)
    assert (notice.kind, notice.target) == ("clear_text_secret", "k")
    assert notice.text.startswith(f"{config}: targets.k.key: a secret is written in clear text")
    assert "clear-text-key-value" not in caplog.text
    assert hub.notices == (notice,)


def test_a_broken_plugin_is_a_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     caplog: pytest.LogCaptureFixture) -> None:
    install_distribution(tmp_path, "ua-broken", "raise ImportError('missing dependency foo')")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        hub = unified_auth.load({"targets": {}})
    [notice] = [n for n in notices(caplog) if n.kind == "broken_plugin"]
    assert "distribution ua-broken" in notice.text and "missing dependency foo" in notice.text
    assert notice in hub.notices


def test_a_plugins_target_warning_is_logged_once_as_a_notice(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    class Cycling:
        @hookimpl
        def target_warnings(self, target: Target, now: datetime) -> list[str] | None:
            return ["cycle this token soon"]

    client_id, secret = liana_emulator.create_credential("tests")
    config = {"targets": {"api": toy_target(liana_emulator.url, client_id,
                                            write_secret(tmp_path / "s", secret))}}
    hub = load_isolated(config, plugins=[ToyPlugin(), Cycling()],
                        clock=unified_auth_clock)
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        hub.credentials("api")
        unified_auth_clock.advance(900)
        hub.credentials("api")
    assert notices(caplog) == [Notice("target_warning", "target api: cycle this token soon",
                                      target="api")]


def test_the_cli_mutes_by_kind_not_by_words(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("unified_auth")
    restore = logs.setup_logging(debug=False)
    try:
        with logs.mute(lambda notice: notice.kind == "broken_plugin"):
            logger.warning("%s", "plugin 'x' failed to load and is skipped",
                           extra={"notice": Notice("broken_plugin", "reworded at will")})
            logger.warning("plugin 'y' failed to load and is skipped")  # words alone: shown
            logger.warning("%s", "shown", extra={"notice": Notice("target_warning", "shown")})
    finally:
        restore()
    stderr = capsys.readouterr().err.splitlines()
    assert stderr == ["warning: plugin 'y' failed to load and is skipped", "warning: shown"]
