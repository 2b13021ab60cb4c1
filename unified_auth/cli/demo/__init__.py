"""``unified-auth demo``: the main job on an embedded default, no account and no network.

It starts an :class:`~unified_auth.testing.EmulatedEnvironment` (the bundled emulators, a
config for them, secrets in 0600 files referenced with ``{ file = ... }``) and runs the
story in :mod:`.story` through one session, narrating each step (:mod:`.narrator`) and
checking what it claims with the library's own counts (:mod:`.tally`).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from unified_auth.cli import output
from unified_auth.cli.demo.narrator import Narrator
from unified_auth.cli.demo.story import MIN_INTERVAL, TOKEN_LIFETIME, Story
from unified_auth.cli.demo.tally import ScaledClock
from unified_auth.testing.environment import EmulatedEnvironment

__all__ = ["demo"]


@click.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR",
              help="Write the config and secret files here and keep them. Default: a "
                   "private temporary directory, deleted at the end.")
@click.option("--speed", type=click.FloatRange(min=1.0, max=20.0), default=1.0,
              show_default=True, metavar="FACTOR",
              help="Run the story FACTOR times faster: the emulators and the library share "
                   "a clock whose seconds pass that much quicker.")
def demo(workdir: Path | None, speed: float) -> None:
    """Run a multi-API script against the bundled emulators, narrating each step.

    Needs no account and no network, and takes under ten seconds. Exit status 0 when
    every step behaved as described, 1 otherwise.
    """
    started = time.monotonic()
    clock = ScaledClock(speed)
    narrator = Narrator(output.stdout_console(), clock)
    environment = EmulatedEnvironment(clock=clock, token_lifetime=TOKEN_LIFETIME,
                                      min_interval=MIN_INTERVAL, directory=workdir)
    try:
        environment.start()
    except OSError as exc:
        output.error(f"cannot start the emulators: {exc.strerror or exc}")
        raise click.exceptions.Exit(1) from None
    with environment:  # started once above; closing deletes the files it made
        Story(environment, narrator, clock).run()
    elapsed = time.monotonic() - started
    narrator.console.print()
    if narrator.failures:
        output.error(f"{len(narrator.failures)} of {narrator.checks} checks failed "
                     f"({elapsed:.1f} s): " + "; ".join(narrator.failures))
        raise click.exceptions.Exit(1)
    narrator.say(f"All {narrator.checks} checks passed in {elapsed:.1f} s. No secret or token "
                 f"was printed: the config holds only file references.", style="bold")
