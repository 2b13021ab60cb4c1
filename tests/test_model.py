"""Value types: Secret never shows itself; Credentials need an aware expiry."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import attrs
import pytest

from unified_auth import Credentials, Secret, Target

CANARY = "canary-value-0a1b2c3d"


def test_secret_hides_its_value_everywhere_but_reveal() -> None:
    secret = Secret(CANARY)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % secret):  # noqa: UP031
        assert CANARY not in shown
    assert repr(secret) == "Secret('********')"
    assert secret.reveal() == CANARY


def test_secret_inside_other_values_stays_hidden() -> None:
    credentials = Credentials(value=Secret(CANARY), expires_at=None)
    target = Target("t", "p", ("h",), {"key": Secret(CANARY)})
    for shown in (repr(credentials), repr(target), str(attrs.asdict(credentials))):
        assert CANARY not in shown


def test_secret_equality_and_fingerprint() -> None:
    assert Secret(CANARY) == Secret(CANARY)
    assert Secret(CANARY) != Secret(CANARY + "x")
    assert Secret(CANARY).fingerprint == Secret(CANARY).fingerprint
    assert CANARY not in Secret(CANARY).fingerprint
    assert len({Secret(CANARY), Secret(CANARY)}) == 1


def test_secret_refuses_to_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(CANARY))


def test_secret_wraps_only_strings() -> None:
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_credentials_are_complete_with_value_and_expiry() -> None:
    credentials = Credentials(value=Secret("x"), expires_at=None)
    assert credentials.token_type == "Bearer" and credentials.scope is None
    with pytest.raises(ValueError, match="timezone-aware"):
        Credentials(value=Secret("x"), expires_at=datetime(2030, 1, 1))
    Credentials(value=Secret("x"), expires_at=datetime(2030, 1, 1, tzinfo=UTC))


def test_value_types_are_frozen() -> None:
    credentials = Credentials(value=Secret("x"), expires_at=None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        credentials.token_type = "MAC"  # type: ignore[misc]


def test_secret_copies_are_itself() -> None:
    import copy

    secret = Secret(CANARY)
    credentials = Credentials(value=secret, expires_at=None)
    assert copy.deepcopy(credentials).value is secret
    assert copy.copy(secret) is secret
