"""The plugin manager and the one place hooks are called from.

:func:`make_plugin_manager` builds a fresh :class:`pluggy.PluginManager` (never at import
time): the core's own hookimpls, then every entry point of the group ``unified_auth``, then
plugin objects passed in code. :class:`Hooks` is the small typed facade the rest of the core
calls; it turns an unexpected exception from a plugin into a :class:`PluginError` that
names the plugin.

Hooks about one target (``get_credentials``, ``apply_auth``, ``explain_response``,
``target_warnings``, ``probe``) are dispatched by ownership: the core knows which plugin
registered each provider and calls that plugin, not every plugin with a guard clause in
each. Hook wrappers of any plugin still wrap the call, and plugins that register no provider
(observers: audit, policy) are still called for every target. Which implementations take
part is resolved once per hook and provider; when only the owner's does, it is called
directly, which keeps the per-request path O(1) in the number of installed plugins (and
out of sight of pluggy's call tracing, which sees the calls that go through pluggy).

It runs past 300 lines because the facade is the one place hooks are called from (house
rule 3): one typed method per hook, each wrapping a plugin's failure with its name, is the
point, and splitting the methods across modules would give hooks two places to be called.
"""

from __future__ import annotations

import importlib.metadata
import logging
import operator
import re
import traceback
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

import attrs
import pluggy
import requests

from unified_auth import hookspecs
from unified_auth.config import secret_sources
from unified_auth.core.messages import AuthAnswer, AuthRequest
from unified_auth.errors import ConfigError, PluginError, TokenEndpointError, UnifiedAuthError
from unified_auth.events import CredentialsEvent
from unified_auth.model import Credentials, Secret, SecretRef, Target
from unified_auth.notices import Notice, log_notice

__all__ = ["BrokenPlugin", "Hooks", "ProviderInfo", "make_plugin_manager"]

log = logging.getLogger("unified_auth")

CORE_PLUGIN = "unified_auth.config.secret_sources"
_T = TypeVar("_T")
_OWNED_HOOKS = frozenset(
    {"get_credentials", "apply_auth", "auth_headers", "explain_response", "target_warnings",
     "probe"})
_PASSED_THROUGH = (UnifiedAuthError, requests.RequestException, KeyboardInterrupt)
# What a naive get_credentials raises on a garbled answer (response.json() on HTML, a
# missing field, a list where an object was expected): the core owns retries, so these
# are retried like any other bad answer instead of failing at the first try.
_ANSWER_ERRORS = (ValueError, LookupError, TypeError)


@attrs.frozen
class BrokenPlugin:
    """An entry point that failed to load: shown by ``unified-auth plugins``, not fatal."""

    name: str
    value: str
    distribution: str | None
    error: str

    def notice(self) -> Notice:
        """What the user is told about it."""
        return Notice("broken_plugin", f"plugin {self.name!r} (distribution "
                                       f"{self.distribution or 'unknown'}) failed to load and "
                                       f"is skipped: {self.error}")


@attrs.frozen
class ProviderInfo:
    """A registered provider: its options class and the plugin that registered it."""

    name: str
    options_class: type[Any]
    plugin: str


