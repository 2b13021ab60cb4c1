"""The request flow, written once for every HTTP client: whose request, which lease, what
is sent, what an answer means, and whether to retry.

The flow is sans-I/O, in the shape of httpx's ``Auth.auth_flow``: a generator that yields
what it needs done and receives the result. It yields three kinds of step:

- :class:`NeedLease`: get the target's current lease (a sync client calls the broker; an
  async one awaits it in a worker thread) and send it in;
- :class:`Send`: send the caller's request with ``step.lease`` applied to a copy of it, and
  send in the answer's status;
- :class:`Invalidate`: drop a lease the API refused (I/O for a shared cache, so an async
  client runs it in a worker thread).

and finally returns an :class:`Outcome`. The rules it encodes, for every client at once:

1. A request no target owns is not the flow's: the client sends it exactly as the caller
   made it (:meth:`RequestFlow.owner` says whose it is, on the URL as it goes on the wire).
2. Credentials go on a *copy*: the caller's request object, which an HTTP library re-sends
   when it follows a redirect, never carries them.
3. A 401 to a request that carried credentials drops exactly that lease (a newer one
   another thread fetched stays). A request whose body can be sent again is retried once
   with the target's current credentials; a 401 to that retry is :attr:`Outcome.REFUSED`
   (the client raises :meth:`RequestFlow.refused`). Nothing else is ever retried, and an
   answer from a URL of another target, or of none, is not judged at all.

Drivers (:mod:`unified_auth.clients`) only convert their request and answer types at their
edge and run the steps: :meth:`RequestFlow.run_request` (and
:func:`unified_auth.core.async_lease.run_request_async`) for a driver that sends itself,
:meth:`RequestFlow.advance` (:func:`~unified_auth.core.async_lease.advance_async`) for one
that hands each request to its library, as an httpx Auth yields it. The common path, an
answer :func:`settled` at once, takes the lease and the send inline: the generator, the
one place the 401 policy is written, is made only for a 401. A driver that takes those
first steps itself (the httpx drivers, the aiohttp middleware) hands an answer in
:data:`JUDGED_STATUSES` to :meth:`RequestFlow.run_answer`
(:func:`~unified_auth.core.async_lease.run_answer_async`) and any other straight back.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Generator
from typing import TypeVar, cast

from unified_auth.core.authorise import EXPLAINED_STATUSES, Authoriser
from unified_auth.core.broker import Lease
from unified_auth.core.messages import AuthAnswer
from unified_auth.core.routing import Router
from unified_auth.errors import AuthFailed
from unified_auth.model import Target

__all__ = ["JUDGED_STATUSES", "Flow", "Invalidate", "NeedLease", "Outcome", "RequestFlow",
           "Send", "Step", "answer_flow", "request_flow", "settled"]

log = logging.getLogger("unified_auth")

R = TypeVar("R")


class NeedLease:
    """Step: get ``target``'s current lease and send it into the flow."""

    __slots__ = ("target",)

    def __init__(self, target: Target) -> None:
        self.target = target


class Send:
    """Step: send the request with ``lease`` on a copy; send the answer's status in.

    ``retry`` marks the one retry after a 401: the client closes the first answer and,
    where its library keeps one, puts it in the retry's history.
    """

    __slots__ = ("lease", "retry")

    def __init__(self, lease: Lease, *, retry: bool) -> None:
        self.lease = lease
        self.retry = retry


class Invalidate:
    """Step: drop ``lease``, which the API refused; send ``None`` in."""

    __slots__ = ("lease",)

    def __init__(self, lease: Lease) -> None:
        self.lease = lease


class Outcome(enum.Enum):
    """How a flow ended."""

    ANSWER = "answer"
    """The last answer stands: hand it to the caller (:meth:`RequestFlow.explain` first)."""
    REFUSED = "refused"
    """The retry with the target's current credentials got a 401 too: raise
    :meth:`RequestFlow.refused`."""


Step = NeedLease | Send | Invalidate
Flow = Generator[Step, "Lease | int | None", Outcome]


def request_flow(target: Target, *, can_replay: bool) -> Flow:
    """The whole flow of one request to a URL ``target`` owns.

    :param can_replay: whether the request's body can be sent a second time
        (:func:`~unified_auth.core.authorise.replayable`).
    """
    # The drivers' contract: a lease for a NeedLease, a status for a Send.
    lease = cast("Lease", (yield NeedLease(target)))
    status = cast("int", (yield Send(lease, retry=False)))
    return (yield from answer_flow(target, lease, status, can_replay=can_replay))


