"""Any token endpoint answer gives Credentials or a typed unified_auth error, never another
exception, and never an error that quotes the token (hypothesis over ``responses``)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_token_session import NaivePlugin

import unified_auth
from unified_auth import Credentials, RetryPolicy
from unified_auth.errors import UnifiedAuthError
from unified_auth.testing import ManualClock, assert_no_leaks

TOKEN = "tok-prop-canary-42"
TOKEN_URL = "https://tokens.answers.test/token"
SECRET = "client-secret-canary-77"

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64),
                         st.floats(allow_nan=True, allow_infinity=True),
                         st.text(max_size=12), st.just(TOKEN), st.just(f"Bearer {TOKEN}"))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
answer_documents = st.fixed_dictionaries({}, optional={
    "access_token": st.one_of(st.just(TOKEN), json_values),
    "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "mac", TOKEN]), json_values),
    "expires_in": st.one_of(st.integers(-10, 10**11), st.sampled_from(["900", " 60 ", "soon"]),
                            json_values),
    "scope": json_values,
    "error": st.one_of(st.sampled_from(["invalid_client", "invalid_scope", "slow_down"]),
                       json_values),
    "error_description": st.one_of(st.just(f"you sent {SECRET}"), json_values),
})


@st.composite
def answers(draw: st.DrawFn) -> tuple[int, dict[str, str], bytes]:
    status = draw(st.one_of(st.sampled_from([200, 201, 204, 301, 307, 400, 401, 403, 404, 408,
                                             425, 429, 500, 502, 503]),
                            st.integers(200, 599)))
    kind = draw(st.sampled_from(["json", "json", "text", "bytes", "gzip", "bad gzip"]))
    headers: dict[str, str] = {"Content-Type": draw(st.sampled_from(
        ["application/json", "text/html", "application/json; charset=latin-1", ""]))}
    if draw(st.booleans()):
        headers["Retry-After"] = draw(st.sampled_from(["0", "1", "120", "soon", "-1",
                                                       "Wed, 21 Oct 2015 07:28:00 GMT",
                                                       "9" * 30]))
    if kind == "json":
        body = json.dumps(draw(answer_documents)).encode()
    elif kind == "text":
        body = draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    elif kind == "bytes":
        body = draw(st.binary(max_size=60))
    else:
        document = json.dumps(draw(answer_documents)).encode()
        body = gzip.compress(document) if kind == "gzip" else b"\x1f\x8b" + document
        headers["Content-Encoding"] = "gzip"
    if status in (301, 307):
        headers["Location"] = "https://elsewhere.test/token"
    return status, headers, body


def hub_for(provider: str) -> unified_auth.UnifiedAuth:
    options: dict[str, Any]
    if provider == "liana":
        options = {"client_id": "client", "client_secret": SECRET, "token_url": TOKEN_URL}
    else:
        options = {"token_url": TOKEN_URL}
    return unified_auth.load(
        {"targets": {"api": {"provider": provider, "hosts": ["api.answers.test"], **options}}},
        plugins=[NaivePlugin()], clock=ManualClock(1_800_000_000.0),
        retry=RetryPolicy(attempts=2, sleep=lambda s: None))


@pytest.mark.parametrize("provider", ["liana", "naive"])
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(answer=answers())
def test_any_answer_gives_credentials_or_a_typed_error(
        provider: str, answer: tuple[int, dict[str, str], bytes]) -> None:
    status, headers, body = answer
    hub = hub_for(provider)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        content_type = headers.pop("Content-Type")
        mock.post(TOKEN_URL, status=status, headers=headers, body=body,
                  content_type=content_type or None)
        outcome = outcome_of(hub)
    hub.close()
    if isinstance(outcome, Credentials):
        assert outcome.value.reveal()
    else:
        assert isinstance(outcome, UnifiedAuthError)
        assert isinstance(outcome, requests.RequestException | ValueError)
        assert_no_leaks([str(outcome), repr(outcome)], [TOKEN, SECRET])


def outcome_of(hub: unified_auth.UnifiedAuth) -> Credentials | UnifiedAuthError:
    """Credentials, or the typed error; anything else propagates and fails the test."""
    try:
        return hub.credentials("api")
    except UnifiedAuthError as exc:
        return exc
