"""A hub whose plugins are exactly the ones a test names, whatever else is installed."""

from __future__ import annotations

from collections.abc import Iterable

from unified_auth.cache import CredentialCache
from unified_auth.core.clock import Clock
from unified_auth.core.token_session import RetryPolicy
from unified_auth.hub import ConfigSource, UnifiedAuth, load_hub

__all__ = ["load_isolated"]


def load_isolated(
    config: ConfigSource = None,
    *,
    plugins: Iterable[object] = (),
    clock: Clock | None = None,
    cache: CredentialCache | None = None,
    retry: RetryPolicy | None = None,
) -> UnifiedAuth:
    """:func:`unified_auth.load` with only ``plugins`` (and the core's secret sources).

    The installed plugins (the entry points of the group ``unified_auth``) are left out, so
    a plugin's tests see their own plugin and no other, whatever the environment has
    installed, and each call gets a fresh plugin manager.

    :param config: as for :func:`unified_auth.load`: a TOML path, a dict, or the default.
    :param plugins: the plugin objects (modules or instances) under test.
    :param clock: seconds since the epoch; pass the :class:`ManualClock` an emulator reads.
    :param cache: a credential cache instead of the one the config's ``[cache]`` names.
    :param retry: timeouts and retry bounds; ``RetryPolicy(sleep=lambda seconds: None)``
        retries without pausing.
    :returns: the hub.
    """
    return load_hub(config, plugins=plugins, installed_plugins=False, clock=clock,
                    cache=cache, retry=retry)
