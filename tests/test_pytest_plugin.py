"""The pytest plugin, loaded the way users get it: through the installed pytest11 entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

USES_THE_FIXTURES = r"""
import hashlib
import hmac
import stat
from datetime import UTC, datetime
from pathlib import Path

import requests


def secret(ref):
    path = Path(ref["file"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path.read_text()


def test_config_shape(unified_auth_config, liana_emulator, liquidplanner_emulator,
                      classic_emulator, oauth2_emulator):
    targets = unified_auth_config["targets"]
    assert set(targets) == {"liana", "liana-legacy", "liquidplanner", "basic", "api-key",
                            "oauth2"}
    assert targets["oauth2"]["hosts"] == [f"{oauth2_emulator.url}/api/"]
    assert targets["oauth2"]["token_url"] == oauth2_emulator.token_url
    assert targets["basic"]["hosts"] == [f"{classic_emulator.url}/basic/"]
    assert targets["api-key"]["hosts"] == [f"{classic_emulator.url}/keyed/"]
    assert targets["liana"]["hosts"] == [f"{liana_emulator.url}/v1/"]
    assert targets["liana"]["token_url"] == liana_emulator.token_url
    assert targets["liana-legacy"]["hosts"] == [f"{liana_emulator.url}/api/"]
    assert targets["liana-legacy"]["realm"] == "LianaMailer"
    assert targets["liquidplanner"]["hosts"] == [f"{liquidplanner_emulator.url}/"]
    assert {t["provider"] for t in targets.values()} == set(targets)


def test_liana_credential_works_and_shares_the_clock(unified_auth_config, unified_auth_clock):
    target = unified_auth_config["targets"]["liana"]
    answer = requests.post(
        target["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(target["client_id"], secret(target["client_secret"])),
        timeout=5,
    ).json()
    lists = target["hosts"][0] + "lists"
    headers = {"Authorization": "Bearer " + answer["access_token"]}
    assert requests.get(lists, headers=headers, timeout=5).status_code == 200
    unified_auth_clock.advance(answer["expires_in"])
    assert requests.get(lists, headers=headers, timeout=5).status_code == 401


def test_legacy_secret_signs_requests(unified_auth_config, unified_auth_clock):
    target = unified_auth_config["targets"]["liana-legacy"]
    body = b'{"ping": 1}'
    md5 = hashlib.md5(body).hexdigest()
    date = datetime.fromtimestamp(unified_auth_clock(), UTC).isoformat()
    path = "/api/v1/echoMessage"
    to_sign = "\n".join(["POST", md5, "application/json", date, body.decode(), path])
    signature = hmac.new(
        secret(target["secret"]).encode(), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "Content-MD5": md5,
        "Date": date,
        "Authorization": f"{target['realm']} {target['user_id']}:{signature}",
    }
    url = target["hosts"][0] + "v1/echoMessage"
    response = requests.post(url, data=body, headers=headers, timeout=5)
    assert response.json() == {"succeed": True, "result": {"ping": 1}}


def test_oauth2_client_gets_its_scope(unified_auth_config, oauth2_emulator):
    target = unified_auth_config["targets"]["oauth2"]
    token = requests.post(target["token_url"], timeout=5, auth=(
        target["client_id"], secret(target["client_secret"])), data={
        "grant_type": "client_credentials", "scope": " ".join(target["scope"])}).json()
    whoami = requests.get(f"{oauth2_emulator.url}/api/whoami", timeout=5, headers={
        "Authorization": "Bearer " + token["access_token"]}).json()
    assert whoami["client_id"] == target["client_id"]
    assert whoami["scope"] == "reports:read"


def test_liquidplanner_token_acts_as_the_editor(unified_auth_config, liquidplanner_emulator):
    target = unified_auth_config["targets"]["liquidplanner"]
    example = liquidplanner_emulator.example
    headers = {"Authorization": "Bearer " + secret(target["token"])}
    base = target["hosts"][0]
    me = requests.get(base + "api/users/v1/me", headers=headers, timeout=5).json()
    assert me["data"][0]["id"] == example.editor_id
    url = f"{base}api/workspaces/v1/{example.workspace_id}/items/{example.item_id}/comments"
    assert requests.post(url, json={"text": "ok"}, headers=headers, timeout=5).status_code == 201
"""


def test_fixtures_work_when_loaded_from_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_with_fixtures=USES_THE_FIXTURES)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=5)


def test_a_test_without_the_fixtures_loads_no_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("unified_auth")
            assert "unified_auth.testing.liana" not in sys.modules
            assert "unified_auth.testing.liquidplanner" not in sys.modules
            assert "unified_auth.testing.oauth2" not in sys.modules
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_the_tested_example_in_the_docs_passes(pytester: pytest.Pytester) -> None:
    docs = (Path(__file__).parents[1] / "docs" / "testing.md").read_text()
    (example,) = re.findall(r"<!-- tested: [^>]+ -->\n```python\n(.*?)```", docs, re.DOTALL)
    pytester.makepyfile(test_docs_example=example)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


HEAVY = [
    "requests",
    "unified_auth.testing._server",
    "unified_auth.testing.liana",
    "unified_auth.testing.liquidplanner",
    "unified_auth.testing.leaks",
]


def modules_loaded_by(imports: str, before: str = "pass") -> list[str]:
    """Which of HEAVY importing ``imports`` loads, in a fresh interpreter."""
    code = (
        f"import json, sys\n{before}\nseen = set(sys.modules); import {imports}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules and m not in seen]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(completed.stdout)
    return loaded


def test_the_plugin_module_itself_imports_nothing_heavy() -> None:
    assert (
        modules_loaded_by("unified_auth.testing.pytest_plugin", before="import unified_auth") == []
    )


def test_importing_the_plugin_does_not_import_requests() -> None:
    assert modules_loaded_by("unified_auth.testing.pytest_plugin") == []
