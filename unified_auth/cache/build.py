"""From the ``[cache]`` settings to a cache object."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs

from unified_auth.cache.file import FileStore
from unified_auth.cache.layered import LayeredCache
from unified_auth.cache.memory import MemoryCache
from unified_auth.cache.protocol import HOLD_LIMIT, CredentialCache
from unified_auth.config.loading import CacheSettings
from unified_auth.core.clock import Clock
from unified_auth.errors import ConfigError
from unified_auth.model import Secret, SecretRef

__all__ = ["cache_for_settings", "default_file_cache_dir"]


def default_file_cache_dir() -> Path:
    """``unified-auth`` in the user cache directory (``$XDG_CACHE_HOME`` on Linux)."""
    return Path(platformdirs.user_cache_dir("unified-auth", appauthor=False))


def cache_for_settings(
    settings: CacheSettings,
    clock: Clock,
    resolve: Callable[[SecretRef], Secret],
    *,
    source: str | None = None,
    hold_limit: float = HOLD_LIMIT,
) -> CredentialCache:
    """The cache ``settings`` describe; nothing is opened or connected until first use.

    :param resolve: turns the Redis password's secret reference into a :class:`Secret`.
    :param source: the config file, for error messages.
    :param hold_limit: the longest one fetch may hold the lock (from the hub's retry policy).
    """
    if settings.backend == "memory":
        return MemoryCache(clock)
    if settings.backend == "file":
        directory = Path(settings.path).expanduser() if settings.path else \
            default_file_cache_dir()
        return LayeredCache(FileStore(directory, lock_timeout=settings.lock_timeout,
                                      source=source, hold_limit=hold_limit), clock)
    try:
        import redis  # noqa: F401, PLC0415 - only the redis backend needs it
    except ImportError:
        raise ConfigError("the redis backend needs the redis package: "
                          "pip install 'unified-auth[redis]'", source=source,
                          key="cache.backend") from None
    from unified_auth.cache.redis import RedisStore  # noqa: PLC0415

    if not settings.url:
        raise ConfigError('missing; the redis backend needs url = "redis://HOST:6379/0"',
                          source=source, key="cache.url")
    password = settings.password
    resolver: Callable[[], Secret] | None = None
    if isinstance(password, SecretRef):
        ref = password
        resolver = lambda: resolve(ref)  # noqa: E731 - resolved at first connection
    store = RedisStore(settings.url, password=resolver, key_prefix=settings.key_prefix,
                       timeout=settings.timeout, lock_timeout=settings.lock_timeout,
                       hold_limit=hold_limit)
    return LayeredCache(store, clock)