def answer_flow(target: Target, sent: Lease | None, status: int, *,
                can_replay: bool) -> Flow:
    """The flow from an answer on: what a ``status`` from ``target``'s URL means.

    :param sent: the lease the request carried, or ``None`` if it carried none (a
        redirected hop ``ua.auth()`` could not authorise before its library sent it).
    """
    if settled(status):
        return Outcome.ANSWER
    if sent is not None:
        yield Invalidate(sent)
    if not can_replay:
        log.info("target %s: 401 on a request whose body cannot be sent again; it is not "
                 "retried%s", target.name,
                 "" if sent is None else " (the credentials it carried were dropped)")
        return Outcome.ANSWER
    fresh = cast("Lease", (yield NeedLease(target)))
    status = cast("int", (yield Send(fresh, retry=True)))
    if settled(status):
        return Outcome.ANSWER
    yield Invalidate(fresh)
    return Outcome.REFUSED


JUDGED_STATUSES = frozenset({401}) | EXPLAINED_STATUSES
"""Statuses whose answer is more than handed back: a 401 (:func:`settled` says it is
retried), a 403 or 404 (explained). A driver hands any other answer back at once."""


def settled(status: int) -> bool:
    """Whether an answer with ``status`` stands as it is (:attr:`Outcome.ANSWER`) without
    another step of :func:`answer_flow`: anything but a 401. Drivers ask it to skip the
    generator on the common path."""
    return status != 401


class RequestFlow:
    """The flow's rules bound to a hub's router and authoriser: what every driver holds."""

    __slots__ = ("authoriser", "broker", "router")

    def __init__(self, router: Router[Target], authoriser: Authoriser) -> None:
        self.router = router
        self.authoriser = authoriser
        self.broker = authoriser.broker

    def owner(self, url: str) -> Target | None:
        """The target whose credentials a request to ``url`` gets, or ``None``."""
        return self.router.match(url)

    def advance(self, steps: Flow, answer: int | None) -> Send | Outcome:
        """Run ``steps`` on, doing the broker's steps here, to the next :class:`Send` (or
        the end). ``answer``: ``None`` to start, then the status of the last send."""
        try:
            step = steps.send(answer)
            while not isinstance(step, Send):
                if isinstance(step, NeedLease):
                    step = steps.send(self.broker.lease(step.target))
                else:
                    self.broker.invalidate(step.lease)
                    step = steps.send(None)
        except StopIteration as done:
            outcome: Outcome = done.value
            return outcome
        return step

    def run(self, steps: Flow, send: Callable[[Lease], R], status: Callable[[R], int],
            close: Callable[[R], None], answer: R | None = None) -> tuple[Outcome, R, R | None]:
        """Run ``steps`` to the end, sending with ``send(lease)``; ``close`` releases an
        answer a retry replaces.

        :param answer: the answer the request already got, for an :func:`answer_flow`
            (its client sent the first hop itself); ``None`` for a :func:`request_flow`.
        :returns: the outcome, the last answer, and the one before it (closed) if there
            was a retry, for the history of a library that keeps one.
        """
        first: R | None = None
        step = self.advance(steps, None)
        while isinstance(step, Send):
            if answer is not None:
                close(answer)
                first = answer
            answer = send(step.lease)
            step = self.advance(steps, status(answer))
        return step, cast("R", answer), first

    def run_request(self, target: Target, send: Callable[[Lease], R],
                    status: Callable[[R], int], close: Callable[[R], None], *,
                    can_replay: bool) -> tuple[Outcome, R, R | None]:
        """:func:`request_flow` for ``target``, run with :meth:`run`, its first steps (the
        lease, the send) taken inline: the generator is made only for an answer that
        :func:`settled` says needs more."""
        lease = self.broker.lease(target)
        answer = send(lease)
        if settled(status(answer)):
            return Outcome.ANSWER, answer, None
        return self.run_answer(target, lease, answer, send, status, close,
                               can_replay=can_replay)

    def run_answer(self, target: Target, sent: Lease, answer: R, send: Callable[[Lease], R],
                   status: Callable[[R], int], close: Callable[[R], None], *,
                   can_replay: bool) -> tuple[Outcome, R, R | None]:
        """:meth:`run_request` from the first answer on, for a driver that took the lease
        and the first send inline (``sent``: the lease that answer was sent with)."""
        return self.run(answer_flow(target, sent, status(answer), can_replay=can_replay),
                        send, status, close, answer)

    def refused(self, target: Target, answer: AuthAnswer) -> AuthFailed:
        """The error for :attr:`Outcome.REFUSED`; the driver attaches its own objects."""
        return self.authoriser.failed(target, answer)

    def explain(self, target: Target, answer: AuthAnswer) -> None:
        """Log the provider's explanation of a 403/404 answer once per target and status."""
        self.authoriser.explain(target, answer)
