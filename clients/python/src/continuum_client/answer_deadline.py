"""The deadline of an answer the transports read whole before the SDK sees it (a JSON answer, a sealed
error, the agreement key document). httpx's timeouts are per read, so a relay or a malicious server
that drips such an answer one byte just inside the read timeout kept an encrypted call open for as
long as it liked. The TypeScript client cannot be held so: its fetch verifies the whole answer
before it returns, inside the SDK's request timeout. ``answer_timeout`` gives the Python transports
the same bound: from sending the request until its headers, and for an answer that is not a stream
until its last byte, then CONTINUUM_UPSTREAM_TIMEOUT (the code the server uses for an upstream
that does not answer in time) and the response is closed. Streams are long by nature and get no
total deadline once their headers are in.

The async transport enforces it at the instant it passes, with an anyio cancel scope (anyio is
what httpx's async transports run on, so it comes with httpx; imported only here, only when used).
A blocked read cannot be interrupted from its own thread, so the sync transport checks the deadline
each time a read returns: a call ends at most one read timeout (httpx's) after the deadline."""

from __future__ import annotations

import math
import time
from typing import Awaitable, Callable, Tuple, TypeVar

import httpx

from .errors import ContinuumError

#: The default of ``answer_timeout``, in seconds: the official SDKs' default request timeout.
DEFAULT_ANSWER_TIMEOUT = 600.0

T = TypeVar("T")


def answer_timeout_option(value: object) -> float | None:
    """``answer_timeout`` validated at construction: a positive, finite number of seconds, or None."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", "answer_timeout must be a positive number of seconds, or None"
        )
    return float(value)


def answer_timed_out(seconds: float) -> ContinuumError:
    return ContinuumError(
        "CONTINUUM_UPSTREAM_TIMEOUT",
        f"Answer not read within answer_timeout ({seconds:g} s)",
        details={"seconds": seconds},
    )


class Deadline:
    """One exchange's deadline in the sync transport, started when its request is sent."""

    def __init__(self, seconds: float | None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._at = None if seconds is None else monotonic() + seconds

    def check(self) -> None:
        """Raises CONTINUUM_UPSTREAM_TIMEOUT once the deadline has passed."""
        if self._at is not None and self._seconds is not None and self._monotonic() >= self._at:
            raise answer_timed_out(self._seconds)


async def within_deadline(
    seconds: float | None,
    send: Callable[[], Awaitable[httpx.Response]],
    read: Callable[[httpx.Response], Awaitable[T]],
) -> Tuple[httpx.Response, T]:
    """Sends and reads under one deadline in the async transport. The response is closed on any
    failure, after the cancel scope: inside a cancelled scope every await is cancelled again."""
    import anyio

    response: httpx.Response | None = None
    done: list[T] = []
    try:
        with anyio.move_on_after(seconds):
            response = await send()
            done.append(await read(response))
        # Past the scope without a result: the deadline cancelled it (anyio 3 has no `cancelled_caught`).
        if response is None or not done:
            raise answer_timed_out(seconds if seconds is not None else math.inf)
        return response, done[0]
    except BaseException:
        if response is not None:
            await response.aclose()
        raise
