"""The ``liquidplanner`` provider's config keys."""

from __future__ import annotations

from datetime import date

import attrs

# Secret and date must be importable at run time: the core reads these type hints to know
# which keys take secret references and which take TOML dates.
from unified_auth import Secret

__all__ = ["LiquidPlannerOptions"]


@attrs.frozen(kw_only=True)
class LiquidPlannerOptions:
    """Config keys of a ``provider = "liquidplanner"`` target (an API token)."""

    token: Secret
    """A secret reference to the API token; resolved by the core before use."""
    issued_on: date | None = None
    """When the token was created, for the reminder to cycle it every 4-6 months."""
    workspace_id: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.gt(0)))
    """A workspace the token should reach, for ``unified-auth check``."""
