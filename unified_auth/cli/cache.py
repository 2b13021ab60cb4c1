"""``unified-auth cache list`` and ``cache clear [TARGET]``: the shared cache, seen and dropped.

The cache is the one ``token``, ``request`` and ``check`` use: the config's ``[cache]``, or
without one the CLI's file cache in the user cache directory. Nothing here fetches,
and no token is ever shown: a target, what kind of record, and when it expires.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from unified_auth.cache import LayeredCache, SharedStore, StoreUnavailable, cache_for_settings
from unified_auth.cache.protocol import StoredEntry
from unified_auth.cli import logs, output
from unified_auth.cli.options import (
    CLI_DEFAULT_CACHE,
    complete_targets,
    config_option,
    debug_option,
    load_hub,
)
from unified_auth.config.secret_sources import resolve_secret
from unified_auth.errors import ConfigError, SecretError
from unified_auth.model import Secret, SecretRef

__all__ = ["cache"]

_RECORDS = {"credentials": "credentials", "failed": "failed fetch (backoff)"}


@click.group()
def cache() -> None:
    """See and drop what the shared credential cache (file or redis) holds.

    The cache is the config's [cache] table, or without one the file cache in the user
    cache directory that token, request and check use. No token is ever shown.
    """


@cache.command("list")
@config_option
@debug_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def list_entries(config_path: Path | None, as_json: bool) -> None:
    """List the cached entries per target: backend, record, expiry (never the token).

    An entry of a target no longer in the config, or of a rotated secret, is listed until
    it expires; `cache clear` drops it. Exit status: 0, or 1 if the cache cannot be read.
    """
    with _opened(config_path) as (store, backend, targets):
        now = datetime.now(UTC)
        entries = [] if store is None else _guarded(store, lambda: store.entries(
            now.timestamp()))
        description = "the memory cache of each process" if store is None else \
            store.description
    rows = sorted((_row(entry, targets, now) for entry in entries),
                  key=lambda row: (row["target"] or "\uffff", row["record"]))
    if as_json:
        output.print_json({"cache": description, "backend": backend, "entries": rows})
        return
    console = output.stdout_console()
    if store is None:
        console.print("The memory backend keeps credentials in each process only: nothing "
                      "is cached between runs.", markup=False, soft_wrap=True)
        return
    if not rows:
        console.print(f"{description}: no entries.", markup=False, soft_wrap=True)
        return
    console.print(f"{description}:", markup=False, soft_wrap=True)
    grid = output.table(console, "target", "record", "expires", "note")
    for row in rows:
        output.add_row(grid, row["target"] or "?", _RECORDS.get(row["record"], row["record"]),
                       "-" if row["expires_at"] is None else output.expiry(row["expires_at"], now),
                       row["note"])
    console.print(grid)


@cache.command("clear")
@config_option
@debug_option
@click.argument("target", required=False, shell_complete=complete_targets)
def clear(config_path: Path | None, target: str | None) -> None:
    """Drop the cached entries of TARGET, or of every target, and prune stale files.

    Running processes keep the credentials they hold in memory until they expire; the next
    process fetches anew. TARGET may be a target no longer in the config. Exit status: 0;
    1 if the cache cannot be changed; 2 if TARGET is neither in the config nor in the cache.
    """
    with _opened(config_path) as (store, _, targets):
        if store is None:
            output.stdout_console().print(
                "The memory backend keeps credentials in each process only: nothing to clear.",
                markup=False, soft_wrap=True)
            return
        now = datetime.now(UTC).timestamp()
        if target is not None and target not in targets and target not in {
                entry.target for entry in _guarded(store, lambda: store.entries(now))}:
            known = ", ".join(sorted(targets)) or "none"
            raise ConfigError(f"no target named {target!r} in the config or in the "
                              f"{store.description}; the config has: {known}")
        removed = _guarded(store, lambda: store.clear(target, now))
        description = store.description
    whose = f"target {target}" if target is not None else "all targets"
    output.stdout_console().print(
        f"{description}: removed {removed} {'entry' if removed == 1 else 'entries'} of "
        f"{whose}, and stale files.", markup=False, soft_wrap=True)


@contextlib.contextmanager
def _opened(config_path: Path | None) -> Iterator[tuple[SharedStore | None, str, set[str]]]:
    """The configured shared store (``None`` for the memory backend), its backend name and
    the config's target names."""
    with load_hub(config_path) as hub:
        config = hub.config
        targets = set(config.targets)
        clock = hub.clock
    settings = config.cache if config.cache_given else CLI_DEFAULT_CACHE
    built = cache_for_settings(settings, clock, _resolve(config.source),
                               source=config.source)
    try:
        store = built.store if isinstance(built, LayeredCache) else None
        yield store, settings.backend, targets
    finally:
        built.close()


def _resolve(source: str) -> Any:
    def resolve(ref: SecretRef) -> Secret:
        secret = resolve_secret(ref)
        if secret is None:
            raise SecretError(f"cache list and cache clear resolve the Redis password from "
                              f"env, file, keyring or command references, not {ref.kind!r}",
                              source=source, key="cache.password")
        return secret

    return resolve


def _guarded(store: SharedStore, operation: Any) -> Any:
    """``operation()``; a failing store is one line naming it, and exit status 1."""
    try:
        return operation()
    except StoreUnavailable as exc:
        logs.error(f"{store.description}: {exc}")
        raise click.exceptions.Exit(1) from None


def _row(entry: StoredEntry, targets: set[str], now: datetime) -> dict[str, Any]:
    notes = []
    expires_at = None
    if entry.problem is not None:
        notes.append(f"invalid: {entry.problem}")
    elif entry.expires_ts is not None and entry.expires_ts != float("inf"):
        expires_at = datetime.fromtimestamp(entry.expires_ts, UTC)
        if expires_at <= now:
            notes.append("expired")
    if entry.target is not None and entry.target not in targets:
        notes.append("not in the config")
    return {"target": entry.target, "record": entry.record, "expires_at": expires_at,
            "valid": entry.problem is None and "expired" not in notes,
            "note": "; ".join(notes) or "-"}
