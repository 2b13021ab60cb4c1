"""Every form a secret takes on its way out, and :func:`redact`, which masks them all.

One list, :func:`secret_forms`, serves both sides: :func:`redact` masks what it lists, and
:func:`unified_auth.testing.assert_no_leaks` looks for what it lists. A disguise added here
is masked and checked at once; one the checker knew and the masker did not is how a
``%20``-quoted secret once slipped into an error message.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import attrs

from unified_auth.model import Secret

__all__ = ["MASK", "MIN_SECRET_LENGTH", "SecretForm", "redact", "secret_forms"]

MASK = "********"

MIN_SECRET_LENGTH = 6
"""Shorter secrets would match ordinary text by chance: only their plain forms are masked."""

# Base64 characters next to a shifted match still carry a few bits of the secret.
BASE64_MARGIN = 3
_BASE64_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")

# What a token, key or password looks like in prose: a long word of token characters
# (RFC 6750's b64token alphabet) mixing letters and digits. Words of prose, host names and
# paths have no digits, or are short; an identifier that looks like a token is masked too,
# which costs a reader little.
_OPAQUE = re.compile(r"[A-Za-z0-9\-._~+/=]{16,}")


@attrs.frozen
class SecretForm:
    """One disguise of a secret: what it is called, its text, and how many characters on
    either side of a match still carry bits of it (base64 mixes neighbouring bytes)."""

    name: str
    text: str = attrs.field(repr=False)
    margin: int = 0


def secret_forms(secret: str | Secret) -> list[SecretForm]:
    """The forms of ``secret`` that output may carry: plain, URL-encoded (``quote``,
    ``quote_plus``), JSON-escaped, and base64 / urlsafe base64 of each at every alignment
    (so inside an HTTP Basic ``user:secret`` header too); for a PEM (a private key), each
    body line and the body joined, as base64 and urlsafe base64 of the DER."""
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if not value:
        return []
    forms: list[SecretForm] = []
    for name, text in (("plain text", value),
                       ("URL-encoded", quote(value, safe="")),
                       ("URL-encoded", quote(value)),
                       ("URL-encoded", quote_plus(value)),
                       ("JSON-escaped", json.dumps(value)[1:-1])):
        if all(form.text != text for form in forms):
            forms.append(SecretForm(name, text))
    if len(value) < MIN_SECRET_LENGTH:
        return forms
    forms += _pem_forms(value, forms)
    seen: set[str] = set()
    for text in [form.text for form in forms]:
        for core in _base64_cores(text.encode()):
            urlsafe = core.translate(str.maketrans("+/", "-_"))
            for name, form in (("base64", core), ("urlsafe base64", urlsafe)):
                if form and form not in seen:
                    seen.add(form)
                    forms.append(SecretForm(name, form, BASE64_MARGIN))
    return forms


def redact(text: str, secrets: Iterable[str | Secret | None], mask: str = MASK, *,
           opaque: bool = False) -> str:
    """``text`` with every form (see :func:`secret_forms`) of every secret masked.

    For plugins quoting what a server said (an OAuth ``error_description`` may echo the
    client secret): ``redact(description, [options.client_secret], opaque=True)``. ``None``
    and empty secrets are skipped, so optional fields can be passed as they are.

    :param opaque: also mask every word that looks like a credential (16 or more token
        characters mixing letters and digits). Use it for text a server wrote: it may hold
        a token or key the caller has never seen, so no list of known secrets covers it.
    """
    if opaque:
        text = _OPAQUE.sub(lambda m: mask if _looks_opaque(m.group()) else m.group(), text)
    forms = [form for secret in secrets if secret for form in secret_forms(secret)]
    if not forms or not text:
        return text
    masked = [False] * len(text)
    for form in forms:
        start = text.find(form.text)
        while start != -1:
            first, end = start, start + len(form.text)
            if form.margin:
                # The whole base64 word goes: its edges still carry bits of the secret,
                # and what it wraps (a Basic header's user name) is no one's business.
                while first > 0 and text[first - 1] in _BASE64_ALPHABET:
                    first -= 1
                while end < len(text) and text[end] in _BASE64_ALPHABET:
                    end += 1
            for position in range(first, end):
                masked[position] = True
            start = text.find(form.text, start + 1)
    if not any(masked):
        return text
    out: list[str] = []
    for position, char in enumerate(text):
        if not masked[position]:
            out.append(char)
        elif position == 0 or not masked[position - 1]:
            out.append(mask)
    return "".join(out)


_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
# A PEM body line is 64 characters; a shorter run of one is still too long to occur by chance.
_PEM_PIECE = 16


def _pem_forms(value: str, known: list[SecretForm]) -> list[SecretForm]:
    """A PEM's pieces that travel alone: each body line, and the body joined (the DER in
    base64), plain and urlsafe, so a key logged line by line or re-wrapped is still found."""
    forms: list[SecretForm] = []
    texts = {form.text for form in known}
    for match in _PEM.finditer(value):
        lines = [line.strip() for line in match.group(2).splitlines()]
        body = [line for line in lines if line and ":" not in line]  # not the headers
        joined = "".join(body)
        pieces = [("PEM body (DER base64)", joined),
                  ("PEM body (DER urlsafe base64)",
                   joined.translate(str.maketrans("+/", "-_")).rstrip("=")),
                  *(("PEM line", line.rstrip("=")) for line in body),
                  *(("PEM line (urlsafe)", line.translate(str.maketrans("+/", "-_")).rstrip("="))
                    for line in body)]
        for name, text in pieces:
            if len(text) >= _PEM_PIECE and text not in texts:
                texts.add(text)
                forms.append(SecretForm(name, text))
    return forms


def _looks_opaque(word: str) -> bool:
    return any(c.isdigit() for c in word) and any(c.isalpha() for c in word)


def _base64_cores(data: bytes) -> list[str]:
    """The part of the base64 encoding of ``data`` that is the same whatever surrounds it.

    Base64 works on 3-byte groups, so what ``data`` looks like depends on where it starts
    modulo 3: one core per offset, without the characters that mix in neighbouring bytes.
    """
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode()
        whole_groups = 4 * ((offset + len(data)) // 3)
        cores.append(encoded[(0, 2, 3)[offset] : whole_groups])
    return cores
