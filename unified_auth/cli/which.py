"""``unified-auth which URL``: which target's credentials a request to URL gets, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import click

from unified_auth import Target, UnifiedAuth
from unified_auth.cli import output
from unified_auth.cli.options import config_option, http_url, load_hub
from unified_auth.core.routing import DEFAULT_PORTS, HostPattern, Router, normalise_host

__all__ = ["Route", "route", "which"]


@attrs.frozen
class Route:
    """The answer for one URL: the target and the pattern that won, or the near misses."""

    url: str
    target: str | None = None
    provider: str | None = None
    pattern: str | None = None
    near_misses: tuple[tuple[str, str, str], ...] = ()
    """``(target, pattern, why it does not match)`` for patterns on the URL's host."""

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "target": self.target, "provider": self.provider,
                "pattern": self.pattern,
                "near_misses": [{"target": t, "pattern": p, "why": w}
                                for t, p, w in self.near_misses]}


def route(hub: UnifiedAuth, url: str) -> Route:
    """Ask the hub's router (the one requests go through) who owns ``url``, and why."""
    target = hub.target_for(url)
    if target is not None:
        return Route(url, target.name, target.provider, _winning_pattern(target, url))
    return Route(url, near_misses=tuple(_near_misses(hub.targets.values(), url)))


def _winning_pattern(target: Target, url: str) -> str | None:
    # The target's own patterns, ranked as the hub ranks them: the most specific wins.
    router = Router((HostPattern.parse(text), text) for text in target.hosts)
    return router.match(url)


def _near_misses(targets: Any, url: str) -> list[tuple[str, str, str]]:
    parts = http_url(url)
    host = normalise_host(parts.hostname or "")
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS.get(scheme)
    misses = []
    for target in targets:
        for text in target.hosts:
            pattern = HostPattern.parse(text)
            if pattern.wildcard:
                if host == pattern.host:
                    why = "a wildcard matches the hosts below a domain, never the domain itself"
                elif host.endswith("." + pattern.host):
                    why = _scheme_or_port(pattern, scheme, port) or "no match"
                else:
                    continue
            elif host != pattern.host:
                continue
            else:
                why = _scheme_or_port(pattern, scheme, port) or (
                    f"the path {parts.path or '/'} is not under {pattern.path}/")
            misses.append((target.name, text, why))
    return misses


def _scheme_or_port(pattern: HostPattern, scheme: str, port: int | None) -> str | None:
    if pattern.scheme != scheme:
        return f"the pattern is for {pattern.scheme}, the URL is {scheme}"
    if pattern.port != port:
        return f"the pattern is for port {pattern.port}, the URL's is {port}"
    return None


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.argument("url")
def which(config_path: Path | None, as_json: bool, url: str) -> None:
    """Say which target (and provider) a request to URL gets credentials from, and why.

    Routing is on the parsed scheme, host, port and path, exactly as for a request: no
    credentials are fetched and nothing is sent. Exit status: 0 when a target owns URL,
    1 when none does, 2 for a config or usage error.
    """
    http_url(url)  # a bad URL is a one-line usage error before the config is read
    with load_hub(config_path) as hub:
        found = attrs.evolve(route(hub, url), url=_without_userinfo(url))
        source = hub.config.source
    url = found.url
    if as_json:
        output.print_json({"config": source, **found.to_json()})
    else:
        console = output.stdout_console()
        if found.target is not None:
            console.print(f"{url}: target {found.target} (provider {found.provider}), "
                          f"matched by its host pattern {found.pattern!r} in {source}",
                          markup=False, soft_wrap=True)
        else:
            console.print(f"{url}: no target; requests to it are sent without credentials. "
                          f"No host pattern in {source} matches it.", markup=False,
                          soft_wrap=True)
            for target, pattern, why in found.near_misses:
                console.print(f"  not {target}'s {pattern!r}: {why}", markup=False,
                              soft_wrap=True)
    if found.target is None:
        raise click.exceptions.Exit(1)


def _without_userinfo(url: str) -> str:
    """``url`` without its ``user:password@``: a password has no business in the output."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
