"""The ``unified_auth`` logger on stderr, one readable line per record.

Without ``--debug``: warnings and errors as ``warning: target mailer: ...``. With it:
every record down to DEBUG, with time, thread and logger. A command may mute the notices
(:class:`~unified_auth.notices.Notice`, attached to a record as ``record.notice``) it already
shows in its own output: ``check`` shows target warnings in its table.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import click

from unified_auth.notices import Notice

__all__ = ["LOGGER", "enable_debug", "error", "mute", "setup_logging"]

LOGGER = logging.getLogger("unified_auth")


class _StderrHandler(logging.Handler):
    def __init__(self, debug: bool) -> None:
        super().__init__(logging.DEBUG if debug else logging.WARNING)
        self.debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            level = record.levelname.lower()
            if self.debug:
                stamp = self.formatter.formatTime(record, "%H:%M:%S") if self.formatter else ""
                line = f"{stamp}.{int(record.msecs):03d} {level} [{record.threadName}] " \
                       f"{record.name}: {message}"
            else:
                line = f"{level}: {message}"
            click.echo(line, err=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


def error(message: str) -> None:
    """``error: message`` on stderr (bold red on a terminal), the message taken literally.

    Here rather than beside the tables: every command may fail, and loading rich to say so
    would cost each run of ``unified-auth token`` in a shell loop.
    """
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)


def setup_logging(debug: bool) -> Callable[[], None]:
    """Send the ``unified_auth`` logger to stderr; returns how to put it back as it was.

    A command run in-process (tests, a program calling :func:`unified_auth.cli.main`)
    leaves the logger as it found it.
    """
    level = LOGGER.level
    handler = _StderrHandler(debug)
    handler.setFormatter(logging.Formatter())
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.DEBUG if debug else min(level or logging.WARNING, logging.WARNING))

    def restore() -> None:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)

    return restore


def enable_debug() -> None:
    """Switch the handlers :func:`setup_logging` added to ``--debug`` (given after the command).
    """
    handlers = [h for h in LOGGER.handlers if isinstance(h, _StderrHandler)]
    for handler in handlers:
        handler.debug = True
        handler.setLevel(logging.DEBUG)
    if handlers:  # else setup_logging, still to come, sets the level (and restores it)
        LOGGER.setLevel(logging.DEBUG)


@contextlib.contextmanager
def mute(shown_elsewhere: Callable[[Notice], bool]) -> Iterator[None]:
    """Drop the records of the notices ``shown_elsewhere`` says the command already shows.

    Only records carrying a :class:`Notice` can be muted; errors always pass, and so does
    everything with ``--debug``.
    """

    def keep(record: logging.LogRecord) -> bool:
        notice = getattr(record, "notice", None)
        return (record.levelno >= logging.ERROR or not isinstance(notice, Notice)
                or not shown_elsewhere(notice))

    handlers = [h for h in LOGGER.handlers if isinstance(h, _StderrHandler) and not h.debug]
    for handler in handlers:
        handler.addFilter(keep)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(keep)
