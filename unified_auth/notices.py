"""Warnings as values: what the user should know, and who decides how to show it.

The library logs each :class:`Notice` once (logger ``unified_auth``, WARNING), with the
value attached to the log record as ``record.notice``. Whoever owns the output (the CLI,
an application's logging setup) decides what to show by ``notice.kind`` and
``notice.target``, never by the words of the message, which may change.
"""

from __future__ import annotations

import logging
from typing import Literal

import attrs

__all__ = ["Notice", "NoticeKind", "log_notice"]

NoticeKind = Literal["clear_text_secret", "broken_plugin", "target_warning",
                     "credentials_held_over", "secret_file_readable"]
"""``clear_text_secret``: a secret written in the config itself; ``broken_plugin``: an
installed plugin failed to load and is skipped; ``target_warning``: what a target's plugin
says the user should know (an expiry date near, a token to cycle);
``credentials_held_over``: the provider refused the secret (or it could not be read), and
the still-valid credentials stay in use meanwhile; ``secret_file_readable``: a secret file
that the group or others may read."""


@attrs.frozen
class Notice:
    """One thing the user should know, as a value.

    :param kind: what it is about (see :data:`NoticeKind`).
    :param text: the sentence for people, naming the file, target, key or plugin.
    :param target: the target it concerns, if any.
    """

    kind: NoticeKind
    text: str
    target: str | None = None


def log_notice(logger: logging.Logger, notice: Notice) -> None:
    """Log ``notice.text`` at WARNING with the notice on the record (``record.notice``)."""
    logger.warning("%s", notice.text, extra={"notice": notice})
