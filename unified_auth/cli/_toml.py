"""Just enough of a TOML writer for a unified-auth config: tables, scalars, lists, inline tables.

``tomllib`` only reads. The configs written here (by ``emulator`` and ``demo``) are small and
of one known shape, so a few lines beat a dependency.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["dumps"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dumps(document: Mapping[str, Any]) -> str:
    """``document`` as TOML: top-level tables and ``[targets.NAME]`` as tables, the rest inline."""
    lines: list[str] = []
    _table(lines, (), document)
    return "\n".join(lines).strip() + "\n"


def _table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    children = {k: v for k, v in table.items() if isinstance(v, Mapping) and _is_table(path)}
    scalars = {k: v for k, v in table.items() if k not in children}
    if scalars:
        if path:
            lines += ["", f"[{'.'.join(_key(part) for part in path)}]"]
        lines += [f"{_key(key)} = {_value(value)}" for key, value in scalars.items()]
    for key, child in children.items():
        _table(lines, (*path, key), child)


def _is_table(path: tuple[str, ...]) -> bool:
    """Whether the mappings inside the table at ``path`` are written as tables of their own."""
    return len(path) == 0 or path == ("targets",)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    # JSON's string escapes are a subset of TOML basic strings' (json.dumps never writes "\/").
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} as TOML")
