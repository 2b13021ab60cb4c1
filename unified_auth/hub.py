"""The hub: a config, the plugins, a broker and caches, and what a script asks of them.

It runs past 300 lines because it is the public API's one object: each method is a
documented hand-off of a few lines to the module that does the work, and the docstrings,
not the code, are most of it.
"""

from __future__ import annotations

import logging
import os
import types
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from unified_auth.cache import CredentialCache, cache_for_settings
from unified_auth.cache.protocol import hold_limit
from unified_auth.clients.requests_adapter import AuthAdapter
from unified_auth.clients.requests_auth import TargetAuth
from unified_auth.config.loading import CacheSettings, Config, load_config
from unified_auth.core.authorise import Authoriser
from unified_auth.core.broker import Broker
from unified_auth.core.clock import Clock, system_clock, to_datetime
from unified_auth.core.delivery import EventDelivery
from unified_auth.core.flow import RequestFlow
from unified_auth.core.messages import AuthRequest, Headers
from unified_auth.core.plugin_manager import BrokenPlugin, Hooks, ProviderInfo, make_plugin_manager
from unified_auth.core.routing import is_loopback
from unified_auth.core.token_session import RetryPolicy, TokenSession
from unified_auth.errors import ConfigError, SecretError
from unified_auth.events import TargetStats
from unified_auth.model import Credentials, Secret, SecretRef, Target
from unified_auth.notices import Notice, log_notice

if TYPE_CHECKING:
    import aiohttp
    import httpx

    from unified_auth.clients.httpx_auth import TargetHttpxAuth
    from unified_auth.clients.httpx_transport import AsyncAuthTransport, AuthTransport

__all__ = ["UnifiedAuth", "load", "load_hub", "session"]

log = logging.getLogger("unified_auth")

ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | None


