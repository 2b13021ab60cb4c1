"""The hooks a unified-auth plugin implements. These docstrings are the plugin author's reference.

A plugin is a module (or object) with functions marked ``@unified_auth.hookimpl`` and named
after the hooks below, made known through an entry point in the group ``unified_auth``::

    [project.entry-points.unified_auth]
    acme = "unified_auth_acme"

A plugin only knows how to *fetch* credentials and how to *apply* them. Caching, refresh
before expiry, single flight, retries with backoff, 401 handling and redaction belong to the
core, so every plugin gets them for free.

Hooks are called with keyword arguments; an implementation may accept any subset of them.
Returning ``None`` from a hook means "not mine": never return ``False`` or ``""`` to say no,
as that stops the chain of a firstresult hook.

The hooks about a target (all but ``register_providers`` and ``resolve_secret``) are called
on the plugin that registered the target's provider, not on every plugin: an implementation
never sees another plugin's target and needs no ``target.provider`` check (a plugin with
several providers looks it up to choose among its own). Hook wrappers and plugins that
register no provider still see every target.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from unified_auth.core.messages import AuthAnswer, AuthRequest
    from unified_auth.events import CredentialsEvent
    from unified_auth.model import Credentials, Secret, SecretRef, Target

PROJECT = "unified_auth"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

RegisterProvider = Callable[[str, type[Any]], None]
"""The type of ``register_providers``' ``register``: ``register(name, options_class)``."""


@hookspec
def register_providers(register: RegisterProvider) -> None:
    """Register the providers this plugin offers.

    Called once, when the hub is loaded, before the config is read.

    :param register: call ``register(name, options_class)`` for each provider. ``name`` is
        what a target's ``provider`` key says (``"liana"``); ``options_class`` is an attrs
        class whose fields are that provider's config keys. The core validates a target by
        constructing it, so a missing key, an unknown key or a wrong type is reported with
        the file, target and key. Fields typed :class:`~unified_auth.Secret` accept secret
        references (``{ env = "NAME" }``...), resolved lazily by the core.
    :returns: nothing.
    """


