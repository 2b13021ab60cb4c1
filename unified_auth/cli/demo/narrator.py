"""Step-by-step narration for ``demo``: numbered steps, indented facts, checked expectations.

Plain ASCII through rich, so a terminal gets colour and CI captures clean text. Times within
a step are read from the demo's clock, so a sped-up run still tells the story in the
story's seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

__all__ = ["Narrator"]


class Narrator:
    """Prints the story and remembers which expectations failed."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self._clock = clock
        self.failures: list[str] = []
        self.checks = 0
        self._step = 0
        self._step_started = self._clock()

    def step(self, title: str) -> None:
        """Start a new numbered step."""
        self._step += 1
        self._step_started = self._clock()
        self.console.print()
        self.console.print(Text(f"{self._step}. {title}", style="bold cyan"), soft_wrap=True)

    def say(self, text: str, *, style: str | None = None) -> None:
        """One indented line of narration."""
        self.console.print(Text(f"   {text}", style=style or ""), soft_wrap=True)

    def at(self, text: str) -> None:
        """A line stamped with the seconds since the step began."""
        self.say(f"t={self._clock() - self._step_started:4.2f} s  {text}")

    def check(self, ok: bool, text: str) -> bool:
        """An expectation: ``ok  text`` or ``FAIL text``; failures are remembered."""
        self.checks += 1
        if not ok:
            self.failures.append(text)
        line = Text("   ")
        line.append("ok  " if ok else "FAIL", style="bold green" if ok else "bold red")
        line.append(f" {text}")
        self.console.print(line, soft_wrap=True)
        return ok

    def fail(self, text: str) -> None:
        """A step that could not go on."""
        self.check(False, text)
