"""Every bundled emulator on loopback, fresh credentials on each, and a config that uses them.

One environment serves the pytest fixtures (``unified_auth_environment``,
``unified_auth_config``), ``unified-auth demo`` and ``unified-auth emulator``. Secrets go to
files created with mode 0600 in a private directory and the config references them with
``{ file = ... }``, so the config itself holds no secret and can be printed.

>>> with EmulatedEnvironment() as environment:                  # doctest: +SKIP
...     hub = unified_auth.load(environment.config_path)
...     hub.session().get(f"{environment.liana.url}/v1/lists")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import tomli_w

from unified_auth.testing._server import Clock, EmulatorServer
from unified_auth.testing.classic import ClassicEmulator
from unified_auth.testing.liana import LianaEmulator
from unified_auth.testing.liquidplanner import ExampleOrg, LiquidPlannerEmulator
from unified_auth.testing.oauth2 import WHOAMI, OAuth2Emulator

__all__ = [
    "BASIC_USER",
    "CLASSIC",
    "CLASSIC_KEY",
    "CONFIG_NAME",
    "LEGACY",
    "MAILER",
    "PLANNER",
    "REPORTS",
    "REPORTS_SCOPE",
    "EmulatedEnvironment",
    "write_secret",
]

MAILER = "mailer"
"""The ``liana`` target (OAuth 2.0 client credentials), on the Liana emulator's ``/v1/``."""
LEGACY = "mailer-legacy"
"""The ``liana-legacy`` target (signed requests), on the Liana emulator's ``/api/``."""
PLANNER = "planner"
"""The ``liquidplanner`` target (an API token of the example org's project editor)."""
CLASSIC = "classic"
"""The ``basic`` target, on the classic emulator's ``/basic/``."""
CLASSIC_KEY = "classic-key"
"""The ``api-key`` target, on the classic emulator's ``/keyed/``."""
REPORTS = "reports"
"""The ``oauth2`` target (client_secret_basic), on the OAuth 2.0 emulator's ``/api/``."""
REPORTS_SCOPE = "reports:read"
"""The scope the ``oauth2`` target requests, and its client is granted."""
BASIC_USER = "demo@example.com"
"""The user name of the ``basic`` target."""
CONFIG_NAME = "unified-auth.toml"