@hookspec(firstresult=True)
def get_credentials(
    target: Target, http: requests.Session, now: datetime
) -> Credentials | None:
    """Fetch fresh credentials for ``target``, or return ``None`` if it isn't yours.

    Called by the core when it has no usable cached credentials: on first use, when a token
    enters its refresh window, and after the API rejected the previous ones. Never called
    on the per-request path when cached credentials are valid.

    :param target: the target, with every :class:`~unified_auth.Secret` option resolved;
        always one of your providers' targets (the core calls the provider's plugin only).
    :param http: a :class:`requests.Session` to fetch with. It has default timeouts, does
        not follow redirects, refuses plain http to hosts other than loopback, and raises
        :class:`~unified_auth.errors.TokenEndpointError` for 5xx answers and connection
        failures; the core retries those with backoff.
    :param now: the aware UTC time the core took just before calling; compute
        ``expires_at`` as ``now + expires_in`` so a lifetime counts from when the request
        was sent.
    :returns: :class:`~unified_auth.Credentials`, or ``None`` when the target isn't yours.
        Raise :class:`~unified_auth.errors.CredentialsRejected` when the provider refuses
        the client (wrong id or secret: not retried) and
        :class:`~unified_auth.errors.TokenEndpointError` for an answer you cannot use
        (retried).

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def apply_auth(
    target: Target, credentials: Credentials, request: AuthRequest, now: datetime
) -> bool | None:
    """Put ``credentials`` on ``request``: a signature, whatever depends on the request.

    Called on the per-request path for every request to one of the target's hosts whose
    plugin has no :func:`auth_headers` for it, on a copy of the caller's request, so
    whatever you set never follows a redirect elsewhere. Keep it cheap: no I/O, no locks.

    :param target: the target the request goes to, with secrets resolved.
    :param credentials: the current credentials, as returned by ``get_credentials``.
    :param request: an :class:`~unified_auth.AuthRequest`, whichever HTTP client sends
        it: ``method``, ``url``, ``headers`` (a mutable case-insensitive mapping) and
        ``body`` (bytes, ``None``, or a stream a signer must refuse). Mutate it in place;
        code written against :class:`requests.PreparedRequest`'s attributes of those names
        works unchanged.
    :param now: the aware UTC time, from the hub's clock (for a signature's timestamp).
    :returns: ``True`` when you applied the credentials, ``None`` if the target isn't yours.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def auth_headers(target: Target, credentials: Credentials) -> Mapping[str, str] | None:
    """The headers that carry ``credentials`` when they are the same on every request.

    Optional, and the cheap path: the core calls it once per lease (not per request) and
    puts the headers on each request itself, without calling :func:`apply_auth`. Bearer
    tokens, HTTP Basic and API keys fit; a signer, whose headers depend on the request,
    returns ``None`` (or doesn't implement it) and implements ``apply_auth``.
    ``unified_auth.bearer_headers(credentials)`` is the Bearer case.

    :param target: the target, with secrets resolved.
    :param credentials: the current credentials, as returned by ``get_credentials``.
    :returns: header name -> value (each a single line of text), or ``None``.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def resolve_secret(ref: SecretRef) -> Secret | None:
    """Turn a secret reference into a :class:`~unified_auth.Secret`.

    Called at a target's first use and again after the provider rejected its credentials
    (the secret may have been rotated in its file, keyring or environment). The core
    implements the kinds ``env``, ``file``, ``keyring`` and ``command``; a plugin may add
    its own (``{ vault = "path" }`` arrives as ``ref.kind == "vault"``).

    :param ref: the reference, with ``kind``, ``location``, optional ``username`` and the
        ``origin`` (file, target, key) to name in errors.
    :returns: the :class:`~unified_auth.Secret`, or ``None`` if ``ref.kind`` isn't yours.
        Raise :class:`~unified_auth.errors.SecretError` when it is yours but unreadable.

    Stops at first non-None result.
    """


@hookspec
def target_warnings(target: Target, now: datetime) -> list[str] | None:
    """Say what the user should know about ``target`` before it breaks.

    Called by ``unified-auth check`` and once per hub after a target's first fetch, whose
    warnings are logged. Examples: a credential whose expiration date is near, a token old
    enough to be cycled, a token endpoint on plain http.

    :param target: the target (secrets unresolved: don't reveal anything here).
    :param now: the aware UTC time now.
    :returns: a list of sentences (possibly empty), or ``None`` if the target isn't yours.
    """


@hookspec(firstresult=True)
def explain_response(target: Target, response: AuthAnswer) -> str | None:
    """Explain a 4xx answer from one of the target's hosts in the provider's terms.

    Called when a request to the target's hosts comes back 401, 403 or 404. The core
    puts the explanation in the :class:`~unified_auth.errors.AuthFailed` it raises for a
    401 that survived the retry, and logs it (once per target and status) for 403 and 404.
    You may instead raise :class:`~unified_auth.errors.AccessDenied` for an answer the user
    must act on (an API that is not licensed).

    :param target: the target the request went to.
    :param response: an :class:`~unified_auth.AuthAnswer`, whichever client received it:
        ``status_code``, ``reason``, ``headers``, ``url`` and ``text`` (the body, read only
        when it is short; empty otherwise).
    :returns: one or two sentences for the user, or ``None`` if you have nothing to add.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def probe(target: Target, http: requests.Session) -> str | None:
    """Make one harmless authenticated call and say who the credentials act as.

    Called by ``unified-auth check`` (unless ``--no-probe`` is given) after the target's
    credentials were obtained, so that "ok" means the API accepted them, not merely that a
    token was issued. Pick a call that reads or echoes, never one that writes.

    :param target: the target to probe (secrets unresolved: ``http`` applies them);
        always one of your providers' targets (the core calls the provider's plugin only).
        :meth:`~unified_auth.Target.url` builds a URL on one of its hosts.
    :param http: a :class:`requests.Session` of the hub: requests to the target's hosts get
        its credentials, a 401 is retried once with fresh ones and then raised as
        :class:`~unified_auth.errors.AuthFailed` with your ``explain_response``. Pass a
        ``timeout`` to every call.
    :returns: one line naming who the credentials act as (``"Eddie Editor, 2 workspaces"``),
        or ``None`` when the provider has nothing harmless to call (``check`` then says
        "not verified against the API"). Raise
        :class:`~unified_auth.errors.AuthFailed` or
        :class:`~unified_auth.errors.AccessDenied` when the API refuses the credentials
        or they cannot reach what the config says they should.

    Stops at first non-None result.
    """


@hookspec
def credentials_event(event: CredentialsEvent) -> None:
    """Observe a moment in the life of a target's credentials (to export metrics, say).

    Called by the core, for every plugin that implements it, when credentials were fetched
    (``event.kind == "fetched"``) or refreshed in the background
    (``"refreshed_in_background"``), when a fetch failed (``"fetch_failed"``), when the API
    answered 401 to them (``"rejected"``) and when the core dropped them after that
    (``"invalidated"``). The same moments are counted in ``ua.stats(name)``. A request that
    needs no new credentials causes no event.

    Called from the hub's own delivery thread, never from a request's: a slow observer
    (a blocking export) delays no request, only the events queued behind it. The events
    arrive in the order they happened, a target's own always; one observer is called
    after the other, each with every event. When the queue is full (an observer fell
    1,000 events behind) an event is dropped rather than wait, and counted in
    ``ua.stats(name).dropped_events``. ``ua.flush_events(timeout)`` waits until every
    event so far was delivered (tests, a report before exit); ``ua.close()`` and the
    interpreter's exit flush within a bound too. An exception raised here is logged with
    the plugin's name and never reaches a request; the other observers are still called.

    :param event: a :class:`~unified_auth.CredentialsEvent` with ``kind``, ``target`` (the
        target's name), ``provider``, ``at``, ``expires_at``, for a fetch its
        ``duration`` and whether it ran in the ``background``, for a failure ``error``
        (one redacted line), ``error_type``, ``refused`` and ``valid_until`` (when the
        credentials still in use expire), and ``context``, the fetching thread's
        :mod:`contextvars` context, so a tracer's span can be the caller's child. It
        never holds a secret or a token.
    :returns: nothing; the return value is ignored.
    """
