"""The observer shown in docs/plugins.md (credentials_event); tests/test_docs.py runs main()."""

from __future__ import annotations

import collections
import tempfile
from pathlib import Path

import unified_auth
from unified_auth import CredentialsEvent, hookimpl
from unified_auth.testing import LianaEmulator, ManualClock

NEEDS = {"liana"}  # the bundled providers this example uses


class Metrics:
    """Counts every credentials event by target and kind, as a metrics exporter would."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()

    @hookimpl
    def credentials_event(self, event: CredentialsEvent) -> None:
        # Called from the hub's delivery thread: a slow observer delays no request,
        # only the events queued behind it (and a full queue drops them).
        self.counts[event.target, event.kind] += 1


def main() -> None:
    clock = ManualClock()
    metrics = Metrics()
    with LianaEmulator(clock=clock) as liana, tempfile.TemporaryDirectory() as directory:
        client_id, secret = liana.create_credential("metrics example")
        secret_file = Path(directory, "mailer.secret")
        secret_file.write_text(secret, encoding="utf-8")
        config = {"targets": {"mailer": {
            "provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
            "client_secret": {"file": str(secret_file)}, "token_url": liana.token_url}}}
        with unified_auth.load(config, plugins=[metrics], clock=clock) as ua:
            session = ua.session()
            for _ in range(3):
                session.get(f"{liana.url}/v1/lists", timeout=10).raise_for_status()
            stats = ua.stats("mailer")
    assert (stats.fetches, stats.rejections) == (1, 0)
    assert metrics.counts == {("mailer", "fetched"): 1}


if __name__ == "__main__":
    main()
