"""The Liana emulator (OAuth 2.0 client credentials on loopback) with one credential, for
the sections that measure token fetches and refreshes rather than the per-request path."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from unified_auth.testing import LianaEmulator, write_secret

__all__ = ["Api", "liana_api"]


@attrs.frozen
class Api:
    """A running Liana emulator with one client credential, its secret in a file."""

    liana: LianaEmulator
    client_id: str
    secret: str = attrs.field(repr=False)
    secret_file: Path

    @property
    def url(self) -> str:
        return f"{self.liana.url}/v1/lists"

    def target(self, hosts: list[str] | None = None) -> dict[str, Any]:
        """A ``liana`` target for this API (by default: the emulator's ``/v1/`` prefix)."""
        return {"provider": "liana", "hosts": hosts or [f"{self.liana.url}/v1/"],
                "client_id": self.client_id, "client_secret": {"file": str(self.secret_file)},
                "token_url": self.liana.token_url}


@contextmanager
def liana_api(emulator: LianaEmulator | None = None) -> Iterator[Api]:
    """``emulator`` (by default a plain one) running, with a credential for the benchmark."""
    with emulator or LianaEmulator() as liana, tempfile.TemporaryDirectory() as tmp:
        client_id, secret = liana.create_credential("bench")
        secret_file = Path(tmp) / "client.secret"
        write_secret(secret_file, secret)
        yield Api(liana, client_id, secret, secret_file)
