"""``load()`` on any input: a hub or a ConfigError, nothing else (hypothesis, bounded)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toy_provider import ToyPlugin

import unified_auth
from unified_auth.errors import ConfigError

KEYS = ["targets", "cache", "refresh", "provider", "hosts", "client_id", "client_secret",
        "token_url", "env", "file", "command", "keyring", "username", "api", "toy", "toy-key",
        "key", "header", "scope", "tags", "expires_on", "mode", "advisory", "mandatory",
        "min_interval", "backend", "path", "url", "liana", "api\n", ""]
HOSTS = ["api.example.com", "*.example.com", "https://a.example.com/v1/", "http://127.0.0.1:8/",
         "https://deploy:pw@h.example.com/", "https://h.example.com/?api_key=k", "xn--ä.com",
         "ä..example.com", "。", "*.com", "1.2.3.4", "https://h.example.com:0/"]
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), text,
                    st.sampled_from(KEYS + HOSTS), st.dates(), st.datetimes())
keys = st.one_of(st.sampled_from(KEYS), text, st.integers(), st.none(), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20)
# Documents shaped like a config, so the fuzzing reaches past the first checks.
target = st.fixed_dictionaries(
    {"provider": st.one_of(st.sampled_from(["toy", "toy-key", "liana", "liquidplanner"]),
                           values),
     "hosts": st.one_of(st.lists(st.sampled_from(HOSTS), max_size=3), values)},
    optional={k: values for k in ("client_id", "client_secret", "token_url", "key", "tags",
                                  "expires_on", "mode", "scope", "token")})
shaped = st.fixed_dictionaries({}, optional={
    "targets": st.dictionaries(st.one_of(st.sampled_from(["api", "b.c", "x y", "api\n"]), keys),
                               st.one_of(target, values), max_size=3),
    "cache": st.one_of(st.dictionaries(st.sampled_from(["backend", "path", "url", "x"]), values,
                                       max_size=2), values),
    "refresh": st.one_of(st.dictionaries(st.sampled_from(["advisory", "mandatory",
                                                          "min_interval"]),
                                         st.one_of(st.floats(), values), max_size=3), values),
})

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def load_or_config_error(config: Any) -> None:
    try:
        hub = unified_auth.load(config, plugins=[ToyPlugin()])
    except ConfigError:
        return
    hub.close()


@FUZZ
@given(st.one_of(shaped, st.dictionaries(keys, values, max_size=4), values))
def test_any_dict_gives_a_hub_or_a_config_error(config: Any) -> None:
    if not isinstance(config, dict):
        config = {"targets": config}
    load_or_config_error(config)


def toml_value(value: Any) -> str:
    """A tiny TOML writer (inline forms only), enough to feed any shape to the parser."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(max(min(value, 2**63 - 1), -(2**63)))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = {str(k): v for k, v in value.items()}
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in pairs.items()) + "}"
    if value is None:
        return '""'
    return json.dumps(str(value))


@FUZZ
@given(shaped)
def test_any_toml_document_gives_a_hub_or_a_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                         config: dict[str, Any]) -> None:
    lines = []
    for table, content in config.items():
        lines.append(f"{table} = {toml_value(content)}")
    path = tmp_path_factory.mktemp("fuzz") / "c.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    load_or_config_error(path)


@FUZZ
@given(st.text(st.sampled_from('[]{}="\'.,\n targets.api provider hosts toy 1 true #\\'),
               max_size=80))
def test_any_text_gives_a_hub_or_a_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "c.toml"
    path.write_text(text, encoding="utf-8")
    load_or_config_error(path)


@pytest.mark.parametrize("document", [
    "a = " + "[" * 5000 + "]" * 5000,
    "a = " + "{b = " * 5000 + "1" + "}" * 5000,
    "[targets.api]\nprovider = \"toy\"\nhosts = " + "[" * 3000 + "]" * 3000,
], ids=["arrays", "inline tables", "hosts"])
def test_deeply_nested_toml_is_a_config_error(tmp_path: Path, document: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nested too deeply|expected"):
        unified_auth.load(path, plugins=[ToyPlugin()])
