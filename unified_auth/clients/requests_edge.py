"""The requests side of the flow: its objects in, the flow's types out, and back.

Shared by the session's adapter (:mod:`unified_auth.clients.requests_adapter`) and
``ua.auth()`` (:mod:`unified_auth.clients.requests_auth`): what is sent for a lease, a send
whose failure never quotes the credentials, and how a finished flow's answer reaches the
caller.
"""

from __future__ import annotations

import requests
from requests.structures import CaseInsensitiveDict

from unified_auth.core.authorise import EXPLAINED_STATUSES, MAX_EXPLAINED_BODY
from unified_auth.core.broker import Lease
from unified_auth.core.flow import Outcome, RequestFlow
from unified_auth.core.messages import AuthAnswer, AuthRequest
from unified_auth.core.redaction import redact
from unified_auth.errors import AccessDenied
from unified_auth.model import Target

__all__ = ["answer_of", "apply_to", "authorised_copy", "close", "finish", "status_of",
           "without_credentials"]

def authorised_copy(flow: RequestFlow, lease: Lease,
                    request: requests.PreparedRequest) -> requests.PreparedRequest:
    """A copy of ``request`` carrying ``lease``; ``request`` itself is left as it was.

    ``PreparedRequest.copy()`` also rebuilds the cookie jar, several microseconds per
    request: the copy gets headers of its own (what auth changes; a signer that rewrites
    the body or URL assigns new ones) and shares the rest, as ``copy()`` already shares the
    body and the hooks.
    """
    if type(request) is not requests.PreparedRequest or request.headers is None:
        copy = request.copy()
    else:
        copy = object.__new__(requests.PreparedRequest)
        copy.__dict__.update(vars(request))
        copy.headers = request.headers.copy()
    apply_to(flow, lease, copy)
    return copy


def apply_to(flow: RequestFlow, lease: Lease, request: requests.PreparedRequest) -> None:
    """Put ``lease`` on ``request`` itself: its headers, or what its plugin signs."""
    headers = flow.authoriser.headers_for(lease)
    if headers is not None:
        target = request.headers
        for name, value in headers.items():  # MutableMapping.update looks each value up
            target[name] = value
        return
    seen = AuthRequest(request.method or "GET", request.url or "", request.headers,
                       request.body)
    flow.authoriser.apply(lease, seen)
    request.url = seen.url
    request.body = seen.body
    if seen.headers is not request.headers:
        request.headers = CaseInsensitiveDict(seen.headers)


def without_credentials(exc: requests.RequestException, lease: Lease,
                        request: requests.PreparedRequest) -> requests.RequestException:
    """``exc``, raised sending ``lease`` on a copy of ``request``, made safe to raise.

    requests' errors quote the URL they were sending (a plugin may put its key in the query
    string) and carry the request object on ``.request``: the error is made about the
    caller's ``request`` instead, its text redacted; raise it ``from None``, as the chained
    urllib3 error quotes the URL too.
    """
    exc.args = (redact(str(exc), [lease.credentials.value]),)
    exc.request = request
    return exc


def answer_of(response: requests.Response) -> AuthAnswer:
    """What ``explain_response`` sees of ``response``; its body read on first use, unless
    it declares itself long."""
    return AuthAnswer(response.status_code, response.reason or "", response.headers,
                      response.url or "", text=lambda: _short_text(response))


def _short_text(response: requests.Response) -> str:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_EXPLAINED_BODY:
        return ""  # an API's refusal is short: this is something else, left unread
    try:
        return response.text
    except (RuntimeError, requests.RequestException):  # consumed, or the connection broke
        return ""


def finish(flow: RequestFlow, target: Target, outcome: Outcome, response: requests.Response,
           first: requests.Response | None) -> requests.Response:
    """The caller's answer to a finished flow: the response, or the error it means."""
    if first is not None:
        response.history.insert(0, first)
    if outcome is Outcome.REFUSED:
        error = flow.refused(target, answer_of(response))
        _attach(error, response)
        raise error
    if response.status_code in EXPLAINED_STATUSES:
        try:
            flow.explain(target, answer_of(response))
        except AccessDenied as error:
            _attach(error, response)
            raise
    return response


def _attach(error: requests.RequestException, response: requests.Response) -> None:
    error.response = response
    error.request = response.request


def status_of(response: requests.Response) -> int:
    """The status the flow judges."""
    return response.status_code


def close(response: requests.Response) -> None:
    """Release the connection of an answer that a retry replaces."""
    response.close()
