"""The demo's step for the ``oauth2`` provider: any authorization server, one token."""

from __future__ import annotations

from collections.abc import Callable

import requests

import unified_auth
from unified_auth.cli.demo.narrator import Narrator
from unified_auth.testing.environment import REPORTS, REPORTS_SCOPE, EmulatedEnvironment

__all__ = ["show_oauth2"]


def show_oauth2(n: Narrator, hub: unified_auth.UnifiedAuth, env: EmulatedEnvironment,
                get: Callable[[str], requests.Response]) -> None:
    """Two calls to a generic OAuth 2.0 server's API: one token, with the scope asked for."""
    n.step("OAuth 2.0, any authorization server (oauth2, client_secret_basic)")
    url = f"{env.oauth2.url}/api/whoami"
    answers = [get(url) for _ in range(2)]
    who = answers[0].json() if answers[0].ok else {}
    n.say(f"2 x GET /api/whoami -> {', '.join(str(a.status_code) for a in answers)}: client "
          f"{who.get('client_id')}, scope {who.get('scope')!r}")
    n.check(all(a.ok for a in answers) and hub.stats(REPORTS).fetches == 1
            and who.get("scope") == REPORTS_SCOPE
            and env.oauth2.counters.token_requests == 1,
            f"one token, from {env.oauth2.token_url}, for the scope asked for")
