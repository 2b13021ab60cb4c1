"""Config validation: every error names the file, the target and the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from toy_provider import load

import unified_auth
from unified_auth.errors import ConfigError
from unified_auth.model import Secret, SecretRef
from unified_auth.testing import load_isolated

TOY = {"provider": "toy", "hosts": ["api.example.com"], "client_id": "c",
       "client_secret": {"env": "TOY_SECRET"}, "token_url": "https://auth.example.com/token"}


def toml_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "unified-auth.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(config: Any) -> ConfigError:
    with pytest.raises(ConfigError) as failure:
        load(config)
    return failure.value


def test_a_valid_toml_file_gives_targets_with_typed_options(tmp_path: Path) -> None:
    path = toml_file(tmp_path, '''
[targets.api]
provider = "toy"
hosts = ["api.example.com", "*.api.example.com"]
client_id = "c"
client_secret = { env = "TOY_SECRET" }
token_url = "https://auth.example.com/token"
expires_on = 2027-05-31
tags = ["a", "b"]
mode = "basic"
''')
    target = load(path).targets["api"]
    assert target.provider == "toy"
    assert target.hosts == ("api.example.com", "*.api.example.com")
    assert target.options.expires_on == dt.date(2027, 5, 31)
    assert target.options.tags == ("a", "b")
    assert target.options.mode == "basic"
    assert target.options.client_secret == SecretRef("env", "TOY_SECRET")
    assert target.options.client_secret.origin.key == "client_secret"


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    path = toml_file(tmp_path, '[targets.api]\nprovider = "toy"\nhosts = ["a.example.com"]\n'
                               'client_secret = { env = "X" }\ntoken_url = "https://x/t"\n')
    error = error_for(path)
    assert str(path) in str(error)
    assert "targets.api.client_id" in str(error)
    assert "missing" in str(error) and "a string" in str(error)
    assert (error.source, error.target, error.key) == (str(path), "api", "client_id")


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("client_id", 42, "expected a string, got an integer"),
    ("retries", "three", "expected an integer, got a string"),
    ("retries", True, "expected an integer, got a boolean"),
    ("expires_on", "31.5.2027", "expected a date"),
    ("tags", "a", "expected a list of strings"),
    ("mode", "sideways", "expected one of 'post', 'basic'"),
    ("scope", ["x"], "expected a string"),
])
def test_a_wrong_type_is_named_with_what_was_expected(key: str, value: object,
                                                     expected: str) -> None:
    error = error_for({"targets": {"api": {**TOY, key: value}}})
    assert f"targets.api.{key}" in str(error)
    assert expected in str(error)


def test_a_wrong_value_is_not_echoed() -> None:
    error = error_for({"targets": {"api": {**TOY, "retries": "hunter2-canary"}}})
    assert "hunter2-canary" not in str(error)


def test_an_unknown_key_lists_the_known_ones() -> None:
    error = error_for({"targets": {"api": {**TOY, "clientid": "x"}}})
    assert "targets.api.clientid" in str(error)
    assert "client_id" in str(error) and "token_url" in str(error)


def test_an_unknown_provider_lists_the_installed_ones() -> None:
    error = error_for({"targets": {"api": {**TOY, "provider": "lianna"}}})
    assert "targets.api.provider" in str(error)
    assert "unknown provider 'lianna'" in str(error)
    assert "toy, toy-key" in str(error)


def test_a_missing_provider_is_named() -> None:
    error = error_for({"targets": {"api": {"hosts": ["a.example.com"]}}})
    assert "targets.api.provider" in str(error) and "missing" in str(error)


def test_two_targets_claiming_one_host_is_an_error() -> None:
    second = {**TOY, "hosts": ["API.example.com."]}
    error = error_for({"targets": {"api": TOY, "other": second}})
    assert "claimed by both targets 'api' and 'other'" in str(error)
    assert "targets.other.hosts" in str(error)


@pytest.mark.parametrize("hosts", [[], "", ["api.example.com/x"], ["ftp://x.example.com/"]])
def test_a_bad_host_pattern_is_named(hosts: object) -> None:
    error = error_for({"targets": {"api": {**TOY, "hosts": hosts}}})
    assert "targets.api.hosts" in str(error)


def test_a_bad_secret_reference_is_named() -> None:
    for bad, expected in [({"env": "A", "file": "B"}, "exactly one source"),
                          ({"env": ""}, "non-empty string"),
                          (42, "expected a secret reference"),
                          ({"keyring": "svc", "username": 3}, "'username' must be a string")]:
        error = error_for({"targets": {"api": {**TOY, "client_secret": bad}}})
        assert "targets.api.client_secret" in str(error)
        assert expected in str(error)


def test_a_secret_in_clear_text_is_accepted_and_remembered() -> None:
    hub = load({"targets": {"api": {**TOY, "client_secret": "plain-canary-secret"}}})
    assert isinstance(hub.targets["api"].options.client_secret, Secret)
    assert "plain-canary-secret" not in repr(hub.targets["api"])
    assert any("clear text" in w for w in hub.warnings("api"))


def test_toml_syntax_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = toml_file(tmp_path, "[targets.api\nprovider = 'toy'\n")
    error = error_for(path)
    assert str(path) in str(error) and "line 1" in str(error)


def test_unknown_tables_and_cache_keys_are_refused() -> None:
    assert "unknown top-level table 'target'" in str(error_for({"target": {}}))
    error = error_for({"cache": {"backend": "memcached"}})
    assert "cache.backend" in str(error) and "'memory', 'file', 'redis'" in str(error)
    error = error_for({"refresh": {"advisory": 0.95, "mandatory": 0.9}})
    assert "advisory <= mandatory" in str(error)


def test_a_bad_target_name_is_refused() -> None:
    assert "not a valid target name" in str(error_for({"targets": {"a b": TOY}}))


def test_unknown_target_names_list_the_known_ones() -> None:
    hub = load({"targets": {"api": TOY}})
    with pytest.raises(ConfigError, match="no target named 'apu'; the config has: api"):
        hub.credentials("apu")


def test_a_missing_explicit_file_is_named(tmp_path: Path) -> None:
    error = error_for(tmp_path / "nope.toml")
    assert "nope.toml" in str(error) and "does not exist" in str(error)


def test_default_config_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def target_names() -> list[str]:
        return sorted(load_isolated().targets)

    home = tmp_path / "home"
    (home / "unified-auth").mkdir(parents=True)
    (home / "unified-auth" / "config.toml").write_text("[targets]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("UNIFIED_AUTH_CONFIG", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert target_names() == []  # the user config dir's file
    (work / "unified-auth.toml").write_text('[cache]\nbackend = "memory"\n')
    assert load_isolated().config.source == "unified-auth.toml"
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text("")
    monkeypatch.setenv("UNIFIED_AUTH_CONFIG", str(elsewhere))
    assert load_isolated().config.source == str(elsewhere)


def test_no_config_anywhere_says_where_it_looked(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("UNIFIED_AUTH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"no config found: looked at \$UNIFIED_AUTH_CONFIG"):
        load_isolated()


def test_a_plugin_validator_error_names_the_key() -> None:
    import attrs

    @attrs.frozen
    class Strict:
        client_id: str = "c"
        url: str = attrs.field(default="https://x", validator=lambda _, a, v: _https(a.name, v))

    def _https(name: str, value: str) -> None:
        if not value.startswith("https://"):
            # names another key on purpose: the error must still be pinned to this one
            raise ValueError(f"{name} must start with https:// (unlike a client_id)")

    class Plugin:
        @unified_auth.hookimpl
        def register_providers(self, register: Any) -> None:
            register("strict", Strict)

    with pytest.raises(ConfigError) as failure:
        load_isolated({"targets": {"s": {"provider": "strict", "hosts": ["a.example.com"],
                                             "url": "http://x"}}},
                      plugins=[Plugin()])
    assert failure.value.key == "url"
    assert "targets.s.url" in str(failure.value)


def test_an_options_class_is_inspected_once_per_load_not_once_per_target(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import typing

    inspected: list[object] = []
    real = typing.get_type_hints

    def counting(obj: Any, *args: Any, **kwargs: Any) -> Any:
        inspected.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(typing, "get_type_hints", counting)
    targets = {f"t{i}": {"provider": "toy-key", "hosts": [f"t{i}.example.com"],
                         "key": {"env": f"KEY_{i}"}} for i in range(50)}
    targets["x"] = {"provider": "toy", "hosts": ["x.example.com"], "client_id": "c",
                    "client_secret": {"env": "S"}, "token_url": "https://x.example.com/t"}
    hub = load({"targets": targets})
    assert len(hub.targets) == 51
    assert hub.targets["t7"].options.key == SecretRef("env", "KEY_7")
    options_classes = [obj for obj in inspected if obj in {type(t.options)
                                                           for t in hub.targets.values()}]
    assert len(options_classes) == 2


@pytest.mark.parametrize(("config", "named", "says"), [
    ({"targets": {"api": {**TOY, "provider": ["toy"]}}}, "targets.api.provider",
     "expected a provider name, got a list"),
    ({1: {}, "targets": {}}, "<dict>", "unknown top-level table 1"),
    ({"targets": {"api": {**TOY, 3: "x"}}}, "targets.api.3", "unknown key"),
    ({"targets": {"api": {**TOY, "client_secret": {1: "a", "env": "b"}}}},
     "targets.api.client_secret", "exactly one source"),
    ({"refresh": {"min_interval": float("nan")}}, "refresh.min_interval", ">= 0"),
    ({"refresh": {"min_interval": float("inf")}}, "refresh.min_interval", ">= 0"),
    ({"targets": {"api\n": TOY}}, "targets", "not a valid target name"),
], ids=["provider-list", "mixed-top-level-keys", "non-string-option-key",
        "non-string-secret-kind", "min-interval-nan", "min-interval-inf", "name-newline"])
def test_odd_input_is_a_config_error_that_names_its_place(config: Any, named: str,
                                                          says: str) -> None:
    message = str(error_for(config))
    assert named in message and says in message


def test_a_nul_in_the_config_path_is_a_config_error(tmp_path: Path) -> None:
    error = error_for(str(tmp_path / "a\0b.toml"))
    assert "cannot be read" in str(error) and "\0" not in str(error)


@pytest.mark.parametrize("host", [
    "https://deploy:PW-canary-17@api.example.com/",
    "https://api.example.com/v1/?api_key=PW-canary-17",
    "https://PW-canary-17@api.example.com/",
    "deploy:PW-canary-17@api.example.com",
    "https://deploy:PW-canary-17@api.example.com:99999/",
])
def test_a_rejected_host_pattern_never_shows_its_credentials(host: str) -> None:
    from unified_auth.testing import assert_no_leaks

    error = error_for({"targets": {"api": {**TOY, "hosts": [host]}}})
    assert "targets.api.hosts[0]" in str(error)
    assert "api.example.com" in str(error)  # which host, so the user can find it
    assert_no_leaks([str(error), repr(error)], ["PW-canary-17"])