def make_plugin_manager(
    extra_plugins: Iterable[object] = (), *, entry_points: bool = True
) -> tuple[pluggy.PluginManager, list[BrokenPlugin]]:
    """A fresh plugin manager with the core's hooks, the installed plugins and ``extra_plugins``.

    A plugin whose entry point fails to load is skipped with a warning naming its
    distribution, and returned in the list of broken plugins.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(secret_sources, name=CORE_PLUGIN)
    broken: list[BrokenPlugin] = []
    if entry_points:
        for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            dist = ep.dist.name if ep.dist is not None else None
            plugin: object = None
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
                _check_hook_names(pm, plugin)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the rest
                if plugin is not None and pm.is_registered(plugin):
                    pm.unregister(plugin)
                failure = BrokenPlugin(ep.name, ep.value, dist, f"{type(exc).__name__}: {exc}")
                log_notice(log, failure.notice())
                broken.append(failure)
    for plugin in extra_plugins:
        pm.register(plugin, name=_name_for(pm, plugin))
    pm.check_pending()
    return pm, broken


class Hooks:
    """Typed calls of the hooks, each called with keyword arguments from here only."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._plugin_modules = _plugin_modules(pm)
        self._owners: dict[str, str] | None = None
        # Hook name -> provider -> who takes part: filled once per pair, read without a lock.
        self._owned: dict[str, dict[str, _Owned]] = {name: {} for name in _OWNED_HOOKS}

    def providers(self) -> dict[str, ProviderInfo]:
        """Ask every plugin to register its providers; a name taken twice is an error."""
        found: dict[str, ProviderInfo] = {}
        for impl in reversed(self.pm.hook.register_providers.get_hookimpls()):
            plugin = impl.plugin_name

            def register(name: str, options_class: type[Any], *, _plugin: str = plugin) -> None:
                if not isinstance(name, str) or not name:
                    raise PluginError(f"registered a provider with no name: {name!r}",
                                      plugin=_plugin)
                if not (isinstance(options_class, type) and attrs.has(options_class)):
                    raise PluginError(
                        f"provider {name!r}: the options class must be an attrs class, "
                        f"got {options_class!r}", plugin=_plugin)
                if name in found:
                    raise ConfigError(
                        f"provider {name!r} is registered by two plugins: "
                        f"{found[name].plugin!r} and {_plugin!r}; uninstall one of them")
                found[name] = ProviderInfo(name, options_class, _plugin)

            self._call(plugin, impl.function, register=register)
        self._owners = {name: info.plugin for name, info in found.items()}
        for owned in self._owned.values():
            owned.clear()
        return found

    def owner(self, provider: str) -> str | None:
        """The name of the plugin that registered ``provider`` (``None``: nobody did)."""
        return self._owner_map().get(provider)

    def _owner_map(self) -> dict[str, str]:
        if self._owners is None:
            self.providers()
        return self._owners or {}

    def get_credentials(self, target: Target, http: requests.Session,
                        now: datetime) -> Credentials | None:
        try:
            return cast("Credentials | None", self._firstresult(
                "get_credentials", target=target, http=http, now=now))
        except UnifiedAuthError as exc:
            cause = exc.__cause__
            if not (isinstance(exc, PluginError) and isinstance(cause, _ANSWER_ERRORS)):
                raise
            plugin, failure = exc.plugin, cast("BaseException", cause)
        except requests.RequestException as exc:
            # requests' own errors (its JSONDecodeError, a call made outside the token
            # session) are the same passing trouble as the token session's.
            plugin, failure = self._blame(exc), exc
        raise TokenEndpointError(
            f"target {target.name}: plugin {plugin!r} could not read the token endpoint's "
            f"answer ({_answer_error(failure)}); the core retries it, as a garbled answer "
            f"is usually passing", target=target.name) from failure

    def apply_auth(self, target: Target, credentials: Credentials, request: AuthRequest,
                   now: datetime | Callable[[], datetime]) -> bool | None:
        """Apply ``credentials``; ``now`` may be a callable, then called only if a plugin asks."""
        owned = (self._owned["apply_auth"].get(target.provider)
                 or self._resolve("apply_auth", target.provider))
        if owned.direct:
            # The per-request path: the owner alone, called directly.
            if owned.wants_now and not isinstance(now, datetime):
                now = now()
            return cast("bool | None", owned.call(owned.pick((target, credentials, request,
                                                              now))))
        if not isinstance(now, datetime):
            now = now()
        return cast("bool | None", self._firstresult(
            "apply_auth", target=target, credentials=credentials, request=request, now=now))

    def resolve_secret(self, ref: SecretRef) -> Secret | None:
        return cast("Secret | None", self._firstresult("resolve_secret", ref=ref))

    def target_warnings(self, target: Target, now: datetime) -> list[str]:
        results = self._dispatch("target_warnings", target=target, now=now)
        return [warning for result in results if result for warning in result]

    def auth_headers(self, target: Target,
                     credentials: Credentials) -> Mapping[str, str] | None:
        return cast("Mapping[str, str] | None", self._firstresult(
            "auth_headers", target=target, credentials=credentials))

    def explain_response(self, target: Target, response: AuthAnswer) -> str | None:
        return cast("str | None",
                    self._firstresult("explain_response", target=target, response=response))

    def probe(self, target: Target, http: requests.Session) -> str | None:
        return cast("str | None", self._firstresult("probe", target=target, http=http))

    def has_observers(self) -> bool:
        """Whether any plugin implements ``credentials_event`` (wrappers aside)."""
        return any(not (impl.hookwrapper or impl.wrapper)
                   for impl in self.pm.hook.credentials_event.get_hookimpls())

    def credentials_event(self, event: CredentialsEvent) -> None:
        """Tell every observer, each on its own: one that raises is logged and skipped.

        Called from the hub's delivery thread only (:mod:`unified_auth.core.delivery`),
        never from a request's.
        """
        for impl in self.pm.hook.credentials_event.get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                continue  # nothing to wrap: every observer is called on its own
            kwargs = {"event": event} if "event" in impl.argnames else {}
            try:
                impl.function(**kwargs)
            except Exception as exc:  # noqa: BLE001 - an observer must never break a request
                log.warning("plugin %r failed observing a %s event of target %s: %s: %s",
                            impl.plugin_name, event.kind, event.target,
                            type(exc).__name__, exc)

    def _firstresult(self, name: str, **kwargs: Any) -> Any:
        return self._dispatch(name, **kwargs)

    def _dispatch(self, name: str, **kwargs: Any) -> Any:
        """Call hook ``name``: by ownership when it is about a target, else on every plugin."""
        target = kwargs.get("target")
        if name not in _OWNED_HOOKS or not isinstance(target, Target):
            caller = getattr(self.pm.hook, name)
            return self._guarded(lambda: caller(**kwargs))
        owned = self._owned[name].get(target.provider) or self._resolve(name, target.provider)
        if owned.direct:
            result = owned.call(owned.pick(tuple(kwargs[arg] for arg in owned.spec)))
            if owned.firstresult:
                return result
            return [] if result is None else [result]
        subset = owned.subset
        if subset is None:
            return None if owned.firstresult else []
        return self._guarded(lambda: subset(**kwargs))

    def _resolve(self, name: str, provider: str) -> _Owned:
        """Who takes part in hook ``name`` for ``provider``'s targets, worked out once."""
        owners = self._owner_map()
        caller: pluggy.HookCaller = getattr(self.pm.hook, name)
        firstresult = bool(caller.spec and caller.spec.opts.get("firstresult"))
        owner = owners.get(provider)
        # Every other provider's plugin stays out; wrappers and observers stay in.
        foreign = {self.pm.get_plugin(plugin) for plugin in set(owners.values())
                   if plugin != owner}
        impls = [impl for impl in caller.get_hookimpls() if impl.plugin not in foreign]
        if len(impls) == 1 and not (impls[0].wrapper or impls[0].hookwrapper):
            impl = impls[0]
            spec = tuple(caller.spec.argnames) if caller.spec else tuple(impl.argnames)
            owned = _Owned(firstresult, impl.plugin_name, impl.function, spec,
                           tuple(impl.argnames))
        elif impls:
            owned = _Owned(firstresult, owner, subset=self.pm.subset_hook_caller(name, foreign))
        else:
            owned = _Owned(firstresult, owner)
        self._owned[name][provider] = owned
        return owned

    def _guarded(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except _PASSED_THROUGH:
            raise
        except Exception as exc:
            plugin = self._blame(exc)
            raise PluginError(
                f"plugin {plugin!r} failed: {type(exc).__name__}: {exc}; "
                f"this is a bug in that plugin, report it to its authors",
                plugin=plugin,
            ) from exc

    def _call(self, plugin: str, function: Callable[..., _T], **kwargs: Any) -> _T:
        try:
            return function(**kwargs)
        except UnifiedAuthError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {plugin!r} failed: {type(exc).__name__}: {exc}",
                              plugin=plugin) from exc

    def _blame(self, exc: BaseException) -> str:
        """The registered plugin whose code raised ``exc`` (innermost frame wins).

        A frame of a hookimpl names its plugin exactly (two plugins may share a module);
        other frames are attributed by module.
        """
        culprit = "unknown plugin"
        impls = self._impl_codes()
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            if frame.f_code in impls:
                culprit = impls[frame.f_code]
                continue
            module = frame.f_globals.get("__name__", "")
            for prefix, plugin in self._plugin_modules.items():
                if module == prefix or module.startswith(prefix + "."):
                    culprit = plugin
        return culprit

    def _impl_codes(self) -> dict[Any, str]:
        codes: dict[Any, str] = {}
        for caller in vars(self.pm.hook).values():
            if isinstance(caller, pluggy.HookCaller):
                for impl in caller.get_hookimpls():
                    code = getattr(impl.function, "__code__", None)
                    if code is not None and impl.plugin_name is not None:
                        codes.setdefault(code, impl.plugin_name)
        return codes


