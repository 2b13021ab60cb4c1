"""Turning a token endpoint's 200 answer (RFC 6749 5.1) into :class:`Credentials`, or why not.

Every complaint is a :class:`TokenEndpointError`, which the core retries a bounded number of
times: a garbled answer is usually a proxy or a deploy in progress, not a config mistake.
Messages describe what is wrong with the answer without quoting it, as it may hold a token.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import datetime, timedelta
from typing import Any

import attrs
import requests

from unified_auth import Credentials, Secret
from unified_auth.errors import TokenEndpointError
from unified_auth_oauth2.options import MAX_TTL

__all__ = ["credentials_from_answer"]

log = logging.getLogger("unified_auth.oauth2")


def credentials_from_answer(
    response: requests.Response, *, where: str, now: datetime, default_ttl: int,
    scope: str | None, note_key: tuple[str, ...], endpoint_hint: str,
) -> Credentials:
    """The credentials in a token answer; ``expires_at`` counts from ``now`` (the request).

    ``token_type`` is Bearer in any case, or absent (taken as Bearer); ``scope``, when the
    answer has none, is the one requested (RFC 6749 5.1).

    :param where: how messages start: ``target NAME: the token endpoint HOST``.
    :param note_key: identifies the target for the once-only warning about a missing lifetime.
    :param endpoint_hint: ends a complaint: how to check that the URL is the right endpoint.
    """
    said = _Answer(response, where, endpoint_hint)
    document = _json_object(said)
    token = document.get("access_token")
    if not isinstance(token, str) or not token:
        raise said.malformed("has no access_token" if token is None else
                             f"has an access_token that is {_kind(token)}, not a token")
    token_type = document.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        shown = _describe_token_type(token_type)
        raise said.malformed(f"has token_type {shown}; only Bearer tokens are supported")
    lifetime = _lifetime(document.get("expires_in"), said)
    if lifetime is None:
        _note_default_ttl(note_key, where, default_ttl)
        lifetime = float(default_ttl)
    granted = document.get("scope")
    return Credentials(
        value=Secret(token),
        expires_at=now + timedelta(seconds=lifetime),
        token_type="Bearer",  # nosec B106 # a scheme name
        scope=granted if isinstance(granted, str) else scope,
    )


def _json_object(said: _Answer) -> dict[str, Any]:
    response = said.response
    try:
        document = response.json()
    except ValueError:
        content_type = response.headers.get("Content-Type", "no content type")
        raise said.malformed(f"is not JSON ({content_type}, "
                             f"{len(response.content)} bytes)") from None
    if not isinstance(document, dict):
        raise said.malformed(f"is JSON {_kind(document)}, not an object")
    return document


def _lifetime(value: Any, said: _Answer) -> float | None:
    if value is None:
        return None
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        # Some servers send the number as a string; accept it, but only a plain number.
        try:
            seconds = float(value.strip())
        except ValueError:
            seconds = None
    if seconds is None:
        raise said.malformed(f"has a non-numeric expires_in ({_kind(value)})")
    if not math.isfinite(seconds):
        raise said.malformed("has a non-numeric expires_in (not finite)")
    if seconds <= 0:
        raise said.malformed(f"has expires_in {seconds:g}: a token's lifetime must be "
                             f"positive")
    if seconds > MAX_TTL:
        raise said.malformed(f"has expires_in {seconds:g}: more than a year is not a "
                             f"plausible token lifetime")
    return seconds


class _Once:
    """Remembers which targets were told something, so the log says it once, not hourly."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def first(self, key: tuple[str, ...]) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True


# Hooks are module-level functions with no per-hub object to hang this on.
_noted = _Once()


def _note_default_ttl(key: tuple[str, ...], where: str, default_ttl: int) -> None:
    if _noted.first(key):
        log.warning("%s answered without expires_in; assuming the token lives default_ttl "
                    "= %d s (set default_ttl in the target to change it)", where, default_ttl)


@attrs.frozen
class _Answer:
    """The answer being read, and how a complaint about it is worded."""

    response: requests.Response
    where: str
    endpoint_hint: str

    def malformed(self, problem: str) -> TokenEndpointError:
        return TokenEndpointError(
            f"{self.where} answered {self.response.status_code} with a token answer that "
            f"{problem}; if this persists, {self.endpoint_hint}", response=self.response)


# Registered OAuth token types (RFC 6750, 7800, 9449 and the IANA registry): safe to name.
# Anything else is described, never echoed: a broken server may put the token there.
_KNOWN_TOKEN_TYPES = frozenset({"mac", "dpop", "pop", "n_a", "basic", "jwt", "urn"})


def _describe_token_type(value: Any) -> str:
    if isinstance(value, str) and value.lower() in _KNOWN_TOKEN_TYPES:
        return repr(value.lower())
    if isinstance(value, str):
        return f"that is not Bearer (a string of {len(value)} characters, not shown)"
    return _kind(value)


def _kind(value: Any) -> str:
    """What JSON kind ``value`` is, never the value itself (it could be a token)."""
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"),
                       (str, "a string"), (list, "an array"), (dict, "an object")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else f"a {type(value).__name__}"
