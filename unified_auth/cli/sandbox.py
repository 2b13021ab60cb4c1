"""The bundled emulators with fresh throwaway credentials and a config file that uses them.

Shared by ``unified-auth emulator`` and ``unified-auth demo``. Secrets go to files created
with mode 0600 in a private directory and the config references them with
``{ file = ... }``, so the config itself holds no secret and can be printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from unified_auth.cli import _toml
from unified_auth.testing.classic import ClassicEmulator
from unified_auth.testing.liana import LianaEmulator
from unified_auth.testing.liquidplanner import ExampleOrg, LiquidPlannerEmulator

__all__ = [
    "BASIC_USER",
    "CLASSIC",
    "CLASSIC_KEY",
    "LEGACY",
    "MAILER",
    "PLANNER",
    "Sandbox",
]

MAILER = "mailer"
LEGACY = "mailer-legacy"
PLANNER = "planner"
CLASSIC = "classic"
CLASSIC_KEY = "classic-key"
BASIC_USER = "demo@example.com"
CONFIG_NAME = "unified-auth.toml"


class Sandbox:
    """Liana, LiquidPlanner and classic (Basic, API key) emulators on loopback, ready to use.

    :param liana_port, planner_port, classic_port: ports to listen on (0: any free port).
    :param token_lifetime: seconds the Liana emulator's tokens live.
    :param min_interval: the config's ``[refresh] min_interval``, if set.
    :param directory: where the config and secret files go; kept afterwards. By default a
        private temporary directory, deleted by :meth:`close`.
    """

    def __init__(
        self,
        *,
        liana_port: int = 0,
        planner_port: int = 0,
        classic_port: int = 0,
        token_lifetime: int = 900,
        min_interval: float | None = None,
        directory: Path | None = None,
    ) -> None:
        self.liana = LianaEmulator(port=liana_port, expires_in=token_lifetime)
        self.planner = LiquidPlannerEmulator(port=planner_port)
        self.classic = ClassicEmulator(port=classic_port)
        self._min_interval = min_interval
        self._keep = directory is not None
        self._requested_directory = directory
        self.directory = Path()
        self.config: dict[str, Any] = {}
        self.client_id = ""
        self.org: ExampleOrg | None = None

    @property
    def config_path(self) -> Path:
        """The TOML config for the emulators."""
        return self.directory / CONFIG_NAME

    def start(self) -> Self:
        """Start the emulators, create credentials and write the config. Returns ``self``."""
        try:
            self._make_directory()
            for server in (self.liana, self.planner, self.classic):
                server.start()
            self.config = self._provision()
            self.config_path.write_text(self.toml(), encoding="utf-8")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop the emulators and delete the temporary directory (not one given by the user)."""
        for server in (self.liana, self.planner, self.classic):
            server.stop()
        if not self._keep and self.directory != Path():
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def toml(self) -> str:
        """The config as TOML, with a header saying what it is."""
        header = (f"# unified-auth config for the emulators (throwaway credentials)\n"
                  f"# written to {self.config_path}; secrets in 0600 files beside it\n")
        return header + _toml.dumps(self.config)

    def secret_file(self, target: str) -> Path:
        """The file holding ``target``'s secret."""
        return self.directory / f"{target}.secret"

    def secret_values(self) -> list[str]:
        """Every secret in the secret files now: what a leak check looks for."""
        return [path.read_text(encoding="utf-8").strip()
                for path in sorted(self.directory.glob("*.secret"))]

    def write_secret(self, target: str, value: str) -> dict[str, str]:
        """(Re)write ``target``'s secret file; returns its ``{"file": path}`` reference.

        The file is replaced atomically, so a reader sees the old secret or the new one,
        never half of it, and it is never readable by others, even briefly.
        """
        path = self.secret_file(target)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{target}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(value + "\n")
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return {"file": str(path)}

    def _make_directory(self) -> None:
        if self._requested_directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="unified-auth-"))
            return
        self.directory = self._requested_directory.expanduser().resolve()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _provision(self) -> dict[str, Any]:
        """Credentials on every emulator, and the config dict that uses them."""
        liana, planner, classic = self.liana, self.planner, self.classic
        self.client_id, client_secret = liana.create_credential("unified-auth sandbox")
        user_id, legacy_secret = liana.create_legacy_user("LianaMailer")
        self.org = org = planner.add_example_org()
        planner_token = planner.create_token(org.editor_id, name="unified-auth sandbox",
                                             created_by=org.admin_id)
        password = classic.add_user(BASIC_USER)
        api_key = classic.create_api_key("sandbox")
        config: dict[str, Any] = {}
        if self._min_interval is not None:
            config["refresh"] = {"min_interval": self._min_interval}
        config["targets"] = {
            MAILER: {
                "provider": "liana",
                "hosts": [f"{liana.url}/v1/"],
                "client_id": self.client_id,
                "client_secret": self.write_secret(MAILER, client_secret),
                "token_url": liana.token_url,
            },
            LEGACY: {
                "provider": "liana-legacy",
                "hosts": [f"{liana.url}/api/"],
                "realm": "LianaMailer",
                "user_id": user_id,
                "secret": self.write_secret(LEGACY, legacy_secret),
            },
            PLANNER: {
                "provider": "liquidplanner",
                "hosts": [f"{planner.url}/"],
                "token": self.write_secret(PLANNER, planner_token),
            },
            CLASSIC: {
                "provider": "basic",
                "hosts": [f"{classic.url}/basic/"],
                "username": BASIC_USER,
                "password": self.write_secret(CLASSIC, password),
            },
            CLASSIC_KEY: {
                "provider": "api-key",
                "hosts": [f"{classic.url}/keyed/"],
                "key": self.write_secret(CLASSIC_KEY, api_key),
            },
        }
        return config
