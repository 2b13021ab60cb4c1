"""Config values against the options classes' type hints: checked, converted, described.

TOML and Python differ (a TOML array for a ``tuple``, a date-time for a ``date``, an int
for a ``float``): :func:`coerce` converts where they do and raises :class:`Mismatch`
otherwise, with a message in a config author's words (:func:`describe_type`) that names the
kind of value found (:func:`kind_of`), never the value, which may be a secret.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from unified_auth.model import Secret

__all__ = ["Mismatch", "allows_none", "coerce", "describe_type", "is_secret_type", "kind_of"]


class Mismatch(Exception):
    """A value does not fit its type hint; the message describes both, never the value."""


def coerce(value: Any, expected: Any) -> Any:
    """Check ``value`` against a type hint, converting where TOML and Python differ."""
    if expected is Any or expected is object:
        return value
    origin = typing.get_origin(expected)
    args = typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in args:
            if option is type(None):
                continue
            try:
                return coerce(value, option)
            except Mismatch:
                continue
        raise Mismatch(f"expected {describe_type(expected)}, got {kind_of(value)}")
    if origin is Literal:
        if value in args:
            return value
        raise Mismatch(f"expected one of {', '.join(repr(a) for a in args)}, got {value!r}"
                        if isinstance(value, str | int | bool) else
                        f"expected one of {', '.join(repr(a) for a in args)}, got {kind_of(value)}")
    if origin in (tuple, list, Sequence):
        if not isinstance(value, list | tuple):
            raise Mismatch(f"expected {describe_type(expected)}, got {kind_of(value)}")
        item = args[0] if args else Any
        items = [coerce(v, item) for v in value]
        return list(items) if origin is list else tuple(items)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise Mismatch(f"expected {describe_type(expected)}, got {kind_of(value)}")
        key_type, value_type = args if len(args) == 2 else (Any, Any)
        return {coerce(k, key_type): coerce(v, value_type) for k, v in value.items()}
    if expected is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise Mismatch(f"expected a date (2027-05-31), got {kind_of(value)}")
    if expected is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise Mismatch(f"expected a number, got {kind_of(value)}")
    if expected is int and isinstance(value, bool):
        raise Mismatch(f"expected an integer, got {kind_of(value)}")
    if isinstance(expected, type):
        if isinstance(value, expected):
            return value
        raise Mismatch(f"expected {describe_type(expected)}, got {kind_of(value)}")
    return value


def is_secret_type(expected: Any) -> bool:
    """Whether a key typed ``expected`` takes a secret reference."""
    if expected is Secret:
        return True
    return typing.get_origin(expected) in (typing.Union, types.UnionType) and any(
        arg is Secret for arg in typing.get_args(expected))


def allows_none(expected: Any) -> bool:
    """Whether ``expected`` is optional (``X | None``)."""
    return type(None) in typing.get_args(expected)


_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
          dt.date: "a date", type(None): "nothing", Secret: "a secret reference"}


def describe_type(expected: Any) -> str:
    """A type hint in a config author's words: ``a list of strings``, ``a table``."""
    if expected in _NAMES:
        return _NAMES[expected]
    origin = typing.get_origin(expected)
    args = typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in args if a is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (tuple, list):
        return f"a list of {describe_type(args[0]).removeprefix('a ').removeprefix('an ')}s" \
            if args else "a list"
    if origin in (dict, Mapping):
        return "a table"
    return getattr(expected, "__name__", str(expected))


def kind_of(value: Any) -> str:
    """The TOML-ish kind of ``value``; never the value itself, which could be a secret."""
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"),
                       (str, "a string"), (dt.datetime, "a date-time"), (dt.date, "a date"),
                       (list, "a list"), (tuple, "a list"), (Mapping, "a table")):
        if isinstance(value, kind):
            return name
    return "nothing" if value is None else f"a {type(value).__name__}"
