"""The idle limit of an encrypted stream: the longest time between two verified events (the first
counted from the headers). A stream gets no total deadline, as it is long by nature, and httpx's
timeouts are per read, so a relay or a malicious server that dripped keep-alive comments, blank
lines or half an event just inside the read timeout held the SDK's iteration open for as long as it
liked. Past ``stream_idle_timeout`` the stream raises CONTINUUM_UPSTREAM_TIMEOUT while the SDK
iterates it. It is checked each time a read from the wire returns, so a single read that blocks is
bounded by httpx's read timeout, as before."""

from __future__ import annotations

import time
from typing import Callable

from .errors import ContinuumError
from .stream_opener import StreamOpener

#: The default of ``stream_idle_timeout``, in seconds: the official SDKs' default (per-read) timeout.
DEFAULT_STREAM_IDLE_TIMEOUT = 600.0


class StreamIdle:
    """One stream's idle limit, started when its headers are in."""

    def __init__(
        self,
        seconds: float | None,
        opener: StreamOpener,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._opener = opener
        self._monotonic = monotonic
        self._events = opener.events
        self._since = monotonic()

    def check(self) -> None:
        """Raises CONTINUUM_UPSTREAM_TIMEOUT once ``seconds`` passed without a verified event."""
        if self._seconds is None:
            return
        now = self._monotonic()
        events = self._opener.events
        if events != self._events:
            self._events = events
            self._since = now
        elif now - self._since >= self._seconds:
            raise ContinuumError(
                "CONTINUUM_UPSTREAM_TIMEOUT",
                f"No verified stream event within stream_idle_timeout ({self._seconds:g} s)",
                details={"seconds": self._seconds},
            )
