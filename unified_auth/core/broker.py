"""Credentials per target: cached, refreshed before they expire, fetched once for N callers.

Each target has a :class:`Lease`: its credentials with the times at which to refresh them,
scaled to the lifetime the provider granted (counted from when the fetch began):

- before ``advisory_at`` (75 % of the lifetime by default) a caller just reads the lease:
  one attribute read and one clock read, no lock, no I/O;
- between ``advisory_at`` and ``mandatory_at`` (90 %) one caller starts a refresh in a
  background thread and every caller keeps using the still-valid credentials; a failed
  refresh logs one warning and backs off;
- past ``mandatory_at`` (or with no credentials yet) callers wait for the single fetch in
  flight; if it fails while the old credentials are still valid, they are used meanwhile.

A 401 drops exactly the lease it came back with (not a newer one another thread already
fetched) and makes the next fetch re-resolve the target's secrets, which may have been
rotated.

A failed fetch is not repeated for every caller. While a target has no valid credentials
and its last fetch failed, callers get that failure again at once (a fresh exception of the
same type, its message redacted) until a backoff passes: 1 s after the first failure,
doubling to 60 s (or longer if the token endpoint's ``Retry-After`` asked). A success ends
it, and so does a changed secret: the next try reads the secrets again, and while backing
off one caller a second re-reads them, so a rotated secret file is tried at once. With a
shared cache the failure is written there too (under the cache key and ``!failed``), so
the processes of a fleet back off together instead of each asking in turn.

Being the one place that sees every fetch and every 401, the broker also counts them per
target (``ua.stats``) and hands them, as events, to the ``credentials_event`` observers'
delivery thread (:mod:`unified_auth.core.delivery`), which never makes the caller wait;
that, not a second job, is why it runs past 300 lines. One fetch itself (the plugin's call, with
retries, deadlines and the check of what it returned) is :mod:`unified_auth.core.fetch`.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

import attrs

from unified_auth.cache import CachedCredentials, CredentialCache
from unified_auth.config import secret_sources
from unified_auth.config.loading import RefreshSettings
from unified_auth.core.clock import Clock, to_datetime
from unified_auth.core.delivery import EventDelivery
from unified_auth.core.fetch import FAILURE_BACKOFF_MAX, Failure, Fetcher, failure_backoff
from unified_auth.core.plugin_manager import Hooks
from unified_auth.core.token_session import RetryPolicy, TokenSession
from unified_auth.errors import CredentialsRejected, PluginError, SecretError, TokenEndpointError
from unified_auth.events import (
    CredentialsEvent,
    EventKind,
    TargetStats,
    describe_error,
    error_kind,
)
from unified_auth.model import Credentials, Secret, SecretRef, Target
from unified_auth.notices import Notice, log_notice

__all__ = ["Broker", "Lease"]

log = logging.getLogger("unified_auth")

# Failures after which a still-valid token keeps being used: none of them makes it invalid.
# A rejected secret too: it may have been rotated at the provider before its source.
_HELD_OVER = (TokenEndpointError, PluginError, CredentialsRejected, SecretError)
# A background refresh that found another process fetching tries again this much later.
_SKIPPED_PAUSE = 1.0
# A lease whose refresh keeps failing is used until this much of its lifetime is left (at
# most the seconds below), not until its last instant: between the lease and the API's
# check of the token a request is prepared, waits for the GIL among many threads, crosses
# the network, and a token that was valid at the lease arrived expired.
_ARRIVAL_MARGIN = 0.05
_ARRIVAL_MARGIN_MAX = 5.0
# While backing off, a throttled caller re-reads the secrets at most this often: a rotated
# secret ends the backoff without a token request per caller or a secret read per call.
_SECRET_RECHECK = 1.0
# A shared cache's record of a failure: the cache key and this. A target name holds no "!"
# and every cache key ends in hex digits, so no credentials ever live under such a key.
_FAILED = "!failed"
# scrypt cost of a shared-cache key: ~30 ms once per secret, so a reader of the cache who
# wants to test guesses of a secret pays that per guess.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 16}


class _Skipped(Exception):
    """A background refresh found another process fetching: it leaves the lease alone."""


@attrs.frozen
class _LastFailure:
    """The last failed fetch of a target, and until when callers get it again."""

    failure: Failure
    fingerprint: str | None  # of the secrets it was tried with; None: they could not be read
    at: float
    until: float
    strikes: int  # failed fetches in a row with these secrets (across the fleet)
    fetch: int  # the slot's fetch that ended so
    remote: bool = False  # recorded by another process, read from the shared cache


@attrs.frozen
class Lease:
    """Credentials for a target (with its secrets resolved) and when to refresh them."""

    target: Target
    credentials: Credentials
    key: str
    obtained_at: float
    advisory_at: float
    mandatory_at: float
    expires_at: float

    @property
    def usable_until(self) -> float:
        """The last moment the lease is handed out: a margin before it expires (5 % of its
        lifetime, at most 5 s), so that a request leased then still arrives before it."""
        lifetime = self.expires_at - self.obtained_at
        return self.expires_at - min(_ARRIVAL_MARGIN_MAX, lifetime * _ARRIVAL_MARGIN)


class _Slot:
    """A target's state. ``lease`` and ``last_failure`` are read without a lock: replacing
    them is atomic."""

    __slots__ = ("background_refreshes", "failed_fetches", "fetch_context", "fetch_number",
                 "fetch_started", "fetches", "forced_at", "forced_strikes", "held_warned",
                 "inflight", "last_failure", "lease", "lock", "rejections", "resolved",
                 "retry_after", "secret_checked_at", "target", "throttled", "warned")

    def __init__(self, target: Target) -> None:
        self.target = target
        self.resolved: Target | None = None
        self.lease: Lease | None = None
        self.lock = threading.Lock()
        self.inflight: Future[Lease] | None = None
        self.fetch_number = 0
        self.last_failure: _LastFailure | None = None
        self.secret_checked_at = -math.inf
        # No refresh of a still-valid lease before this (after a failure, or a skip).
        self.retry_after = 0.0
        self.warned = False
        # What ua.stats() reports. Fetches are single-flight per slot and rejections are
        # counted under the lock, so plain ints suffice.
        self.fetches = 0
        self.background_refreshes = 0
        self.failed_fetches = 0
        self.rejections = 0
        self.held_warned = False
        self.forced_at = -math.inf
        self.forced_strikes = 0
        self.throttled = 0  # callers given the last failure again; counted under the lock
        # The fetch in flight (single flight: one per slot): when it began, on a monotonic
        # clock, and the context of the thread running it, both for its event.
        self.fetch_started = 0.0
        self.fetch_context: contextvars.Context | None = None


class Broker:
    """Hands out :class:`Lease` objects for targets; owns caching and refresh."""

    def __init__(
        self,
        targets: Iterable[Target],
        hooks: Hooks,
        cache: CredentialCache,
        http: TokenSession,
        *,
        clock: Clock,
        refresh: RefreshSettings,
        retry: RetryPolicy,
        events: EventDelivery,
    ) -> None:
        self._slots = {target.name: _Slot(target) for target in targets}
        self._hooks = hooks
        self._events = events
        self._cache = cache
        self._http = http
        self._clock = clock
        self._refresh = refresh
        self._retry = retry
        self._keys: dict[str, str] = {}
        self._fetcher = Fetcher(hooks, http, clock, retry)

    def lease(self, target: Target) -> Lease:
        """Current credentials for ``target``, fetching or refreshing them as needed."""
        slot = self._slots[target.name]
        lease = slot.lease
        if lease is not None and self._clock() < lease.advisory_at:
            return lease
        return self._renew(slot)

    def lease_nowait(self, target: Target) -> Lease | None:
        """The current lease if no caller has to wait for a fetch, else ``None``.

        For async callers: ``None`` means "await :meth:`lease` in a worker thread". A
        still-valid lease comes back at once (starting a background refresh when one is
        due), so a coroutine holding valid credentials never waits on a thread.
        """
        slot = self._slots[target.name]
        lease = slot.lease
        if lease is not None and self._clock() < lease.advisory_at:
            return lease
        return self._lease_without_waiting(slot, may_block=False)

    def credentials_for(self, target: Target) -> Credentials:
        """Current credentials for ``target`` (see :meth:`lease`)."""
        return self.lease(target).credentials

    def invalidate(self, lease: Lease) -> None:
        """Forget ``lease`` after the API rejected it; a newer lease is left alone.

        401-driven refetches are bounded: at most one per ``min_interval`` (at least 1 s),
        the interval doubling (up to a minute) while the fresh tokens keep being refused,
        as they are by an API path that answers 401 whatever the token. Within the
        interval the lease is kept, and the caller sees the API's 401.
        """
        slot = self._slots[lease.target.name]
        now = self._clock()
        with slot.lock:
            slot.rejections += 1
            dropped = slot.lease is lease and self._may_refetch(slot, lease, now)
            if dropped:
                slot.lease = None
                slot.resolved = None  # the secret may have been rotated: read it again
        if dropped or slot.lease is not lease:
            self._cache.discard(lease.key, lease.credentials.value)
        expires_at = lease.credentials.expires_at
        self._emit("rejected", slot, expires_at=expires_at)
        if dropped:
            self._emit("invalidated", slot, expires_at=expires_at)

    def _may_refetch(self, slot: _Slot, lease: Lease, now: float) -> bool:
        """Whether a 401 may drop ``lease`` now (see :meth:`invalidate`); called locked."""
        base = max(self._refresh.min_interval, 1.0)
        interval = min(FAILURE_BACKOFF_MAX, base * 2**slot.forced_strikes)
        if now < slot.forced_at + interval:
            log.debug("target %s: 401 again within %.0f s of the last refetch it caused; "
                      "keeping the credentials", lease.target.name, interval)
            return False
        # A token fetched because of the last 401 and refused again: back off further.
        again = lease.obtained_at >= slot.forced_at and now < slot.forced_at + 2 * interval
        slot.forced_strikes = slot.forced_strikes + 1 if again else 0
        slot.forced_at = now
        return True

    def stats(self, target: Target) -> TargetStats:
        """``target``'s counts since the broker was made (see :class:`TargetStats`)."""
        slot = self._slots[target.name]
        lease = slot.lease
        return TargetStats(
            fetches=slot.fetches, background_refreshes=slot.background_refreshes,
            failed_fetches=slot.failed_fetches, rejections=slot.rejections,
            expires_at=lease.credentials.expires_at if lease is not None else None,
            throttled=slot.throttled, dropped_events=self._events.dropped(target.name))

    def resolve(self, target: Target) -> Target:
        """``target`` with every secret reference in its options resolved."""
        options = target.options
        resolved: dict[str, Secret] = {}
        for field in attrs.fields(type(options)):
            value = getattr(options, field.name)
            if isinstance(value, SecretRef):
                resolved[field.alias] = self._resolve_secret(value)
        if not resolved:
            return target
        return attrs.evolve(target, options=attrs.evolve(options, **resolved))

    def _resolve_secret(self, ref: SecretRef) -> Secret:
        secret = self._hooks.resolve_secret(ref)
        if secret is None:
            origin = ref.origin
            raise SecretError(
                f"no installed plugin resolves secret references of kind {ref.kind!r}; "
                f"the core knows env, file, keyring and command",
                source=origin.source if origin else None,
                target=origin.target if origin else None,
                key=origin.key if origin else None)
        return secret

    def _lease_without_waiting(self, slot: _Slot, *, may_block: bool = True) -> Lease | None:
        """The held lease while it may still be used (refreshing it in the background when
        due), or ``None`` when the caller must wait for a fetch.

        :raises: the last fetch's failure again while backing off from it (see the module
            docstring); ``may_block=False`` (an event loop's thread) leaves the re-read of
            the secrets that may end the backoff to a worker thread, by returning ``None``.
        """
        now = self._clock()
        lease = slot.lease
        if lease is not None and now < lease.usable_until and (
                now < lease.mandatory_at or now < slot.retry_after):
            if now >= slot.retry_after:
                self._refresh_in_background(slot)
            return lease
        last = slot.last_failure
        if last is not None and now < last.until:
            if lease is not None and now < lease.usable_until:
                # Backing off from a failed refresh (retry_after may not say so yet: the
                # failure is recorded first): the held credentials still work.
                return lease
            if now >= slot.secret_checked_at + _SECRET_RECHECK:
                if not may_block:
                    return None
                if self._secret_changed(slot, last, now):
                    return None
            with slot.lock:
                slot.throttled += 1
            raise self._again(last, now)
        return None

    def _again(self, last: _LastFailure, now: float) -> Exception:
        """``last``'s failure as a fresh exception, saying why no token request was sent."""
        wait = max(last.until - now, 0.0)
        asked = last.failure.asked
        if asked is not None and asked >= last.until - last.at - 1e-9:
            why = "the token endpoint asked to wait (Retry-After)"
        else:
            who = "another process's" if last.remote else "the last"
            why = (f"{who} token request for it failed {max(now - last.at, 0.0):.1f} s ago "
                   f"({last.strikes} in a row), backing off")
        return last.failure.again(f" [{why}; no new request for {wait:.1f} s]")

    def _secret_changed(self, slot: _Slot, last: _LastFailure, now: float) -> bool:
        """Whether the target's secrets differ from those ``last`` failed with; if they do,
        the backoff ends and the next fetch uses them. One caller a second reads them."""
        with slot.lock:
            if now < slot.secret_checked_at + _SECRET_RECHECK or slot.last_failure is not last:
                return False
            slot.secret_checked_at = now
        try:
            fresh = self.resolve(slot.target)
        except Exception:  # noqa: BLE001 - still unreadable: the failure stands
            return False
        if _fingerprint(fresh) == last.fingerprint:
            return False
        with slot.lock:
            if slot.last_failure is not last:
                return False
            slot.last_failure = None
            slot.resolved = fresh
        log.info("target %s: its secret changed at its source; trying it now instead of "
                 "waiting out the backoff", slot.target.name)
        return True

    def _renew(self, slot: _Slot) -> Lease:
        usable = self._lease_without_waiting(slot)
        if usable is not None:
            return usable
        future, leader = self._join_fetch(slot)
        if leader:
            self._run_fetch(slot, future, background=False)
        try:
            return self._await(slot, future)
        except _HELD_OVER:
            lease = slot.lease
            if lease is not None and self._clock() < lease.usable_until:
                return lease  # _run_fetch logged the failure; the old token still works
            raise

    def _await(self, slot: _Slot, future: Future[Lease]) -> Lease:
        """The fetch's lease, waiting no longer than a fetch can take (its secrets read,
        its attempts and pauses), with room to spare: a plugin stuck outside the token
        session must not hold every caller of the target for ever."""
        bound = 2 * self._retry.fetch_deadline + secret_sources.COMMAND_TIMEOUT
        try:
            return future.result(timeout=bound)
        except FutureTimeout:
            raise TokenEndpointError(
                f"target {slot.target.name}: the token fetch in flight did not finish "
                f"within {bound:g} s; its plugin may be stuck", target=slot.target.name,
            ) from None

    def _join_fetch(self, slot: _Slot) -> tuple[Future[Lease], bool]:
        """The fetch in flight for ``slot``, or a new one this caller leads."""
        with slot.lock:
            if slot.inflight is not None:
                return slot.inflight, False
            lease = slot.lease
            now = self._clock()
            if lease is not None and now < lease.advisory_at:
                done: Future[Lease] = Future()  # another caller refreshed meanwhile
                done.set_result(lease)
                return done, False
            last = slot.last_failure
            if last is not None and now < last.until and (
                    lease is None or now >= lease.usable_until):
                # A fetch failed since this caller looked: one token request per backoff.
                slot.throttled += 1
                raise self._again(last, now)
            slot.inflight = Future()
            slot.fetch_number += 1
            return slot.inflight, True

    def wait_for_fetches(self, timeout: float) -> bool:
        """Wait, at most ``timeout`` seconds in all, until no fetch is in flight (background
        refreshes included), so that closing the token session and the caches does not cut
        one short; ``True`` if none is left. A fetch's outcome is its callers' business."""
        deadline = time.monotonic() + timeout
        for slot in self._slots.values():
            future = slot.inflight
            if future is None:
                continue
            try:
                future.exception(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                return False
        return True

    def _refresh_in_background(self, slot: _Slot) -> None:
        future, leader = self._join_fetch(slot)
        if leader:
            threading.Thread(
                target=self._run_fetch, args=(slot, future), kwargs={"background": True},
                name=f"unified-auth-refresh-{slot.target.name}", daemon=True,
            ).start()

    def _run_fetch(self, slot: _Slot, future: Future[Lease], *, background: bool) -> None:
        _fetch_begins(slot)
        try:
            try:
                lease = self._fetch(slot, background=background)
            except _Skipped:
                held = slot.lease
                if held is None or self._clock() >= held.usable_until:
                    lease = self._fetch(slot, background=False)
                else:
                    slot.retry_after = min(self._clock() + _SKIPPED_PAUSE, held.mandatory_at)
                    with slot.lock:
                        slot.inflight = None
                    future.set_result(held)
                    return
        except BaseException as exc:
            last = slot.last_failure
            if isinstance(exc, Exception) and (last is None or last.fetch != slot.fetch_number):
                last = self._record_failure(slot, exc, slot.resolved)  # failed before sending
            now = self._clock()
            slot.retry_after = last.until if last is not None else now + failure_backoff(1)
            pause = slot.retry_after - now
            held = slot.lease
            still_valid = held is not None and self._clock() < held.usable_until
            if still_valid and isinstance(exc, TokenEndpointError | PluginError):
                log.warning("target %s: refreshing credentials failed, the current ones stay "
                            "in use (next try in %.0f s): %s", slot.target.name, pause, exc)
            elif still_valid and isinstance(exc, _HELD_OVER) and not slot.held_warned:
                # Said once: until the source has the new secret, every try fails alike.
                slot.held_warned = True
                self._warn_held_over(slot, exc)
            if isinstance(exc, Exception) and last is not None and not last.remote:
                # still the only fetch of the slot: counts hold
                self._fetch_failed(slot, exc, throttled_until=last.until,
                                   background=background)
            slot.resolved = None  # the next try reads the secrets again: they may be new
            with slot.lock:
                slot.inflight = None
            future.set_exception(exc)
            if not background and not isinstance(exc, Exception):
                raise
        else:
            slot.retry_after = 0.0
            slot.held_warned = False
            with slot.lock:
                slot.lease = lease
                slot.last_failure = None
                slot.inflight = None
            future.set_result(lease)
            if not slot.warned:
                slot.warned = True
                self._log_warnings(slot.target, lease.obtained_at)

    def _fetch(self, slot: _Slot, *, background: bool = False) -> Lease:
        target = slot.resolved or self.resolve(slot.target)
        slot.resolved = target
        try:
            return self._fetch_resolved(slot, target, background=background)
        except CredentialsRejected as exc:
            slot.resolved = None
            fresh = self.resolve(slot.target)
            if _fingerprint(fresh) == _fingerprint(target):
                raise
            last = slot.last_failure
            if last is None or not last.remote:  # another process's failure: none sent here
                self._fetch_failed(slot, exc, target, background=background)
            log.info("target %s: credentials were rejected and the secret has changed "
                     "at its source; trying the new one", slot.target.name)
            slot.resolved = fresh
            return self._fetch_resolved(slot, fresh, background=background)

    def _fetch_resolved(self, slot: _Slot, target: Target, *, background: bool = False) -> Lease:
        key = self._cache_key(target)
        with self._cache.fetch_lock(key, wait=not background) as proceed:
            if proceed is False:
                raise _Skipped
            cached = self._cache.get(key)
            stale = slot.lease.credentials.value if slot.lease is not None else None
            if cached is not None and cached.credentials.value != stale:
                lease = self._lease(target, key, cached, previous=None)
                # Another process (or a former lease) has one: in its advisory window it
                # is still used, and the refresh is left to one of the processes.
                if self._clock() < lease.mandatory_at:
                    return lease
            if self._cache.shared:
                self._follow_fleet(slot, target, key)
            obtained_at = self._clock()
            _fetch_begins(slot)
            try:
                credentials = self._fetcher.fetch(target, obtained_at)
            except Exception as exc:
                last = self._record_failure(slot, exc, target)
                if self._cache.shared:  # written before the lock goes: waiters read it
                    self._cache.put(key + _FAILED, CachedCredentials(Credentials(
                        last.failure.encode(last.strikes), to_datetime(last.until),
                        token_type=""), last.at))  # nosec B106 # a failure record
                raise
            entry = CachedCredentials(credentials, obtained_at)
            if credentials.expires_at is not None or not self._cache.shared:
                self._cache.put(key, entry)
            if self._cache.shared and slot.last_failure is not None:
                self._forget_fleet_failure(key)
        log.debug("target %s: fetched credentials (%s)", target.name, _lifetime(credentials,
                                                                                obtained_at))
        slot.fetches += 1
        slot.background_refreshes += background
        self._emit("refreshed_in_background" if background else "fetched", slot,
                   expires_at=credentials.expires_at, fetch=True, background=background)
        return self._lease(target, key, entry, previous=slot.lease)

    def _record_failure(self, slot: _Slot, error: Exception,
                        tried: Target | None) -> _LastFailure:
        """Note the fetch's failure: callers get it again until the backoff passes."""
        now = self._clock()
        fingerprint = None if tried is None else _fingerprint(tried)
        previous = slot.last_failure
        strikes = previous.strikes + 1 if previous is not None and (
            previous.fingerprint == fingerprint) else 1
        failure = Failure.of(error, _secrets_of(tried))
        pause = failure_backoff(strikes)
        if failure.asked is not None:
            pause = max(pause, min(failure.asked, FAILURE_BACKOFF_MAX))
        last = _LastFailure(failure, fingerprint, now, now + pause, strikes, slot.fetch_number)
        slot.secret_checked_at = now  # the fetch has just read them
        slot.last_failure = last
        return last

    def _follow_fleet(self, slot: _Slot, target: Target, key: str) -> None:
        """Raise the failure another process recorded for ``key`` while it backs off from it.

        Called holding the fetch lock, so a process that waited for another's failed fetch
        reads its failure instead of asking the token endpoint in turn.
        """
        entry = self._cache.get(key + _FAILED)
        decoded = None if entry is None else Failure.decode(entry.credentials.value)
        if entry is None or decoded is None:
            return
        failure, strikes = decoded
        now = self._clock()
        until = min(entry.expires_ts, now + FAILURE_BACKOFF_MAX)  # untrusted: bounded
        if until <= now:
            return
        previous = slot.last_failure
        if previous is not None and previous.fingerprint == _fingerprint(target):
            strikes = max(strikes, previous.strikes)
        last = _LastFailure(failure, _fingerprint(target), min(entry.obtained_at, now), until,
                            strikes, slot.fetch_number, remote=True)
        with slot.lock:
            slot.last_failure = last
            slot.throttled += 1
        raise self._again(last, now)

    def _forget_fleet_failure(self, key: str) -> None:
        entry = self._cache.get(key + _FAILED)
        if entry is not None:
            self._cache.discard(key + _FAILED, entry.credentials.value)

    def _cache_key(self, target: Target) -> str:
        """``name:digest``; for a shared cache a slow digest, computed once per secret."""
        fast = _fingerprint(target)
        if not self._cache.shared:
            return f"{target.name}:{fast}"
        key = self._keys.get(fast)
        if key is None:
            if len(self._keys) > 256:
                self._keys.clear()  # bounded: only rotations add entries
            key = self._keys[fast] = f"{target.name}:{_slow_fingerprint(target)}"
        return key

    def _lease(self, target: Target, key: str, entry: CachedCredentials,
               previous: Lease | None) -> Lease:
        expires = entry.expires_ts
        if math.isinf(expires):
            return Lease(target, entry.credentials, key, entry.obtained_at,
                         math.inf, math.inf, math.inf)
        policy = self._refresh
        start = entry.obtained_at
        lifetime = max(expires - start, 0.0)
        # The marks are fractions of the lifetime, whatever its length. A floor in seconds
        # (min_interval) used to push both marks of a token shorter than it to its expiry,
        # where every caller waited for the fetch and expired tokens reached the API; no
        # floor may push a mark past its fraction, which leaves it nothing to move. Single
        # flight is what keeps a provider of short tokens from being asked on every call.
        advisory = start + lifetime * policy.advisory
        mandatory = start + lifetime * policy.mandatory
        if previous is not None and previous.credentials.value == entry.credentials.value:
            # The provider gave back the token we already had: asking again before it
            # expires would only bring the same answer.
            advisory = mandatory = expires
        return Lease(target, entry.credentials, key, start,
                     min(advisory, expires), min(mandatory, expires), expires)

    def _fetch_failed(self, slot: _Slot, error: Exception, target: Target | None = None, *,
                      throttled_until: float | None = None, background: bool = False) -> None:
        slot.failed_fetches += 1
        secrets = _secrets_of(target or slot.resolved)
        held = slot.lease
        valid = held is not None and self._clock() < held.usable_until
        self._emit("fetch_failed", slot, error=error, secrets=secrets,
                   throttled_until=throttled_until, fetch=True, background=background,
                   valid_until=held.credentials.expires_at if held is not None and valid
                   else None)

    def _emit(self, kind: EventKind, slot: _Slot, *, expires_at: datetime | None = None,
              error: Exception | None = None, secrets: list[str] | None = None,
              throttled_until: float | None = None, fetch: bool = False,
              background: bool = False, valid_until: datetime | None = None) -> None:
        """Hand the ``credentials_event`` observers an event; their thread delivers it, so
        they can neither delay nor break the caller."""
        self._events.submit(CredentialsEvent(
            kind=kind, target=slot.target.name, at=to_datetime(self._clock()),
            expires_at=expires_at,
            error=None if error is None else describe_error(error, secrets or ()),
            throttled_until=None if throttled_until is None else to_datetime(throttled_until),
            provider=slot.target.provider,
            duration=time.monotonic() - slot.fetch_started if fetch else None,
            background=background, valid_until=valid_until,
            error_type=None if error is None else error_kind(error),
            refused=isinstance(error, CredentialsRejected),
            context=slot.fetch_context if fetch else None))

    def _warn_held_over(self, slot: _Slot, exc: BaseException) -> None:
        why = ("the provider refused the secret (rotated at the provider but not yet at its "
               "source?)" if isinstance(exc, CredentialsRejected) else
               "the secret could not be read")
        name = slot.target.name
        log_notice(log, Notice(
            "credentials_held_over",
            f"target {name}: {why}; the current credentials stay in use while they are "
            f"valid, retrying with backoff: {exc}", target=name))

    def _log_warnings(self, target: Target, now: float) -> None:
        try:
            warnings = self._hooks.target_warnings(target, to_datetime(now))
        except Exception as exc:  # noqa: BLE001 - a warning must never break a request
            log.debug("target %s: target_warnings failed: %s", target.name, exc)
            return
        for warning in warnings:
            log_notice(log, Notice("target_warning", f"target {target.name}: {warning}",
                                   target=target.name))


def _fetch_begins(slot: _Slot) -> None:
    """Note when the slot's fetch begins and in which context (the caller's span, say)."""
    slot.fetch_started = time.monotonic()
    slot.fetch_context = contextvars.copy_context()


def _fingerprint(target: Target) -> str:
    """A digest of the provider and every option, secrets by their own fingerprint."""
    digest = hashlib.sha256(target.provider.encode())
    for field in attrs.fields(type(target.options)):
        value: Any = getattr(target.options, field.name)
        shown = value.fingerprint if isinstance(value, Secret) else repr(value)
        digest.update(f"\0{field.name}={shown}".encode())
    return digest.hexdigest()[:32]


def _secrets_of(target: Target | None) -> list[str]:
    """The plain values of ``target``'s resolved secrets, to mask in what is shown."""
    if target is None:
        return []
    return [value.reveal() for value in attrs.asdict(target.options, recurse=False).values()
            if isinstance(value, Secret)]


def _slow_fingerprint(target: Target) -> str:
    """scrypt over the secrets, salted with the rest of the target: a shared-cache key."""
    salt = hashlib.sha256(target.provider.encode())
    secrets = hashlib.sha256()
    for field in attrs.fields(type(target.options)):
        value: Any = getattr(target.options, field.name)
        if isinstance(value, Secret):
            secrets.update(f"\0{field.name}=".encode() + value.reveal().encode())
        else:
            salt.update(f"\0{field.name}={value!r}".encode())
    return hashlib.scrypt(secrets.digest(), salt=salt.digest(), **_SCRYPT).hex()


def _lifetime(credentials: Credentials, obtained_at: float) -> str:
    if credentials.expires_at is None:
        return "no expiry"
    return f"valid for {credentials.expires_at.timestamp() - obtained_at:.0f} s"
