"""What the commands share: ``--config`` and ``--debug`` (on either side of the command name)
and loading the hub.

The group and every command accept both options, so ``unified-auth -c f.toml check`` and
``unified-auth check -c f.toml --debug`` mean the same. The values meet in ``ctx.meta``,
which click shares between a group's context and its command's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit

import click

import unified_auth
from unified_auth.cli import logs
from unified_auth.config.loading import CacheSettings

__all__ = ["CLI_DEFAULT_CACHE", "CONFIG", "DEBUG", "MAX_URL_LENGTH", "complete_targets",
           "config_option", "debug_option", "debug_option_param", "http_url", "load_hub",
           "named_targets",
           "network_reason", "shown_text", "shown_url"]

_F = TypeVar("_F", bound=Callable[..., Any])

CONFIG = "unified_auth.config.loading"
DEBUG = "unified_auth.debug"
_CONFIG_HELP = ("The config file. Default: $UNIFIED_AUTH_CONFIG, else ./unified-auth.toml, "
                "else unified-auth/config.toml in the user config directory.")


def _remember_config(ctx: click.Context, param: click.Parameter,
                     value: Path | None) -> Path | None:
    before: Path | None = ctx.meta.get(CONFIG)
    if value is None:
        return before
    if before is not None and before != value:
        raise click.BadParameter(f"given twice, as {before} and as {value}: give it once",
                                 ctx=ctx, param=param)
    ctx.meta[CONFIG] = value
    return value


def _remember_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value and not ctx.meta.get(DEBUG):
        ctx.meta[DEBUG] = True
        logs.enable_debug()
    return bool(ctx.meta.get(DEBUG))


def config_option(command: _F) -> _F:
    """``--config F`` / ``-c F``: the config file (default: the library's default config)."""
    option = click.option(
        "--config", "-c", "config_path", metavar="FILE", default=None,
        type=click.Path(dir_okay=False, path_type=Path), callback=_remember_config,
        help=_CONFIG_HELP)
    return option(command)


_DEBUG_HELP = "Show tracebacks and the library's DEBUG logs (on stderr)."


def debug_option_param() -> click.Option:
    """``--debug``: tracebacks and the library's DEBUG logs, on stderr."""
    return click.Option(["--debug"], is_flag=True, expose_value=False,
                        callback=_remember_debug, help=_DEBUG_HELP)


def debug_option(command: _F) -> _F:
    """The ``--debug`` option as a decorator (the group adds it to each command itself)."""
    option = click.option("--debug", is_flag=True, expose_value=False,
                          callback=_remember_debug, help=_DEBUG_HELP)
    return option(command)


def complete_targets(ctx: click.Context, param: click.Parameter,
                     incomplete: str) -> list[str]:
    """Shell completion of a TARGET argument: the names in the config, if it loads."""
    try:
        with load_hub(ctx.meta.get(CONFIG)) as hub:
            names = sorted(hub.targets)
    except Exception:  # noqa: BLE001 - a broken config completes nothing, it never fails
        return []
    return [name for name in names if name.startswith(incomplete)]


# Like the gcloud and aws CLIs, keep tokens between runs: a shell loop calling
# `unified-auth token` then fetches once per lifetime. A [cache] table overrides it.
CLI_DEFAULT_CACHE = CacheSettings(backend="file")


def load_hub(config_path: Path | None) -> unified_auth.UnifiedAuth:
    """The hub for ``config_path`` (or the default config), with the installed plugins.

    Without a ``[cache]`` table in the config, tokens are kept in the file cache in the
    user cache directory (``CLI_DEFAULT_CACHE``).
    """
    return unified_auth.load(config_path, default_cache=CLI_DEFAULT_CACHE)


MAX_URL_LENGTH = 8192
"""The longest URL a command takes: the request line most servers accept."""
_SHOWN = 200
_LISTED = 10
"""Characters of a URL quoted in a message: an error is one line, whatever the input."""
_USERINFO = re.compile(r"//[^/?#]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BRACKETED = re.compile(r"\[[^\[\]]*\](:[^:]*)?")


def shown_url(url: str) -> str:
    """``url`` fit for a message: quoted, escaped, without ``user:password@``, cut short.

    Never raises, whatever the input: it is what the errors about a bad URL quote.
    """
    start = url.find("//")
    if start >= 0:
        userinfo = _USERINFO.match(url, start)
        if userinfo is not None:
            url = url[:start] + "//" + url[userinfo.end():]
    return shown_text(url)


def shown_text(text: str) -> str:
    """``text`` quoted for a message: control characters escaped, cut short; one line."""
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def http_url(url: str, param_hint: str = "URL") -> SplitResult:
    """``url`` parsed, once it is a usable http(s) URL; else a one-line usage error.

    ``which`` and ``request`` take URLs through here, so both refuse the same inputs with
    the same words, before anything is looked up or sent.

    :raises click.BadParameter: saying what is wrong with ``url`` (never quoting a password).
    """
    # Here, not at the top: `unified-auth token` in a shell loop must not pay for it.
    from unified_auth.core.routing import connectable_host  # noqa: PLC0415

    def refuse(why: str) -> click.BadParameter:
        return click.BadParameter(f"{shown_url(url)} {why}", param_hint=param_hint)

    def refuse_scheme() -> click.BadParameter:
        return click.BadParameter(f"expected an http:// or https:// URL, got {shown_url(url)}",
                                  param_hint=param_hint)

    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"is {len(url)} characters long; the limit is {MAX_URL_LENGTH}")
    control = _CONTROL.search(url)
    if control is not None:
        raise refuse(f"holds the control character {control.group()!r}; percent-encode it "
                     f"(%{ord(control.group()):02X}) if it belongs there")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise refuse(_unparsable(url)) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise refuse_scheme()
    authority = parts.netloc.rpartition("@")[2]
    if authority.startswith("[") and not _BRACKETED.fullmatch(authority):
        raise refuse(_BRACKETS)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise refuse("has a bad port: give a number from 1 to 65535, or none")
    host = parts.hostname
    if not host:
        raise refuse("has no host name")
    if connectable_host(host) is None:
        raise click.BadParameter(
            f"{shown_text(host)} in {shown_url(url)} is not a valid host name",
            param_hint=param_hint)
    return parts


_BRACKETS = ("has a bad host: brackets hold an IPv6 address and nothing else, "
             "as in http://[::1]:8080/")


def _unparsable(url: str) -> str:
    if "[" in url or "]" in url:
        return _BRACKETS
    return "has a host with characters that change under Unicode normalisation"


def network_reason(exc: BaseException) -> str:
    """The innermost OS-level reason (\"Connection refused\"), else the exception's type.

    What a message says of a failed connection: never the library's text, which quotes
    URLs (with their query) and object reprs.
    """
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or current in seen:
            continue
        seen.append(current)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending += [current.__cause__, current.__context__,
                    *(a for a in current.args if isinstance(a, BaseException))]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return type(exc).__name__


def named_targets(hub: unified_auth.UnifiedAuth, names: Iterable[str]) -> list[str]:
    """``names``, once each, if the config has them all; else a one-line config error.

    The hub would say the same, but quoting a name whole: a TARGET argument may be any text
    (a pasted screenful, an escape sequence), and the error quotes it escaped and cut short.

    :raises unified_auth.errors.ConfigError: naming the first unknown name and the known ones.
    """
    from unified_auth.errors import ConfigError  # noqa: PLC0415 - as connectable_host

    wanted = list(dict.fromkeys(names))
    for name in wanted:
        if name not in hub.targets:
            known = sorted(hub.targets)
            listed = ", ".join(known[:_LISTED]) or "none"
            if len(known) > _LISTED:
                listed += f" and {len(known) - _LISTED} more"
            raise ConfigError(f"no target named {shown_text(name)}; the config has: {listed}",
                              source=hub.config.source)
    return wanted
