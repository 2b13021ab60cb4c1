"""From a TOML file or a dict to validated targets; every error names file, target and key.

A target's ``provider`` and ``hosts`` belong to the core; its other keys are the provider's
options, validated by constructing the provider's attrs options class. Keys typed
:class:`~unified_auth.Secret` take secret references (``{ env = "NAME" }``, ``{ file = ...}``,
``{ keyring = ... }``, ``{ command = ... }``), kept unresolved here: the broker resolves them
at first use.

Type hints are checked and converted in :mod:`unified_auth.config.types`. What stays here is
one job, checking every table of the file (targets, hosts, ``[cache]``, ``[refresh]``) with
a message naming file, target and key for each way it can be wrong; that is why it runs
past 300 lines.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import attrs
import platformdirs

from unified_auth.config.types import (
    Mismatch,
    allows_none,
    coerce,
    describe_type,
    is_secret_type,
    kind_of,
)
from unified_auth.core.plugin_manager import ProviderInfo
from unified_auth.core.routing import HostPattern, RouteConflict, Router
from unified_auth.errors import DOCS_URL, ConfigError, PluginError
from unified_auth.model import Origin, Secret, SecretRef, Target

__all__ = [
    "CacheSettings",
    "Config",
    "RefreshSettings",
    "default_config_path",
    "load_config",
]

CONFIG_ENV = "UNIFIED_AUTH_CONFIG"
DICT_SOURCE = "<dict>"
_CORE_KEYS = ("provider", "hosts")
_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # fullmatch: no "\n" at the end


@attrs.frozen
class CacheSettings:
    """The ``[cache]`` table: where fetched credentials are kept."""

    backend: Literal["memory", "file", "redis"] = "memory"
    path: str | None = None
    url: str | None = None
    password: SecretRef | None = None
    """The Redis password, as a secret reference (never in the URL)."""
    key_prefix: str = "unified-auth:"
    """Redis: the namespace of this application's keys on a shared server."""
    timeout: float = 2.0
    """Redis: seconds any one call (connect, read, write) may take."""
    lock_timeout: float = 10.0
    """Redis: the fetch lock's lifetime if its holder dies; a live holder renews it for as
    long as it fetches (the file lock is freed by the operating system when its holder
    dies, so this is not needed there)."""


@attrs.frozen
class RefreshSettings:
    """The ``[refresh]`` table: refresh windows as fractions of a token's lifetime."""

    advisory: float = 0.75
    mandatory: float = 0.9
    min_interval: float = 5.0


@attrs.frozen
class Config:
    """A validated configuration."""

    source: str
    targets: Mapping[str, Target]
    router: Router[Target] = attrs.field(repr=False)
    cache: CacheSettings = CacheSettings()
    refresh: RefreshSettings = RefreshSettings()
    clear_text: tuple[Origin, ...] = ()
    cache_given: bool = False
    """Whether the config has a ``[cache]`` table (else the CLI uses its file default)."""


def default_config_path() -> Path:
    """``$UNIFIED_AUTH_CONFIG``, else ``./unified-auth.toml``, else the user config dir's."""
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    local = Path("unified-auth.toml")
    if local.is_file():
        return local
    return Path(platformdirs.user_config_dir("unified-auth", appauthor=False)) / "config.toml"


def load_config(
    config: str | os.PathLike[str] | Mapping[str, Any] | None,
    providers: Mapping[str, ProviderInfo],
) -> Config:
    """Read and validate ``config`` (a path, a dict of the same schema, or ``None``)."""
    source, raw = _read(config)
    return _Builder(source, providers).build(raw)


def _read(config: str | os.PathLike[str] | Mapping[str, Any] | None) -> tuple[str, Any]:
    if isinstance(config, Mapping):
        return DICT_SOURCE, config
    explicit = config is not None
    path = Path(config).expanduser() if config is not None else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError("the config file does not exist", source=str(path)) from None
        if os.environ.get(CONFIG_ENV):
            raise ConfigError(f"the config file does not exist (the path comes from "
                              f"${CONFIG_ENV}); fix or unset the variable",
                              source=str(path)) from None
        raise ConfigError(
            f"no config found: looked at ${CONFIG_ENV}, ./unified-auth.toml and {path}; "
            f"create one (see {DOCS_URL}config/) or pass its path") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the path
        raise ConfigError(f"the config file cannot be read: {type(exc).__name__}",
                          source=str(path).replace("\0", "\\0")) from None
    try:
        return str(path), tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=str(path)) from None
    except RecursionError:
        raise ConfigError("not a usable config: arrays or tables nested too deeply",
                          source=str(path)) from None


