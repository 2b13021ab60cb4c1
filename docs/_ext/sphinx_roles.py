"""A griffe extension for the docs site: Sphinx roles in docstrings become inline code.

The docstrings serve ``help()`` and IDEs too, so they keep ``:class:`~unified_auth.Secret```;
mkdocstrings renders Markdown, where that would show as is.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|data|attr|mod|exc|obj):`(~?)([\w.]+)`")


def _code(match: re.Match[str]) -> str:
    name = match[2].rsplit(".", 1)[-1] if match[1] else match[2]
    return f"`{name}`"


class SphinxRoles(griffe.Extension):
    """Rewrite ``:role:`~a.b.C``` as ```C``` (and ``:role:`a.b``` as ```a.b```)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_code, obj.docstring.value)