class _Owned:
    """One hook for one provider: the owner's function alone, or a pluggy subset caller."""

    __slots__ = ("direct", "firstresult", "function", "pick", "plugin", "spec", "subset",
                 "wants_now")

    def __init__(self, firstresult: bool, plugin: str | None,
                 function: Callable[..., Any] | None = None, spec: tuple[str, ...] = (),
                 argnames: tuple[str, ...] = (),
                 subset: pluggy.HookCaller | None = None) -> None:
        self.firstresult = firstresult
        self.plugin = plugin
        self.direct = function is not None
        self.function: Callable[..., Any] = function or _no_function
        self.spec = spec
        self.subset = subset
        self.wants_now = "now" in argnames
        # From the hook's arguments in spec order to the ones this implementation takes.
        positions = [spec.index(name) for name in argnames]
        if len(positions) > 1:
            self.pick: Callable[[tuple[Any, ...]], tuple[Any, ...]] = (
                operator.itemgetter(*positions))
        else:
            self.pick = lambda args: tuple(args[i] for i in positions)

    def call(self, args: tuple[Any, ...]) -> Any:
        try:
            return self.function(*args)
        except _PASSED_THROUGH:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {self.plugin!r} failed: {type(exc).__name__}: {exc}; "
                f"this is a bug in that plugin, report it to its authors",
                plugin=self.plugin or "unknown plugin",
            ) from exc


