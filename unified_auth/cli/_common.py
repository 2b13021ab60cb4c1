"""What the commands share: the ``--config`` option and loading the hub."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

import unified_auth
from unified_auth.config import CacheSettings

__all__ = ["CLI_DEFAULT_CACHE", "config_option", "load_hub"]

_F = TypeVar("_F", bound=Callable[..., Any])


def config_option(command: _F) -> _F:
    """``--config F`` / ``-c F``: the config file (default: the library's default config)."""
    option = click.option(
        "--config", "-c", "config_path", metavar="FILE", default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The config file. Default: $UNIFIED_AUTH_CONFIG, else ./unified-auth.toml, "
             "else unified-auth/config.toml in the user config directory.")
    return option(command)


# Like the gcloud and aws CLIs, keep tokens between runs: a shell loop calling
# `unified-auth token` then fetches once per lifetime. A [cache] table overrides it.
CLI_DEFAULT_CACHE = CacheSettings(backend="file")


def load_hub(config_path: Path | None) -> unified_auth.UnifiedAuth:
    """The hub for ``config_path`` (or the default config), with the installed plugins.

    Without a ``[cache]`` table in the config, tokens are kept in the file cache in the
    user cache directory (``CLI_DEFAULT_CACHE``).
    """
    return unified_auth.load(config_path, default_cache=CLI_DEFAULT_CACHE)