class _Builder:
    def __init__(self, source: str, providers: Mapping[str, ProviderInfo]) -> None:
        self.source = source
        self.providers = providers
        self.clear_text: list[Origin] = []
        self.claims: list[tuple[HostPattern, str]] = []
        # Per options class, not per target: resolving type hints is most of a target's cost.
        self.schemas: dict[type[Any], tuple[dict[str, attrs.Attribute[Any]],
                                            dict[str, Any]]] = {}

    def error(self, message: str, target: str | None = None,
              key: object = None) -> ConfigError:
        # A dict config may have keys of any type; a message shows them as text.
        return ConfigError(message, source=self.source, target=target,
                           key=None if key is None else str(key))

    def build(self, raw: Any) -> Config:
        try:
            return self._build(raw)
        except RecursionError:
            raise self.error("not a usable config: values nested too deeply") from None

    def _build(self, raw: Any) -> Config:
        if not isinstance(raw, Mapping):
            raise self.error(f"expected a table at the top level, got {kind_of(raw)}")
        unknown = set(raw) - {"targets", "cache", "refresh"}
        if unknown:
            first = sorted(unknown, key=repr)[0]
            raise self.error(f"unknown top-level table {first!r}; "
                             f"{_did_you_mean(first, ['targets', 'cache', 'refresh'])}"
                             f"expected [targets.NAME], [cache] or [refresh]")
        tables = raw.get("targets", {})
        if not isinstance(tables, Mapping):
            raise self.error(f"expected [targets.NAME] tables, got {kind_of(tables)}",
                             key="targets")
        targets = {name: self.target(name, table) for name, table in tables.items()}
        try:
            router = Router((pattern, targets[name]) for pattern, name in self.claims)
        except RouteConflict as exc:
            first, second = typing.cast(tuple[Target, Target], (exc.first, exc.second))
            if first.name == second.name:
                raise self.error(f"{exc.pattern.text!r} is listed twice", target=first.name,
                                 key="hosts") from None
            raise self.error(
                f"{exc.pattern.text!r} is claimed by both targets {first.name!r} and "
                f"{second.name!r}; a host (or URL prefix) may belong to one target only",
                target=second.name, key="hosts") from None
        return Config(
            source=self.source,
            targets=types.MappingProxyType(targets),
            router=router,
            cache=self.cache(raw.get("cache", {})),
            refresh=self.refresh(raw.get("refresh", {})),
            clear_text=tuple(self.clear_text),
            cache_given="cache" in raw,
        )

    def target(self, name: Any, table: Any) -> Target:
        if not isinstance(name, str) or not _TARGET_NAME.fullmatch(name):
            raise self.error(f"{name!r} is not a valid target name: use letters, digits, "
                             f"'-', '_' and '.'", key="targets")
        if not isinstance(table, Mapping):
            raise self.error(f"expected a table of settings, got {kind_of(table)}", name)
        provider = table.get("provider")
        if provider is None:
            raise self.error(f"missing; expected one of the installed providers: "
                             f"{_listing(self.providers)}", name, "provider")
        if not isinstance(provider, str):
            raise self.error(f"expected a provider name, got {kind_of(provider)}; installed "
                             f"providers: {_listing(self.providers)}", name, "provider")
        if provider not in self.providers:
            raise self.error(f"unknown provider {provider!r}; "
                             f"{_did_you_mean(str(provider), list(self.providers))}"
                             f"installed providers: "
                             f"{_listing(self.providers)} (is its plugin installed?)",
                             name, "provider")
        # Unknown keys first: `host = ...` is a typo of hosts, not a missing hosts.
        known = ["provider", "hosts", *(f.alias for f in attrs.fields(
            self.providers[provider].options_class) if f.init)]
        for key in table:
            if key not in known:
                raise self.error(f"unknown key for provider {provider!r}; "
                                 f"{_did_you_mean(key, known)}expected one of: "
                                 f"{', '.join(known)}", name, str(key))
        hosts = table.get("hosts")
        if isinstance(hosts, str):
            hosts = [hosts]
        if not isinstance(hosts, list | tuple) or not hosts:
            raise self.error("missing or empty; expected a list of hosts, e.g. "
                             "[\"api.example.com\"]", name, "hosts")
        for index, host in enumerate(hosts):
            where = f"hosts[{index}]"
            if isinstance(host, str) and _carries_credentials(host):
                raise self.error(
                    f"{_shown_host(host)!r}: a host pattern must not carry a user name, "
                    f"password or query (they are not shown here); put credentials in the "
                    f"target's secret keys", name, where)
            try:
                self.claims.append((HostPattern.parse(host), name))
            except ValueError as exc:
                message = str(exc)
                if isinstance(host, str):
                    message = message.replace(host.strip(), _shown_host(host.strip()))
                raise self.error(message, name, where) from None
        info = self.providers[provider]
        options = {k: v for k, v in table.items() if k not in _CORE_KEYS}
        return Target(
            name=name,
            provider=provider,
            hosts=tuple(hosts),
            options=self.options(info, name, options),
            source=self.source,
        )

    def schema(self, info: ProviderInfo) -> tuple[dict[str, attrs.Attribute[Any]],
                                                  dict[str, Any]]:
        """The options class's init fields by key, and its resolved type hints."""
        cls = info.options_class
        known = self.schemas.get(cls)
        if known is not None:
            return known
        fields = {f.alias: f for f in attrs.fields(cls) if f.init}
        try:
            hints = typing.get_type_hints(cls)
        except Exception as exc:  # noqa: BLE001 - NameError, TypeError...: all mean the same
            # Without the hints a Secret field would take a clear-text string as a plain
            # str, shown in reprs: refuse rather than guess.
            raise PluginError(
                f"provider {info.name!r}: the type hints of {cls.__name__} cannot be "
                f"resolved ({type(exc).__name__}: {exc}); import the types it names (Secret, "
                f"date) at run time, not only under TYPE_CHECKING", plugin=info.plugin) from None
        self.schemas[cls] = fields, hints
        return fields, hints

    def options(self, info: ProviderInfo, target: str, raw: Mapping[str, Any]) -> Any:
        cls = info.options_class
        fields, hints = self.schema(info)
        for key in raw:
            if key not in fields:
                raise self.error(f"unknown key for provider {info.name!r}; expected one of: "
                                 f"{', '.join(['provider', 'hosts', *fields])}", target, key)
        values: dict[str, Any] = {}
        for key, field in fields.items():
            expected = hints.get(field.name, Any)
            if key not in raw:
                if field.default is attrs.NOTHING:
                    raise self.error(f"missing; the {info.name!r} provider needs it "
                                     f"(expected {describe_type(expected)})", target, key)
                continue
            origin = Origin(self.source, target, key)
            values[key] = self.value(raw[key], expected, origin)
        for key, value in values.items():
            self.check_validator(fields[key], value, target, key)
        try:
            return cls(**values)
        except ConfigError as exc:
            # A check of several keys together (in __attrs_post_init__) pins its error to
            # the key it is about by raising ConfigError(message, key=...).
            detail = str(exc).removeprefix(f"{exc.key}: ") if exc.key else str(exc)
            raise self.error(f"invalid value: {detail}", target, exc.key) from None
        except (TypeError, ValueError) as exc:
            # A validator that needs the whole instance (or checks several keys together)
            # fails only here, where the key it meant cannot be known for certain.
            raise self.error(f"invalid value: {exc}", target) from None

    def check_validator(self, field: attrs.Attribute[Any], value: Any, target: str,
                        key: str) -> None:
        """Run one field's validator alone, so its error is pinned to its key."""
        if field.validator is None or isinstance(value, SecretRef):
            return
        try:
            field.validator(None, field, value)
        except (TypeError, ValueError) as exc:
            raise self.error(f"invalid value: {exc}", target, key) from None
        except Exception:  # noqa: BLE001, S110 # nosec B110 # it needs the instance: construction decides
            pass

    def value(self, value: Any, expected: Any, origin: Origin) -> Any:
        if is_secret_type(expected):
            return self.secret(value, origin, optional=allows_none(expected))
        try:
            return coerce(value, expected)
        except Mismatch as exc:
            raise self.error(str(exc), origin.target, origin.key) from None

    def secret(self, value: Any, origin: Origin, *, optional: bool) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, Secret):
            return value
        if isinstance(value, SecretRef):
            return attrs.evolve(value, origin=origin)
        if isinstance(value, str):
            self.clear_text.append(origin)
            return Secret(value)
        example = '{ env = "NAME" }, { file = "PATH" }, { keyring = "SERVICE" } or ' \
                  '{ command = "..." }'
        if not isinstance(value, Mapping):
            raise self.error(f"expected a secret reference such as {example}, "
                             f"got {kind_of(value)}", origin.target, origin.key)
        kinds = [k for k in value if k != "username"]
        if len(kinds) != 1 or not isinstance(kinds[0], str):
            raise self.error(f"expected exactly one source in the secret reference, such "
                             f"as {example}; got keys {sorted(map(str, value))}",
                             origin.target, origin.key)
        kind = kinds[0]
        location, username = value[kind], value.get("username")
        if not isinstance(location, str) or not location.strip():
            raise self.error(f"the secret reference's {kind!r} must be a non-empty string",
                             origin.target, origin.key)
        if username is not None and not isinstance(username, str):
            raise self.error("the secret reference's 'username' must be a string",
                             origin.target, origin.key)
        return SecretRef(kind, location, username, origin)

    def table(self, cls: type[Any], raw: Any, name: str) -> Any:
        if not isinstance(raw, Mapping):
            raise self.error(f"expected a table, got {kind_of(raw)}", key=name)
        hints = typing.get_type_hints(cls)
        known = {f.alias for f in attrs.fields(cls)}
        values = {}
        for key, value in raw.items():
            if key not in known:
                raise self.error(f"unknown key; {_did_you_mean(key, known)}expected one of: "
                                 f"{', '.join(sorted(known))}", key=f"{name}.{key}")
            try:
                values[key] = coerce(value, hints.get(key, Any))
            except Mismatch as exc:
                raise self.error(str(exc), key=f"{name}.{key}") from None
        return cls(**values)

    def cache(self, raw: Any) -> CacheSettings:
        if not isinstance(raw, Mapping):
            raise self.error(f"expected a table, got {kind_of(raw)}", key="cache")
        password = raw.get("password")
        rest = {k: v for k, v in raw.items() if k != "password"}
        settings: CacheSettings = self.table(CacheSettings, rest, "cache")
        if password is not None:
            if not isinstance(password, Mapping):
                raise self.error('expected a secret reference such as { env = '
                                 '"REDIS_PASSWORD" }; a password is never written in the '
                                 'config', key="cache.password")
            ref = self.secret(password, Origin(self.source, "", "cache.password"),
                              optional=False)
            settings = attrs.evolve(settings, password=ref)
        if settings.url is not None:
            parts = urlsplit(settings.url)
            if parts.scheme not in ("redis", "rediss"):
                raise self.error("expected a redis:// or rediss:// URL", key="cache.url")
            try:
                has_password = parts.password is not None or "password" in parse_qs(parts.query)
            except ValueError:
                has_password = True
            if has_password:
                # The URL is not quoted: it holds a password.
                raise self.error("the URL contains a password; take it out and set "
                                 "password = { env = \"REDIS_PASSWORD\" } (or another "
                                 "secret reference) instead", key="cache.url")
        if settings.timeout <= 0 or settings.lock_timeout <= 0:
            raise self.error("expected a number of seconds > 0",
                             key="cache.timeout" if settings.timeout <= 0
                             else "cache.lock_timeout")
        return settings

    def refresh(self, raw: Any) -> RefreshSettings:
        settings: RefreshSettings = self.table(RefreshSettings, raw, "refresh")
        if not 0 < settings.advisory <= settings.mandatory < 1:
            raise self.error("expected 0 < advisory <= mandatory < 1 (fractions of a "
                             "token's lifetime, e.g. 0.75 and 0.9)", key="refresh")
        if not (math.isfinite(settings.min_interval) and settings.min_interval >= 0):
            raise self.error("expected a number of seconds >= 0", key="refresh.min_interval")
        return settings


def _did_you_mean(key: object, known: typing.Iterable[str]) -> str:
    """``"did you mean 'hosts'? "`` for the closest known name, or ``""`` if none is close."""
    if not isinstance(key, str):
        return ""  # a dict config's key may be anything; a typo is a string
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _carries_credentials(host: str) -> bool:
    """Whether a host pattern holds a user name, password or query: all may be secrets."""
    if "://" not in host:
        return "@" in host or "?" in host
    try:
        parts = urlsplit(host.strip())
        return bool(parts.username is not None or parts.password is not None or parts.query)
    except ValueError:
        return "@" in host or "?" in host


def _shown_host(host: str) -> str:
    """``host`` fit for a message: user info and query values replaced by ``***``."""
    text = re.sub(r"(?<=://)[^/?#]*@", "***@", host) if "://" in host \
        else re.sub(r"^[^/?#]*@", "***@", host)
    return re.sub(r"([?&][^=&#]*=)[^&#]*", r"\1***", text)


def _listing(providers: Mapping[str, ProviderInfo]) -> str:
    return ", ".join(sorted(providers)) or "none (install a provider plugin)"