def _no_function(*args: Any) -> None:
    return None  # an _Owned that is not direct is never called through call()


def _check_hook_names(pm: pluggy.PluginManager, plugin: object) -> None:
    """Refuse a hookimpl no hookspec knows (a misspelled hook would be silently unused)."""
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        if (isinstance(caller, pluggy.HookCaller) and not caller.has_spec()
                and any(impl.plugin is plugin for impl in caller.get_hookimpls())):
            raise pluggy.PluginValidationError(
                plugin, f"unknown hook {name!r}: is it misspelled? "
                        f"(known: {', '.join(sorted(_SPEC_NAMES))})")


_SPEC_NAMES = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name),
                                                          "unified_auth_spec")]


def _plugin_modules(pm: pluggy.PluginManager) -> Mapping[str, str]:
    modules: dict[str, str] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        if isinstance(plugin, types.ModuleType):
            modules[plugin.__name__] = name
        else:
            modules[type(plugin).__module__] = name
    return modules


def _name_for(pm: pluggy.PluginManager, plugin: object) -> str:
    """A name for a plugin passed in code that a message can show.

    pluggy would name an object by its ``id()`` ("plugin '140717694338320' failed"): a
    module keeps its own name, an object is named by its class.
    """
    if isinstance(plugin, types.ModuleType):
        base = plugin.__name__
    else:
        cls = type(plugin)
        base = f"{cls.__module__}.{cls.__qualname__.replace('<locals>.', '')}"
    name, count = base, 1
    while pm.get_plugin(name) is not None or pm.is_blocked(name):
        count += 1
        name = f"{base}#{count}"
    return name


def _answer_error(exc: BaseException) -> str:
    """The kind of parsing error; its text only for a missing key (a field name)."""
    key = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
    # Field names look like this; a random token seldom does, and it must never be shown.
    if isinstance(key, str) and re.fullmatch(r"[a-z]+(_[a-z]+)*", key) and len(key) <= 30:
        return f"KeyError: missing {key!r}"
    return type(exc).__name__
