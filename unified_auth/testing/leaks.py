"""``assert_no_leaks``: prove a secret shows up nowhere in some output, in any usual disguise.

It looks for every form :func:`unified_auth.core.redaction.secret_forms` lists (plain,
URL-encoded, JSON-escaped, base64 at any alignment, so inside an HTTP Basic ``user:secret``
header too): the very list :func:`unified_auth.redact` masks. The failure message says which
secret (by index) and where, with the secret masked out of the context it quotes.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from unified_auth.core.redaction import MIN_SECRET_LENGTH, secret_forms
from unified_auth.model import Secret

__all__ = ["MIN_SECRET_LENGTH", "assert_no_leaks"]

_CONTEXT = 12


@attrs.frozen
class _Needle:
    secret_index: int
    form: str
    text: str = attrs.field(repr=False)
    margin: int = 0


@attrs.frozen
class _Leak:
    secret_index: int
    form: str
    chunk: int
    start: int
    end: int


def assert_no_leaks(
    output: str | bytes | Iterable[str | bytes], secrets: Iterable[str | Secret]
) -> None:
    """Raise :class:`AssertionError` if any of ``secrets`` appears in ``output``.

    :param output: a string, bytes, or an iterable of them (log records, captured streams).
    :param secrets: plain strings or :class:`~unified_auth.model.Secret` values.
    :raises ValueError: if a secret is shorter than :data:`MIN_SECRET_LENGTH` characters.
    """
    needles = [n for i, s in enumerate(secrets) for n in _disguises(i, s)]
    chunks = [output] if isinstance(output, str | bytes) else list(output)
    texts = [c.decode("utf-8", "backslashreplace") if isinstance(c, bytes) else c for c in chunks]
    leaks = [leak for i, text in enumerate(texts) for leak in _find(i, text, needles)]
    if leaks:
        raise AssertionError(_describe(leaks, texts, needles, several=len(texts) > 1))


def _disguises(index: int, secret: str | Secret) -> list[_Needle]:
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"secret #{index} is shorter than {MIN_SECRET_LENGTH} characters: searching for it "
            "would match ordinary output by chance; use a longer test secret"
        )
    return [_Needle(index, form.name, form.text, form.margin) for form in secret_forms(value)]


def _find(chunk: int, text: str, needles: list[_Needle]) -> list[_Leak]:
    leaks = []
    for needle in needles:
        start = text.find(needle.text)
        while start != -1:
            leaks.append(
                _Leak(needle.secret_index, needle.form, chunk, start, start + len(needle.text))
            )
            start = text.find(needle.text, start + 1)
    return leaks


def _describe(
    leaks: list[_Leak], texts: list[str], needles: list[_Needle], *, several: bool
) -> str:
    margins = {(n.secret_index, n.form): n.margin for n in needles}
    masked: dict[int, list[bool]] = {}
    for leak in leaks:
        mask = masked.setdefault(leak.chunk, [False] * len(texts[leak.chunk]))
        margin = margins[leak.secret_index, leak.form]
        for position in range(max(0, leak.start - margin), leak.end + margin):
            if position < len(mask):
                mask[position] = True
    lines = [f"{len(leaks)} secret leak(s) found:"]
    for leak in sorted(leaks, key=lambda k: (k.chunk, k.start))[:20]:
        text, mask = texts[leak.chunk], masked[leak.chunk]
        window = range(max(0, leak.start - _CONTEXT), min(len(text), leak.end + _CONTEXT))
        context = "".join("*" if mask[p] else text[p] for p in window)
        where = f"chunk {leak.chunk}, offset {leak.start}" if several else f"offset {leak.start}"
        lines.append(f"  secret #{leak.secret_index} as {leak.form} at {where}: {context!r}")
    return "\n".join(lines)
