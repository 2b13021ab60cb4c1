"""The demo's script: each step makes real requests through one session and checks a claim.

The claims: a token fetched once and reused, renewed before it expires, one fetch for 16
threads, a rotated secret picked up, a disconnected owner explained, signed, Basic and
API-key calls, a generic OAuth 2.0 server (:mod:`.oauth2_step`), and credentials going
nowhere else (an unclaimed host, a redirect). The counts shown come from ``ua.stats()`` and
a ``credentials_event`` observer, and the summary table adds up the same counts. Tokens are
named by a short digest, never shown.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

import unified_auth
from unified_auth import TargetStats
from unified_auth.cli import output
from unified_auth.cli.demo.narrator import Narrator
from unified_auth.cli.demo.oauth2_step import show_oauth2
from unified_auth.cli.demo.tally import EventLog, ScaledClock, total
from unified_auth.errors import AuthFailed, UnifiedAuthError
from unified_auth.testing.environment import (
    CLASSIC,
    CLASSIC_KEY,
    LEGACY,
    MAILER,
    PLANNER,
    REPORTS,
    EmulatedEnvironment,
)

__all__ = ["MIN_INTERVAL", "TOKEN_LIFETIME", "Story"]

TOKEN_LIFETIME = 4
"""Seconds a Liana emulator token lives in the demo (900 in real life)."""
MIN_INTERVAL = 0.5
CALL_EVERY = 0.25
REFRESH_WATCH = 5.0
ROTATION_WAIT = 2.0 * TOKEN_LIFETIME
THREADS = 16
HTTP_TIMEOUT = 10.0
TARGETS = (MAILER, LEGACY, PLANNER, CLASSIC, CLASSIC_KEY, REPORTS)


class Story:
    """The steps, run in order against ``environment`` with one hub (and a second for step 4)."""

    def __init__(self, environment: EmulatedEnvironment, narrator: Narrator,
                 clock: ScaledClock) -> None:
        self.env = environment
        self.n = narrator
        self.clock = clock
        self.log = EventLog()
        self.hub: unified_auth.UnifiedAuth | None = None
        self.other_hubs: list[unified_auth.UnifiedAuth] = []
        self.session = requests.Session()
        self.lists_url = f"{environment.liana.url}/v1/lists"

    def run(self) -> None:
        self._introduce()
        with unified_auth.load(self.env.config_path, plugins=[self.log],
                               clock=self.clock) as hub:
            self.hub = hub
            self.session = hub.session()
            steps: list[Callable[[], None]] = [
                self._first_call, self._reuse, self._proactive_refresh, self._single_flight,
                self._rotation, self._liquidplanner, self._legacy, self._classic,
                lambda: show_oauth2(self.n, hub, self.env, self._get), self._isolation]
            for step in steps:
                try:
                    step()
                except (UnifiedAuthError, requests.RequestException) as exc:
                    message = exc.message if isinstance(exc, UnifiedAuthError) else repr(exc)
                    self.n.fail(f"the step stopped: {message}")
            self._summary()

    # -- helpers -----------------------------------------------------------------------

    def _get(self, url: str, session: requests.Session | None = None) -> requests.Response:
        target = self._hub.target_for(url)
        if target is not None:
            self.log.requests[target.name] += 1
        return (session or self.session).get(url, timeout=HTTP_TIMEOUT)

    @property
    def _hub(self) -> unified_auth.UnifiedAuth:
        assert self.hub is not None, "run() sets the hub"  # nosec B101 # narrows the type
        return self.hub

    def _stats(self, target: str) -> TargetStats:
        return self._hub.stats(target)

    def _digest(self, target: str) -> str:
        """The first 8 hex digits of a SHA-256 digest of the current token, never the token."""
        return self._hub.credentials(target).value.fingerprint[:8]

    # -- steps -------------------------------------------------------------------------

    def _introduce(self) -> None:
        env = self.env
        self.n.step("Start the emulators and write a config for them")
        self.n.say(f"Liana          {env.liana.url}  (OAuth 2.0 tokens live "
                   f"{TOKEN_LIFETIME} s here, 900 s in real life)")
        self.n.say(f"LiquidPlanner  {env.planner.url}")
        self.n.say(f"classic        {env.classic.url}  (HTTP Basic and an API key)")
        self.n.say(f"OAuth 2.0      {env.oauth2.url}  (any authorization server)")
        self.n.say(f"config         {env.config_path}  (secrets in 0600 files beside it):")
        for line in env.toml().splitlines():
            if line and not line.startswith("#"):
                self.n.say(f"  {line}", style="dim")
        self.n.say("A token is never shown: 'token digest 682dbb9a' names one by the first 8 "
                   "hex digits of its SHA-256 digest.")

    def _first_call(self) -> None:
        self.n.step("Liana: the first call fetches a token")
        response = self._get(self.lists_url)
        names = ", ".join(item["name"] for item in response.json().get("result", []))
        self.n.say(f"GET /v1/lists -> {response.status_code}: {names}")
        self.n.check(response.ok and self._stats(MAILER).fetches == 1
                     and self.env.liana.counters.token_requests == 1,
                     f"one token fetch (token digest {self._digest(MAILER)})")

    def _reuse(self) -> None:
        self.n.step("Liana: later calls reuse the token")
        statuses = [self._get(self.lists_url).status_code for _ in range(5)]
        self.n.say(f"5 x GET /v1/lists -> {', '.join(map(str, statuses))}")
        self.n.check(statuses == [200] * 5 and self._stats(MAILER).fetches == 1,
                     "still one token fetch in all")

    def _proactive_refresh(self) -> None:
        self.n.step(f"Liana: the token is renewed before it expires ({TOKEN_LIFETIME} s "
                    f"tokens, a call every {CALL_EVERY} s for {REFRESH_WATCH:g} s)")
        liana, clock = self.env.liana, self.clock
        before_emulator, before = liana.counters, self._stats(MAILER)
        seen, statuses = self._digest(MAILER), []
        deadline = clock.deadline(REFRESH_WATCH)
        while clock() < deadline:
            statuses.append(self._get(self.lists_url).status_code)
            digest = self._digest(MAILER)
            if digest != seen:
                self._hub.flush_events(timeout=HTTP_TIMEOUT)  # the observer's thread
                margin = self.log.last_refresh_margin(MAILER) or 0.0
                self.n.at(f"renewed in the background {margin:.1f} s before expiry: token "
                          f"digest {seen} -> {digest}")
                seen = digest
            clock.sleep(CALL_EVERY)
        after_emulator, after = liana.counters, self._stats(MAILER)
        refreshes = after.background_refreshes - before.background_refreshes
        self.n.say(f"{len(statuses)} calls: {statuses.count(200)} x 200")
        self.n.check(refreshes >= 1, f"{refreshes} background refresh(es), made while the old "
                                     f"token was still valid")
        self.n.check(after_emulator.expired_token_requests
                     == before_emulator.expired_token_requests == 0,
                     "the emulator saw no request with an expired token")
        self.n.check(after.rejections == before.rejections and statuses == [200] * len(statuses),
                     "no 401: nothing waited for a token to fail")

    def _single_flight(self) -> None:
        self.n.step(f"Liana: {THREADS} threads share one token fetch (a fresh hub)")
        before = self.env.liana.counters.token_requests
        with unified_auth.load(self.env.config_path, clock=self.clock) as fresh:
            self.other_hubs.append(fresh)
            session = fresh.session()
            barrier = threading.Barrier(THREADS)

            def call(_: int) -> int:
                barrier.wait(timeout=HTTP_TIMEOUT)
                return self._get(self.lists_url, session).status_code

            with ThreadPoolExecutor(THREADS) as pool:
                statuses = list(pool.map(call, range(THREADS)))
        fetches = fresh.stats(MAILER).fetches
        emulator = self.env.liana.counters.token_requests - before
        self.n.say(f"{THREADS} concurrent GET /v1/lists -> {statuses.count(200)} x 200")
        self.n.check(fetches == emulator == 1 and statuses == [200] * THREADS,
                     f"{fetches} token fetch for {THREADS} threads (expected exactly 1)")

    def _rotation(self) -> None:
        self.n.step("Liana: a rotated secret is picked up from its file")
        env, clock = self.env, self.clock
        env.write_secret(MAILER, env.liana.rotate_secret(env.client_id))
        self.n.say("rotated the client secret in Liana (the old one is refused from now on; "
                   "tokens already issued live on) and rewrote the secret file")
        start, seen, statuses = self._stats(MAILER), self._digest(MAILER), []
        deadline = clock.deadline(ROTATION_WAIT)
        while clock() < deadline and self._stats(MAILER).fetches == start.fetches:
            statuses.append(self._get(self.lists_url).status_code)
            clock.sleep(CALL_EVERY)
        end = self._stats(MAILER)
        refused = end.failed_fetches - start.failed_fetches
        self.n.at(f"next refresh: the old secret was refused {refused} time(s), the core "
                  f"re-read the file and got token digest {seen} -> {self._digest(MAILER)}")
        self.n.check(end.fetches > start.fetches and refused >= 1,
                     "the new secret was read from the file and used")
        self.n.check(end.rejections == start.rejections and set(statuses) <= {200},
                     f"{len(statuses)} calls meanwhile, no 401")

    def _liquidplanner(self) -> None:
        self.n.step("LiquidPlanner: an API token, then its owner is disconnected")
        planner, org = self.env.planner, self.env.org
        assert org is not None  # nosec B101 # narrows the type; the environment made it
        me = self._get(f"{planner.url}/api/users/v1/me")
        workspaces = self._get(f"{planner.url}/api/workspaces/v1")
        name = me.json()["data"][0]["name"]
        spaces = ", ".join(w["name"] for w in workspaces.json()["data"])
        self.n.say(f"GET /api/users/v1/me -> {me.status_code}: {name}")
        self.n.say(f"GET /api/workspaces/v1 -> {workspaces.status_code}: {spaces}")
        self.n.check(me.ok and workspaces.ok, "the token acts as its owner")
        planner.disconnect_member(org.editor_id)
        self.n.say(f"an org admin disconnects {name}: LiquidPlanner disables the tokens "
                   f"{name} owns")
        before = self._stats(PLANNER)
        try:
            answer = self._get(f"{planner.url}/api/workspaces/v1")
        except AuthFailed as exc:
            after = self._stats(PLANNER)
            self.n.say("401; the core re-read the token, retried once, got a second 401, "
                       "then raised AuthFailed:")
            self.n.say(f"  {exc.message}", style="yellow")
            self.n.check(after.rejections - before.rejections == 2,
                         "a clear error after exactly two 401s, instead of a retry loop")
            return
        self.n.check(False, f"expected AuthFailed, got {answer.status_code}")

    def _legacy(self) -> None:
        self.n.step("Liana legacy API: signed requests (liana-legacy)")
        liana = self.env.liana.url
        self.log.requests[LEGACY] += 1
        echoed = self.session.post(f"{liana}/api/v1/echoMessage", timeout=HTTP_TIMEOUT,
                                   json={"message": "hello from unified-auth"})
        lists = self._get(f"{liana}/api/v1/lists")
        self.n.say(f"POST /api/v1/echoMessage -> {echoed.status_code}: "
                   f"{json.dumps(_field(echoed, 'result'))}")
        self.n.say(f"GET /api/v1/lists -> {lists.status_code}")
        self.n.check(echoed.ok and lists.ok, "both requests carried a valid HMAC signature")

    def _classic(self) -> None:
        self.n.step("Static credentials: HTTP Basic and an API key")
        classic = self.env.classic.url
        for prefix, kind in (("basic", "Basic"), ("keyed", "API key")):
            answer = self._get(f"{classic}/{prefix}/v1/me")
            self.n.say(f"GET /{prefix}/v1/me -> {answer.status_code}: authenticated as "
                       f"{_field(answer, 'authenticated_as')} ({_field(answer, 'method')})")
            self.n.check(answer.ok, f"the {kind} call passed")

    def _isolation(self) -> None:
        self.n.step("Credentials go only to their target's hosts")
        liana, classic = self.env.liana, self.env.classic
        # The same emulator under another name: a host no target claims.
        unclaimed = f"http://localhost:{liana.url.rsplit(':', 1)[1]}/v1/lists"
        answer = self._get(unclaimed)
        self.n.say(f"GET {unclaimed} -> {answer.status_code} (no target claims localhost)")
        self.n.check(self._hub.target_for(unclaimed) is None and answer.status_code == 401,
                     "a host no target claims got no credentials")
        away = f"http://localhost:{classic.url.rsplit(':', 1)[1]}/keyed/v1/me"
        before = classic.counters
        answer = self._get(f"{classic.url}/keyed/v1/me?redirect_to={away}")
        after = classic.counters
        hops = " -> ".join(str(r.status_code) for r in [*answer.history, answer])
        self.n.say(f"GET /keyed/v1/me?redirect_to={away} -> {hops}")
        self.n.check([r.status_code for r in answer.history] == [302]
                     and answer.status_code == 401
                     and after.api_key_requests - before.api_key_requests == 1
                     and after.rejected_requests - before.rejected_requests == 1,
                     "the API key went to the first host only; the redirect to another host "
                     "carried none")

    def _summary(self) -> None:
        for hub in (self._hub, *self.other_hubs):
            hub.flush_events(timeout=HTTP_TIMEOUT)  # what the observer saw, complete
        console = self.n.console
        console.print()
        grid = output.table(console, "target", "provider", "calls", "token\nfetches",
                            "renewed\nearly", "failed\nfetches", "401s",
                            title="Summary: calls the steps made, and ua.stats() of the hubs",
                            numeric=5)
        for name in TARGETS:
            stats = total(hub.stats(name) for hub in (self._hub, *self.other_hubs))
            output.add_row(grid, name, self._hub.target(name).provider,
                           str(self.log.requests[name]), str(stats.fetches),
                           str(stats.background_refreshes), str(stats.failed_fetches),
                           str(stats.rejections))
        console.print(grid)
        counters = self.env.liana.counters
        self.n.say(f"Liana emulator: {counters.token_requests} token requests, "
                   f"{counters.api_requests} API requests, "
                   f"{counters.expired_token_requests} with an expired token.")


def _field(response: requests.Response, name: str) -> Any:
    try:
        return response.json().get(name)
    except ValueError:
        return None