class UnifiedAuth:
    """Config, plugins and caches in one object. Build it with :func:`unified_auth.load`."""

    notices: tuple[Notice, ...] = ()
    """What :func:`load` found the user should know (and logged once): secrets in clear
    text, plugins that failed to load."""

    def __init__(
        self,
        config: Config,
        hooks: Hooks,
        providers: Mapping[str, ProviderInfo],
        broken_plugins: Iterable[BrokenPlugin],
        *,
        clock: Clock,
        cache: CredentialCache,
        retry: RetryPolicy,
    ) -> None:
        self.config = config
        self.clock = clock
        self.provider_info = types.MappingProxyType(dict(providers))
        self.broken_plugins = tuple(broken_plugins)
        self._hooks = hooks
        self._cache = cache
        self._http = TokenSession(retry)
        self._events = EventDelivery(hooks)
        self.broker = Broker(config.targets.values(), hooks, cache, self._http, clock=clock,
                             refresh=config.refresh, retry=retry, events=self._events)
        self._authoriser = Authoriser(self.broker, hooks, clock)
        self._flow = RequestFlow(config.router, self._authoriser)

    @property
    def targets(self) -> Mapping[str, Target]:
        """Target name -> :class:`Target`."""
        return self.config.targets

    @property
    def providers(self) -> Mapping[str, type[Any]]:
        """Provider name -> its options class."""
        return {name: info.options_class for name, info in self.provider_info.items()}

    def target(self, name: str) -> Target:
        """The target called ``name``; a :class:`ConfigError` lists the known ones."""
        try:
            return self.config.targets[name]
        except KeyError:
            known = ", ".join(sorted(self.config.targets)) or "none"
            shown = repr(name) if len(name) <= 80 else f"{name[:80]!r}... ({len(name)} characters)"
            raise ConfigError(f"no target named {shown}; the config has: {known}",
                              source=self.config.source) from None

    def target_for(self, url: str) -> Target | None:
        """The target whose credentials a request to ``url`` would get, or ``None``."""
        return self.config.router.match(url)

    def session(self) -> requests.Session:
        """A :class:`requests.Session` whose every request gets its host's credentials."""
        http = requests.Session()
        # One adapter per prefix: Session.close() closes each mounted adapter once.
        http.mount("https://", self.adapter())
        http.mount("http://", self.adapter())
        return http

    def adapter(self, **kwargs: Any) -> AuthAdapter:
        """The transport adapter, for mounting on a session of your own."""
        return AuthAdapter(self._flow, **kwargs)

    def auth(self, name: str) -> TargetAuth:
        """A :class:`requests.auth.AuthBase` for one target (``requests.get(url, auth=...)``)."""
        return TargetAuth(self.target(name), self._flow)

    def httpx_client(self, **kwargs: Any) -> httpx.Client:
        """An :class:`httpx.Client` (``kwargs`` passed on) whose every request, redirect hops
        included, gets its host's credentials. Needs the extra ``unified-auth[httpx]``."""
        from unified_auth.clients import httpx_client  # noqa: PLC0415 - an optional extra

        return httpx_client.client(self._flow, **kwargs)

    def httpx_async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An :class:`httpx.AsyncClient`, as :meth:`httpx_client`; token fetches run in a
        worker thread, never on the event loop (asyncio and trio)."""
        from unified_auth.clients import httpx_client  # noqa: PLC0415 - an optional extra

        return httpx_client.async_client(self._flow, **kwargs)

    def httpx_transport(self, inner: httpx.BaseTransport | None = None,
                        **options: Any) -> AuthTransport:
        """An httpx transport that puts each request's credentials on, for a client you
        build (``httpx.Client(transport=ua.httpx_transport())``).

        Without ``inner`` it builds an :class:`httpx.HTTPTransport` from ``options``
        (``proxy=``, ``verify=``, ``retries=``, ...), whose proxy it then knows; a given
        ``inner`` (other than ``httpx.MockTransport`` and the in-process ones) may go
        through a proxy nobody can see, so it carries credentials over https only.
        """
        from unified_auth.clients import httpx_client  # noqa: PLC0415 - an optional extra

        return httpx_client.transport(self._flow, inner, **options)

    def httpx_async_transport(self, inner: httpx.AsyncBaseTransport | None = None,
                              **options: Any) -> AsyncAuthTransport:
        """:meth:`httpx_transport` for an :class:`httpx.AsyncClient`."""
        from unified_auth.clients import httpx_client  # noqa: PLC0415 - an optional extra

        return httpx_client.async_transport(self._flow, inner, **options)

    def httpx_auth(self, name: str) -> TargetHttpxAuth:
        """An :class:`httpx.Auth` for one target (sync and async), for clients you don't build."""
        from unified_auth.clients.httpx_auth import TargetHttpxAuth  # noqa: PLC0415 - optional extra

        return TargetHttpxAuth(self.target(name), self._flow)

    def aiohttp_session(self, **kwargs: Any) -> aiohttp.ClientSession:
        """An :class:`aiohttp.ClientSession` (``kwargs`` passed on) whose every request,
        redirect hops included, gets its host's credentials, through aiohttp's client
        middlewares (after any of yours). Make it in a coroutine, as aiohttp requires; a
        token fetch runs in a worker thread. Needs the extra ``unified-auth[aiohttp]``."""
        try:
            from unified_auth.clients import aiohttp_session  # noqa: PLC0415 - optional extra
        except ImportError as exc:
            if exc.name not in ("aiohttp", "anyio"):
                raise
            raise ImportError(f"ua.aiohttp_session() needs aiohttp 3.12 or newer and anyio "
                              f"({exc}): pip install 'unified-auth[aiohttp]'",
                              name=exc.name) from None
        return aiohttp_session.session(self._flow, **kwargs)

    def credentials(self, name: str) -> Credentials:
        """The target's current credentials, fetched or cached."""
        return self.broker.credentials_for(self.target(name))

    def stats(self, name: str) -> TargetStats:
        """The target's counts: fetches, background refreshes, failed fetches, 401s, expiry."""
        return self.broker.stats(self.target(name))

    def flush_events(self, timeout: float = 5.0) -> bool:
        """Wait, at most ``timeout`` seconds, until the ``credentials_event`` observers saw
        every event so far: they run in the hub's delivery thread, a moment after the call
        that caused the event returned. For tests, and a report before exit.

        :returns: ``True`` when every event was delivered, ``False`` on timeout (an
            observer is still busy) or when called from an observer.
        """
        return self._events.flush(timeout)

    def headers(self, name: str, url: str | None = None) -> dict[str, str]:
        """The headers the target's credentials put on a GET of ``url`` (default: its first host).

        For shell scripts (``unified-auth token --header``); a signature made for one URL is
        not valid for another.
        """
        target = self.target(name)
        url = url or _url_of(target.hosts[0])
        request = AuthRequest("GET", url, Headers())
        self._authoriser.apply(self.broker.lease(target), request)
        return dict(request.headers)

    def probe(self, name: str) -> str | None:
        """Who the target's credentials act as, asked of the API by the target's plugin.

        One harmless authenticated call (the ``probe`` hook) through a session of this hub.
        ``None`` when the provider has nothing to call; a refusal raises
        :class:`~unified_auth.errors.AuthFailed` or :class:`~unified_auth.errors.AccessDenied`.
        """
        target = self.target(name)
        with self.session() as http:
            return self._hooks.probe(target, http)

    def warnings(self, name: str) -> list[str]:
        """What the user should know about a target: from its plugin and from the core."""
        target = self.target(name)
        found = [f"{origin.key} is written in clear text in {origin.source}; keep it in the "
                 f"environment, a file, the keyring or a command instead"
                 for origin in self.config.clear_text if origin.target == name]
        found += [f"{host} is reached over plain http: credentials would cross the network "
                  f"unencrypted" for host in target.hosts
                  if host.startswith("http://") and not _loopback_url(host)]
        found += self._hooks.target_warnings(target, to_datetime(self.clock()))
        return found

    def close(self) -> None:
        """Let the fetches in flight end (a background refresh writing the shared cache)
        and deliver the pending events, waiting at most 5 s for each, then close the
        token session and the cache."""
        self.broker.wait_for_fetches(timeout=5.0)
        self._events.close(timeout=5.0)
        self._http.close()
        self._cache.close()

    def __enter__(self) -> UnifiedAuth:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<UnifiedAuth {self.config.source} targets={sorted(self.config.targets)}>"


