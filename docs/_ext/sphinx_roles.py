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


class AttrsInit(griffe.Extension):
    """Give an attrs class the ``__init__`` attrs writes at run time, so ``:param x:`` in its
    docstring finds its field (as griffe's own dataclasses support does for dataclasses)."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        decorators = [str(d.value) for d in cls.decorators]
        if not any(d.startswith(("attrs.", "attr.")) for d in decorators) or "__init__" in cls.members:
            return
        keyword_only = any("kw_only=True" in d for d in decorators)
        kind = (griffe.ParameterKind.keyword_only if keyword_only
                else griffe.ParameterKind.positional_or_keyword)
        parameters = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
        for name, member in cls.members.items():
            if (member.is_attribute and not name.startswith("_") and member.annotation is not None
                    and "ClassVar" not in str(member.annotation)):
                parameters.append(griffe.Parameter(name, annotation=member.annotation, kind=kind,
                                                   default=member.value))
        init = griffe.Function("__init__", parameters=griffe.Parameters(*parameters), parent=cls)
        cls.set_member("__init__", init)
