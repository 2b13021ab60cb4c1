"""``unified-auth demo``: the main job on an embedded default, no account and no network.

It starts the bundled emulators, writes a config for them (secrets in 0600 files referenced
with ``{ file = ... }``) and runs a script through one session, narrating each step and
checking what it claims: a token fetched once and reused, renewed before it expires, one
fetch for 16 threads, a rotated secret picked up, a disconnected owner explained, signed,
Basic and API-key calls. Tokens are never printed, only short digests of them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import requests

import unified_auth
from unified_auth.cli import output
from unified_auth.cli._narrator import Narrator
from unified_auth.cli._watch import Watcher
from unified_auth.cli.sandbox import CLASSIC, CLASSIC_KEY, LEGACY, MAILER, PLANNER, Sandbox
from unified_auth.errors import AuthFailed, UnifiedAuthError

__all__ = ["demo"]

TOKEN_LIFETIME = 4
"""Seconds a Liana emulator token lives in the demo (900 in real life)."""
MIN_INTERVAL = 0.5
CALL_EVERY = 0.25
REFRESH_WATCH = 5.0
ROTATION_WAIT = 2.0 * TOKEN_LIFETIME
THREADS = 16
HTTP_TIMEOUT = 10.0


@click.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR",
              help="Write the config and secret files here and keep them. Default: a "
                   "private temporary directory, deleted at the end.")
def demo(workdir: Path | None) -> None:
    """Run a multi-API script against the bundled emulators, narrating each step.

    Needs no account and no network, and takes under ten seconds. Exit status 0 when
    every step behaved as described, 1 otherwise.
    """
    started = time.monotonic()
    narrator = Narrator(output.stdout_console())
    try:
        sandbox = Sandbox(token_lifetime=TOKEN_LIFETIME, min_interval=MIN_INTERVAL,
                          directory=workdir).start()
    except OSError as exc:
        output.error(f"cannot start the emulators: {exc.strerror or exc}")
        raise click.exceptions.Exit(1) from None
    with sandbox:
        _Script(sandbox, narrator).run()
    elapsed = time.monotonic() - started
    narrator.console.print()
    if narrator.failures:
        output.error(f"{len(narrator.failures)} of {narrator.checks} checks failed "
                     f"({elapsed:.1f} s): " + "; ".join(narrator.failures))
        raise click.exceptions.Exit(1)
    narrator.say(f"All {narrator.checks} checks passed in {elapsed:.1f} s. No secret or token "
                 f"was printed: the config holds only file references.", style="bold")


class _Script:
    def __init__(self, sandbox: Sandbox, narrator: Narrator) -> None:
        self.box = sandbox
        self.n = narrator
        self.watcher = Watcher()
        self.hub: unified_auth.UnifiedAuth | None = None
        self.session = requests.Session()
        liana = sandbox.liana.url
        self.lists_url = f"{liana}/v1/lists"

    def run(self) -> None:
        self._introduce()
        with unified_auth.load(self.box.config_path, plugins=[self.watcher]) as hub:
            self.hub = hub
            self.session = self.watcher.watch(hub.session())
            steps: list[Callable[[], None]] = [
                self._first_call, self._reuse, self._proactive_refresh, self._single_flight,
                self._rotation, self._liquidplanner, self._legacy, self._classic]
            for step in steps:
                try:
                    step()
                except (UnifiedAuthError, requests.RequestException) as exc:
                    message = exc.message if isinstance(exc, UnifiedAuthError) else repr(exc)
                    self.n.fail(f"the step stopped: {message}")
            self._summary()

    # -- helpers -----------------------------------------------------------------------

    def _get(self, url: str) -> requests.Response:
        return self.session.get(url, timeout=HTTP_TIMEOUT)

    def _digest(self, target: str) -> str:
        """A short digest naming the target's current token, never the token itself."""
        assert self.hub is not None  # nosec B101 # narrows the type; set before use
        return self.hub.credentials(target).value.fingerprint[:8]

    # -- steps -------------------------------------------------------------------------

    def _introduce(self) -> None:
        box = self.box
        self.n.step("Start the emulators and write a config for them")
        self.n.say(f"Liana          {box.liana.url}  (OAuth 2.0 tokens live "
                   f"{TOKEN_LIFETIME} s here, 900 s in real life)")
        self.n.say(f"LiquidPlanner  {box.planner.url}")
        self.n.say(f"classic        {box.classic.url}  (HTTP Basic and an API key)")
        self.n.say(f"config         {box.config_path}  (secrets in 0600 files beside it):")
        for line in box.toml().splitlines():
            if line and not line.startswith("#"):
                self.n.say(f"  {line}", style="dim")

    def _first_call(self) -> None:
        self.n.step("Liana: the first call fetches a token")
        response = self._get(self.lists_url)
        names = ", ".join(item["name"] for item in response.json().get("result", []))
        self.n.say(f"GET /v1/lists -> {response.status_code}: {names}")
        self.n.check(response.ok and self.box.liana.counters.token_requests == 1,
                     f"one token request (token {self._digest(MAILER)})")

    def _reuse(self) -> None:
        self.n.step("Liana: later calls reuse the token")
        statuses = [self._get(self.lists_url).status_code for _ in range(5)]
        self.n.say(f"5 x GET /v1/lists -> {', '.join(map(str, statuses))}")
        self.n.check(statuses == [200] * 5 and self.box.liana.counters.token_requests == 1,
                     "still one token request in all")

    def _proactive_refresh(self) -> None:
        self.n.step(f"Liana: the token is renewed before it expires ({TOKEN_LIFETIME} s "
                    f"tokens, a call every {CALL_EVERY} s for {REFRESH_WATCH:g} s)")
        liana, watch = self.box.liana, self.watcher
        before, fetches = liana.counters, watch.tally(MAILER).proactive
        seen, statuses = self._digest(MAILER), []
        deadline = time.monotonic() + REFRESH_WATCH
        while time.monotonic() < deadline:
            statuses.append(self._get(self.lists_url).status_code)
            digest = self._digest(MAILER)
            if digest != seen:
                margin = watch.tally(MAILER).last_margin or 0.0
                self.n.at(f"renewed in the background {margin:.1f} s before expiry: token "
                          f"{seen} -> {digest}")
                seen = digest
            time.sleep(CALL_EVERY)
        after, tally = liana.counters, watch.tally(MAILER)
        self.n.say(f"{len(statuses)} calls: {statuses.count(200)} x 200")
        self.n.check(tally.proactive > fetches, f"{tally.proactive - fetches} proactive "
                     f"refresh(es), made while the old token was still valid")
        self.n.check(after.expired_token_requests == before.expired_token_requests == 0,
                     "the emulator saw no request with an expired token")
        self.n.check(tally.unauthorized == 0 and statuses == [200] * len(statuses),
                     "no 401: nothing waited for a token to fail")

    def _single_flight(self) -> None:
        self.n.step(f"Liana: {THREADS} threads share one token fetch (a fresh hub)")
        watcher = Watcher()
        before = self.box.liana.counters.token_requests
        with unified_auth.load(self.box.config_path, plugins=[watcher]) as fresh:
            session = watcher.watch(fresh.session())
            barrier = threading.Barrier(THREADS)

            def call(_: int) -> int:
                barrier.wait()
                return session.get(self.lists_url, timeout=HTTP_TIMEOUT).status_code

            with ThreadPoolExecutor(THREADS) as pool:
                statuses = list(pool.map(call, range(THREADS)))
        self.watcher.absorb(watcher)
        fetched = self.box.liana.counters.token_requests - before
        self.n.say(f"{THREADS} concurrent GET /v1/lists -> {statuses.count(200)} x 200")
        self.n.check(fetched == 1 and statuses == [200] * THREADS,
                     f"token requests went up by {fetched} (expected exactly 1)")

    def _rotation(self) -> None:
        self.n.step("Liana: a rotated secret is picked up from its file")
        liana, watch = self.box.liana, self.watcher
        new_secret = liana.rotate(self.box.client_id)
        self.box.write_secret(MAILER, new_secret)
        self.n.say("rotated the client secret in Liana (the old one is refused from now on; "
                   "tokens already issued live on) and rewrote the secret file")
        start, seen, statuses = watch.tally(MAILER), self._digest(MAILER), []
        deadline = time.monotonic() + ROTATION_WAIT
        while time.monotonic() < deadline and watch.tally(MAILER).fetches == start.fetches:
            statuses.append(self._get(self.lists_url).status_code)
            time.sleep(CALL_EVERY)
        end = watch.tally(MAILER)
        self.n.at(f"next refresh: the old secret was refused "
                  f"{end.rejected_fetches - start.rejected_fetches} time(s), the core re-read "
                  f"the file and got token {seen} -> {self._digest(MAILER)}")
        self.n.check(end.fetches > start.fetches and end.rejected_fetches > start.rejected_fetches,
                     "the new secret was read from the file and used")
        self.n.check(end.unauthorized == start.unauthorized and set(statuses) <= {200},
                     f"{len(statuses)} calls meanwhile, no 401")

    def _liquidplanner(self) -> None:
        self.n.step("LiquidPlanner: an API token, then its owner is disconnected")
        planner, org = self.box.planner, self.box.org
        assert org is not None  # nosec B101 # narrows the type; set before use
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
        try:
            answer = self._get(f"{planner.url}/api/workspaces/v1")
        except AuthFailed as exc:
            self.watcher.failed(exc)
            self.n.say("401; the core re-read the token, retried once, then raised AuthFailed:")
            self.n.say(f"  {exc.message}", style="yellow")
            self.n.check(True, "a clear error instead of a retry loop")
            return
        self.n.check(False, f"expected AuthFailed, got {answer.status_code}")

    def _legacy(self) -> None:
        self.n.step("Liana legacy API: signed requests (liana-legacy)")
        liana = self.box.liana.url
        echoed = self.session.post(f"{liana}/api/v1/echoMessage", timeout=HTTP_TIMEOUT,
                                   json={"message": "hello from unified-auth"})
        lists = self._get(f"{liana}/api/v1/lists")
        self.n.say(f"POST /api/v1/echoMessage -> {echoed.status_code}: "
                   f"{json.dumps(_field(echoed, 'result'))}")
        self.n.say(f"GET /api/v1/lists -> {lists.status_code}")
        self.n.check(echoed.ok and lists.ok, "both requests carried a valid HMAC signature")

    def _classic(self) -> None:
        self.n.step("Static credentials: HTTP Basic and an API key")
        classic = self.box.classic.url
        for prefix, kind in (("basic", "Basic"), ("keyed", "API key")):
            answer = self._get(f"{classic}/{prefix}/v1/me")
            self.n.say(f"GET /{prefix}/v1/me -> {answer.status_code}: authenticated as "
                       f"{_field(answer, 'authenticated_as')} ({_field(answer, 'method')})")
            self.n.check(answer.ok, f"the {kind} call passed")

    def _summary(self) -> None:
        console = self.n.console
        console.print()
        grid = output.table(console, "API (target)", "provider", "requests", "token\nfetches",
                            "401s", "proactive\nrefreshes", title="Summary", numeric=4)
        assert self.hub is not None  # nosec B101 # narrows the type; set before use
        for name in (MAILER, LEGACY, PLANNER, CLASSIC, CLASSIC_KEY):
            tally = self.watcher.tally(name)
            output.add_row(grid, name, self.hub.target(name).provider, str(tally.requests),
                           str(tally.fetches), str(tally.unauthorized), str(tally.proactive))
        console.print(grid)
        stats = self.box.liana.counters
        self.n.say(f"Liana emulator: {stats.token_requests} token requests, "
                   f"{stats.api_requests} API requests, "
                   f"{stats.expired_token_requests} with an expired token.")


def _field(response: requests.Response, name: str) -> Any:
    try:
        return response.json().get(name)
    except ValueError:
        return None