def load(
    config: ConfigSource = None,
    *,
    plugins: Iterable[object] = (),
    clock: Clock | None = None,
    cache: CredentialCache | None = None,
    retry: RetryPolicy | None = None,
    default_cache: CacheSettings | None = None,
) -> UnifiedAuth:
    """Load a config (a TOML path, a dict of the same schema, or the default) into a hub.

    :param plugins: plugin objects to register besides the installed ones.
    :param clock: seconds since the epoch, like :func:`time.time` (tests pass a
        :class:`unified_auth.testing.ManualClock`).
    :param cache: a credential cache instead of the one the config's ``[cache]`` names.
    :param retry: timeouts and retry bounds for token requests, and how to pause between
        retries (tests pass ``RetryPolicy(sleep=lambda seconds: None)``).
    :param default_cache: the cache to use when the config has no ``[cache]`` table
        (the CLI keeps tokens in a file between runs); default: memory.
    """
    return load_hub(config, plugins=plugins, installed_plugins=True, clock=clock, cache=cache,
                    retry=retry, default_cache=default_cache)


def load_hub(
    config: ConfigSource,
    *,
    plugins: Iterable[object],
    installed_plugins: bool,
    clock: Clock | None = None,
    cache: CredentialCache | None = None,
    retry: RetryPolicy | None = None,
    default_cache: CacheSettings | None = None,
) -> UnifiedAuth:
    """:func:`load`, with a choice whether the installed plugins (entry points) take part.

    Tests choose through :func:`unified_auth.testing.load_isolated`; ``load`` always loads
    them.
    """
    pm, broken = make_plugin_manager(plugins, entry_points=installed_plugins)
    hooks = Hooks(pm)
    providers = hooks.providers()
    parsed = load_config(config, providers)
    clock = clock or system_clock
    clear_text = [Notice(
        "clear_text_secret", f"{origin}: a secret is written in clear text; use "
        f"{{ env = ... }}, {{ file = ... }}, {{ keyring = ... }} or {{ command = ... }}",
        target=origin.target) for origin in parsed.clear_text if origin.source != "<dict>"]
    for notice in clear_text:
        log_notice(log, notice)
    retry = retry or RetryPolicy()
    hub = UnifiedAuth(parsed, hooks, providers, broken, clock=clock,
                      cache=cache or _cache_for(parsed, clock, hooks, default_cache, retry),
                      retry=retry)
    hub.notices = (*(plugin.notice() for plugin in broken), *clear_text)
    return hub


def session(config: ConfigSource = None, **kwargs: Any) -> requests.Session:
    """A :class:`requests.Session` for ``config``: shorthand for ``load(config).session()``."""
    return load(config, **kwargs).session()


def _cache_for(config: Config, clock: Clock, hooks: Hooks, default: CacheSettings | None,
               retry: RetryPolicy) -> CredentialCache:
    settings = config.cache if config.cache_given or default is None else default

    def resolve(ref: SecretRef) -> Secret:
        secret = hooks.resolve_secret(ref)
        if secret is None:
            raise SecretError(f"no installed plugin resolves secret references of kind "
                              f"{ref.kind!r}", source=config.source, key="cache.password")
        return secret

    return cache_for_settings(settings, clock, resolve, source=config.source,
                              hold_limit=hold_limit(retry))


def _loopback_url(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname or "")


def _url_of(host_pattern: str) -> str:
    if "://" in host_pattern:
        return host_pattern
    return "https://" + host_pattern.removeprefix("*.") + "/"
