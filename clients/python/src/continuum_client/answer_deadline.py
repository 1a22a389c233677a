"""The deadline of an answer the transports read whole before the SDK sees it (a JSON answer, a sealed
error, the agreement key document). httpx's timeouts are per read, so a relay or a malicious server
that drips such an answer one byte just inside the read timeout kept an encrypted call open for as
long as it liked. The TypeScript client cannot be held so: its fetch verifies the whole answer
before it returns, inside the SDK's request timeout. ``answer_timeout`` gives the Python transports
the same bound: from sending the request until its headers, and for an answer that is not a stream
until its last byte, then CONTINUUM_UPSTREAM_TIMEOUT (the code the server uses for an upstream
that does not answer in time) and the response is closed. Streams are long by nature and get no
total deadline once their headers are in; ``stream_idle_timeout`` bounds the time between their
verified events instead.

Both transports give up at the instant the deadline passes, a read in progress and headers still
dripping included. The async one with an anyio cancel scope (anyio is what httpx's async transports
run on, so it comes with httpx; imported only here, only when used). The sync one cannot interrupt
a blocked read from its own thread, and httpcore reads dripped headers inside one call: it runs the
exchange on a worker (answer_worker.py) and waits for it at most until the deadline. The worker
stops at its next read after the deadline and closes what it was reading; until then it holds its
connection, not the caller."""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Awaitable, Callable, Tuple, TypeVar

import httpx

from .answer_worker import run_on_worker
from .errors import ContinuumError

#: The default of ``answer_timeout``, in seconds: the official SDKs' default request timeout.
DEFAULT_ANSWER_TIMEOUT = 600.0

T = TypeVar("T")


def seconds_option(value: object, name: str) -> float | None:
    """A timeout option (``answer_timeout``, ``stream_idle_timeout``) validated at construction: a
    positive, finite number of seconds, or None."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", f"{name} must be a positive number of seconds, or None"
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

    def remaining(self) -> float | None:
        """Seconds left, or None without a deadline."""
        return None if self._at is None else max(0.0, self._at - self._monotonic())


class _Handoff:
    """One sync exchange between its worker and its caller: the caller takes the outcome, or gives
    up at the deadline, after which the worker releases what it produces."""

    def __init__(self, release: Callable[[Any], None]) -> None:
        self._release = release
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome: Tuple[bool, Any] | None = None
        self._abandoned = False

    def run(self, exchange: Callable[[Deadline], Any], deadline: Deadline) -> None:
        try:
            outcome: Tuple[bool, Any] = (True, exchange(deadline))
        except BaseException as error:  # handed to the caller's thread
            outcome = (False, error)
        with self._lock:
            if not self._abandoned:
                self._outcome = outcome
                self._done.set()
                return
        if outcome[0]:
            self._discard(outcome[1])

    def wait(self, deadline: Deadline) -> Tuple[bool, Any] | None:
        try:
            self._done.wait(deadline.remaining())
        finally:
            # Also on KeyboardInterrupt in the wait: what the worker produces later is released.
            with self._lock:
                outcome = self._outcome
                self._abandoned = outcome is None
        return outcome

    def _discard(self, value: Any) -> None:
        try:
            self._release(value)
        except Exception:  # a worker must not raise; nobody is waiting for this answer any more
            pass


def within_deadline_sync(
    seconds: float | None, exchange: Callable[[Deadline], T], release: Callable[[T], None]
) -> T:
    """Runs a sync exchange (send, and read what is read whole) under one deadline: on a worker,
    the caller waiting at most until the deadline. ``exchange`` checks the deadline between its
    reads; ``release`` closes a result that came after the caller gave up."""
    deadline = Deadline(seconds)
    if seconds is None:
        return exchange(deadline)
    handoff = _Handoff(release)
    run_on_worker(lambda: handoff.run(exchange, deadline))
    outcome = handoff.wait(deadline)
    if outcome is None:
        raise answer_timed_out(seconds)
    succeeded, value = outcome
    if succeeded:
        result: T = value
        return result
    raise value


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
