"""``unified-auth which URL``: the target a URL gets credentials from, and the pattern why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from unified_auth.cli import cli

CONFIG = """
[targets.mailer]
provider = "api-key"
hosts = ["rest.example.com", "*.mailer.example.com"]
key = { env = "NEVER_READ" }

[targets.eu]
provider = "api-key"
hosts = ["eu.mailer.example.com"]
key = { env = "NEVER_READ" }

[targets.local]
provider = "api-key"
hosts = ["http://127.0.0.1:8080/api/"]
key = { env = "NEVER_READ" }
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "unified-auth.toml"
    path.write_text(CONFIG)
    return path


def _which(config: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["which", url, "-c", str(config), *args])


def test_names_the_target_the_provider_and_the_pattern_that_won(config: Path) -> None:
    result = _which(config, "https://rest.example.com/v1/lists")
    assert result.exit_code == 0
    assert result.stdout.startswith("https://rest.example.com/v1/lists: target mailer "
                                    "(provider api-key), matched by its host pattern "
                                    "'rest.example.com'")


def test_the_most_specific_pattern_wins_as_for_a_request(config: Path) -> None:
    document = json.loads(_which(config, "https://eu.mailer.example.com/", "--json").stdout)
    assert (document["target"], document["pattern"]) == ("eu", "eu.mailer.example.com")
    document = json.loads(_which(config, "https://us.mailer.example.com/", "--json").stdout)
    assert (document["target"], document["pattern"]) == ("mailer", "*.mailer.example.com")


@pytest.mark.parametrize(("url", "why"), [
    ("https://mailer.example.com/", "a wildcard matches the hosts below a domain, never the "
                                    "domain itself"),
    ("http://rest.example.com/", "the pattern is for https, the URL is http"),
    ("https://rest.example.com:8443/", "the pattern is for port 443, the URL's is 8443"),
    ("http://127.0.0.1:8080/apix", "the path /apix is not under /api/"),
])
def test_no_target_exits_1_and_says_why_the_near_misses_miss(config: Path, url: str,
                                                             why: str) -> None:
    result = _which(config, url)
    assert result.exit_code == 1
    assert f"{url}: no target; requests to it are sent without credentials" in result.stdout
    assert why in result.stdout


def test_nothing_is_resolved_or_sent(config: Path) -> None:
    # NEVER_READ is unset: resolving a secret would fail. which only routes.
    assert _which(config, "https://rest.example.com/").exit_code == 0


def test_a_url_that_is_no_url_is_a_usage_error(config: Path) -> None:
    result = _which(config, "rest.example.com/v1")
    assert result.exit_code == 2
    assert "error: Invalid value for URL: expected an http:// or https:// URL" in result.stderr


def test_a_password_in_the_url_is_not_shown(config: Path) -> None:
    result = _which(config, "https://me:hunter2-password@rest.example.com/v1")
    assert result.exit_code == 0
    assert "hunter2-password" not in result.output
    assert result.stdout.startswith("https://rest.example.com/v1: target mailer")


@pytest.mark.parametrize(("url", "why"), [
    ("http://[::1", "brackets hold an IPv6 address and nothing else"),
    ("http://me:hunter2-password@[::1/", "brackets hold an IPv6 address and nothing else"),
    ("http://[zz]/", "brackets hold an IPv6 address and nothing else"),
    ("http://[::1]junk/", "brackets hold an IPv6 address and nothing else"),
    ("http://rest.example.com:99999/", "has a bad port"),
    ("http://rest.example.com:0/", "has a bad port"),
    ("http://rest.example.com:http/", "has a bad port"),
    ("http://rest\x1b[31m.example.com/", r"holds the control character '\x1b'"),
    ("http://rest.example.com/\n", r"holds the control character '\n'"),
    ("http://\uff03x/", "characters that change under Unicode normalisation"),
    ("http://a..b/", "is not a valid host name"),
    ("https://" + "a" * 9000 + ".example.com/", "the limit is 8192"),
])
def test_a_malformed_url_is_one_line_without_a_traceback(config: Path, url: str,
                                                         why: str) -> None:
    result = _which(config, url)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and why in errors[0], result.stderr
    assert len(errors[0]) < 400
    assert "Traceback" not in result.output
    assert "hunter2-password" not in result.output
    assert "\x1b" not in result.output
