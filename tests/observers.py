"""A ``credentials_event`` observer plugin the event tests share."""

from __future__ import annotations

from unified_auth import CredentialsEvent, hookimpl


class Recorder:
    """An observer plugin that keeps every event it sees.

    Observers are called from the hub's delivery thread, a moment after the call that
    caused the event: ``assert hub.flush_events()`` before reading what it saw.
    """

    def __init__(self) -> None:
        self.events: list[CredentialsEvent] = []

    @hookimpl
    def credentials_event(self, event: CredentialsEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]

    def failures(self) -> list[CredentialsEvent]:
        return [event for event in self.events if event.kind == "fetch_failed"]
