"""What the commands share: ``--config`` and ``--debug`` (on either side of the command name)
and loading the hub.

The group and every command accept both options, so ``unified-auth -c f.toml check`` and
``unified-auth check -c f.toml --debug`` mean the same. The values meet in ``ctx.meta``,
which click shares between a group's context and its command's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

import unified_auth
from unified_auth.cli import logs
from unified_auth.config.loading import CacheSettings

__all__ = ["CLI_DEFAULT_CACHE", "CONFIG", "DEBUG", "complete_targets", "config_option",
           "debug_option", "debug_option_param", "load_hub"]

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