def write_secret(path: Path, value: str) -> Path:
    """Write ``value`` (as it is: no newline added) to ``path``, mode 0600, atomically.

    Returns ``path``.
    A reader sees the old secret or the new one, never half of it, and the file is never
    readable by others, even briefly: the temporary file is created 0600 beside it.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(value)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


class EmulatedEnvironment:
    """Liana, LiquidPlanner, classic (Basic, API key) and OAuth 2.0 emulators, ready to use.

    :meth:`start` (or ``with``) starts the emulators, creates credentials on each, writes
    their secrets to 0600 files and a config for six targets (:data:`MAILER`,
    :data:`LEGACY`, :data:`PLANNER`, :data:`CLASSIC`, :data:`CLASSIC_KEY`, :data:`REPORTS`) to
    :attr:`config_path`. :meth:`close` stops the emulators it started and deletes the
    directory it made. Both may be called more than once; credentials are provisioned once.

    :param liana: a Liana emulator to use instead of starting a new one (a test's fixture);
        like ``planner`` and ``classic``, it is started if it isn't running, and never
        stopped here.
    :param planner: a LiquidPlanner emulator to use, likewise.
    :param classic: a classic emulator to use, likewise.
    :param oauth2: an OAuth 2.0 emulator to use, likewise.
    :param clock: the clock of the emulators started here (default :func:`time.time`).
    :param liana_port: the port of a Liana emulator started here (0: any free port).
    :param planner_port: the same for LiquidPlanner.
    :param classic_port: the same for the classic emulator.
    :param oauth2_port: the same for the OAuth 2.0 emulator.
    :param token_lifetime: seconds the tokens of a Liana or OAuth 2.0 emulator started here
        live.
    :param min_interval: the config's ``[refresh] min_interval``, if set.
    :param directory: where the config and secret files go; kept afterwards. By default a
        private temporary directory (``unified-auth-*`` in ``$TMPDIR``), deleted by
        :meth:`close`.
    """

    def __init__(
        self,
        *,
        liana: LianaEmulator | None = None,
        planner: LiquidPlannerEmulator | None = None,
        classic: ClassicEmulator | None = None,
        oauth2: OAuth2Emulator | None = None,
        clock: Clock | None = None,
        liana_port: int = 0,
        planner_port: int = 0,
        classic_port: int = 0,
        oauth2_port: int = 0,
        token_lifetime: int = 900,
        min_interval: float | None = None,
        directory: Path | None = None,
    ) -> None:
        self.liana = liana or LianaEmulator(clock=clock, port=liana_port,
                                            expires_in=token_lifetime)
        self.planner = planner or LiquidPlannerEmulator(clock=clock, port=planner_port)
        self.classic = classic or ClassicEmulator(clock=clock, port=classic_port)
        self.oauth2 = oauth2 or OAuth2Emulator(clock=clock, port=oauth2_port,
                                               expires_in=token_lifetime)
        self._owned: list[EmulatorServer] = [
            server for server, given in ((self.liana, liana), (self.planner, planner),
                                         (self.classic, classic), (self.oauth2, oauth2))
            if given is None]
        self._min_interval = min_interval
        self._requested_directory = directory
        self._started = False
        self._made_directory = False
        self.directory = Path()
        """Where the config and the secret files are (set by :meth:`start`)."""
        self.config: dict[str, Any] = {}
        """The config as a dict (the schema of the TOML file)."""
        self.client_id = ""
        """The Liana client id of the :data:`MAILER` target."""
        self.org: ExampleOrg | None = None
        """The LiquidPlanner example organization; the token belongs to its editor."""

    @property
    def config_path(self) -> Path:
        """The TOML config for the emulators."""
        return self.directory / CONFIG_NAME

    def start(self) -> Self:
        """Start the emulators, create credentials and write the config, once. Returns ``self``."""
        if self._started:
            return self
        self._started = True
        try:
            self._make_directory()
            for server in (self.liana, self.planner, self.classic, self.oauth2):
                server.start()
            self.config = self._provision()
            self.config_path.write_text(self.toml(), encoding="utf-8")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop the emulators started here and delete the directory made here."""
        for server in self._owned:
            server.stop()
        if self._made_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self._made_directory = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def toml(self) -> str:
        """The config as TOML, with a header saying what it is."""
        header = (f"# unified-auth config for the emulators (throwaway credentials)\n"
                  f"# written to {self.config_path}; secrets in 0600 files beside it\n\n")
        return header + tomli_w.dumps(self.config)

    def secret_file(self, target: str) -> Path:
        """The file holding ``target``'s secret."""
        return self.directory / f"{target}.secret"

    def secret_values(self) -> list[str]:
        """Every secret in the secret files now: what a leak check looks for."""
        return [path.read_text(encoding="utf-8").strip()
                for path in sorted(self.directory.glob("*.secret"))]

    def write_secret(self, target: str, value: str) -> dict[str, str]:
        """(Re)write ``target``'s secret file atomically; returns its ``{"file": path}``."""
        return {"file": str(write_secret(self.secret_file(target), value))}

    def _make_directory(self) -> None:
        if self._requested_directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="unified-auth-"))
            self._made_directory = True
            return
        self.directory = self._requested_directory.expanduser().resolve()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _provision(self) -> dict[str, Any]:
        """Credentials on every emulator, and the config dict that uses them."""
        liana, planner, classic = self.liana, self.planner, self.classic
        self.client_id, client_secret = liana.create_credential("unified-auth environment")
        user_id, legacy_secret = liana.create_legacy_user("LianaMailer")
        self.org = org = planner.example or planner.add_example_org()
        planner_token = planner.create_token(org.editor_id, name="unified-auth environment",
                                             created_by=org.admin_id)
        password = classic.add_user(BASIC_USER)
        api_key = classic.create_api_key("unified-auth environment")
        oauth2 = self.oauth2
        oauth2_id, oauth2_secret = oauth2.create_client(scopes={REPORTS_SCOPE})
        config: dict[str, Any] = {}
        if self._min_interval is not None:
            config["refresh"] = {"min_interval": self._min_interval}
        config["targets"] = {
            MAILER: {
                "provider": "liana",
                "hosts": [f"{liana.url}/v1/"],
                "client_id": self.client_id,
                "token_url": liana.token_url,
                "client_secret": self.write_secret(MAILER, client_secret),
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
                "probe_url": f"{classic.url}/basic/whoami",  # for check: who the user is
            },
            CLASSIC_KEY: {
                "provider": "api-key",
                "hosts": [f"{classic.url}/keyed/"],
                "key": self.write_secret(CLASSIC_KEY, api_key),
                "probe_url": f"{classic.url}/keyed/whoami",
            },
            REPORTS: {
                "provider": "oauth2",
                "hosts": [f"{oauth2.url}/api/"],
                "token_url": oauth2.token_url,
                "client_id": oauth2_id,
                "client_secret": self.write_secret(REPORTS, oauth2_secret),
                "scope": [REPORTS_SCOPE],
                "probe_url": f"{oauth2.url}{WHOAMI}",
            },
        }
        return config
