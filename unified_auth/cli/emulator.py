"""``unified-auth emulator``: the bundled emulators on loopback until Ctrl-C, with a config.

The config (TOML) goes to stdout, everything else to stderr, so
``unified-auth emulator > emulators.toml`` captures just the config. Its secrets are in
0600 files beside it, referenced with ``{ file = ... }``, never printed.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click

from unified_auth.cli import output
from unified_auth.testing.environment import EmulatedEnvironment

__all__ = ["CONFIG_END", "emulator"]

CONFIG_END = "# end of config"
_PORT = click.IntRange(0, 65535)
_SHORT_LIFETIME = 40


@click.command()
@click.option("--port", type=click.IntRange(0, 65532), default=0, show_default=True,
              metavar="PORT",
              help="First port: Liana on PORT, LiquidPlanner on PORT+1, the classic "
                   "(Basic, API key) server on PORT+2, the OAuth 2.0 server on PORT+3. "
                   "0: any free ports.")
@click.option("--liana-port", type=_PORT, default=None, metavar="PORT",
              help="Port of the Liana emulator.")
@click.option("--lp-port", type=_PORT, default=None, metavar="PORT",
              help="Port of the LiquidPlanner emulator.")
@click.option("--classic-port", type=_PORT, default=None, metavar="PORT",
              help="Port of the classic (Basic, API key) server.")
@click.option("--oauth2-port", type=_PORT, default=None, metavar="PORT",
              help="Port of the generic OAuth 2.0 authorization server.")
@click.option("--token-lifetime", type=click.IntRange(min=1), default=900, show_default=True,
              metavar="SECONDS",
              help="Seconds a Liana or OAuth 2.0 token lives.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR",
              help="Write the config and secret files here and keep them. Default: a "
                   "private temporary directory, deleted on exit.")
def emulator(port: int, liana_port: int | None, lp_port: int | None,
             classic_port: int | None, oauth2_port: int | None, token_lifetime: int,
             workdir: Path | None) -> None:
    """Run the Liana, LiquidPlanner, classic and OAuth 2.0 emulators on 127.0.0.1 until Ctrl-C.

    Prints a ready-to-use config for them on stdout, with fresh throwaway credentials
    whose secrets sit in 0600 files referenced with { file = ... }.
    """
    environment = EmulatedEnvironment(
        liana_port=_pick(liana_port, port, 0),
        planner_port=_pick(lp_port, port, 1),
        classic_port=_pick(classic_port, port, 2),
        oauth2_port=_pick(oauth2_port, port, 3),
        token_lifetime=token_lifetime,
        # Refresh windows are fractions of a token's lifetime, but never closer together
        # than min_interval (5 s by default): short tokens need a shorter one.
        min_interval=token_lifetime / 8 if token_lifetime < _SHORT_LIFETIME else None,
        directory=workdir,
    )
    try:
        environment.start()
    except OSError as exc:
        output.error(f"cannot start the emulators: {exc.strerror or exc} "
                     f"(is a port already in use? see --port)")
        raise click.exceptions.Exit(1) from None
    with environment:  # started once above; closing deletes the files it made
        click.echo(environment.toml() + CONFIG_END)
        sys.stdout.flush()
        console = output.stderr_console()
        console.print("\n".join([
            f"Liana          {environment.liana.url}  (token endpoint /token, API /v1/, "
            f"legacy API /api/v1/)",
            f"LiquidPlanner  {environment.planner.url}  (API /api/)",
            f"classic        {environment.classic.url}  (Basic under /basic/, API key under "
            f"/keyed/)",
            f"OAuth 2.0      {environment.oauth2.url}  (token endpoint /token, API "
            f"/api/whoami)",
            f"config         {environment.config_path}",
            "",
            f"Try: UNIFIED_AUTH_CONFIG={environment.config_path} unified-auth check",
            "Ctrl-C stops the emulators"
            + ("." if workdir else " and deletes the config and secret files."),
        ]), markup=False, highlight=False, soft_wrap=True)
        _wait_for_interrupt()
    console.print("emulators stopped", markup=False)


def _pick(explicit: int | None, first: int, offset: int) -> int:
    if explicit is not None:
        return explicit
    return first + offset if first else 0


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C (or SIGTERM, treated the same)."""
    with _sigterm_interrupts():
        stop = threading.Event()
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            return


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then
    # leaves it ignored.
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
