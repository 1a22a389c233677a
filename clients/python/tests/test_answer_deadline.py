"""Regression: httpx's timeouts are per read, so a relay or a malicious server that dripped an answer
the transports read whole (a JSON answer, a sealed error, the agreement key document) one byte just
inside the read timeout kept an encrypted call open for as long as it liked: bounded memory,
unbounded time. The TypeScript client verifies the whole answer inside the SDK's request timeout;
``answer_timeout`` now bounds the Python transports the same way (from sending until the headers,
and for an answer that is not a stream until its last byte), with CONTINUUM_UPSTREAM_TIMEOUT and the
response closed. The sync transport used to check the deadline only when a read returned, so
headers dripped on a real socket (httpcore reads them in one call) or one blocked read held it far
past the deadline; it now waits for the exchange on a worker thread and gives up at the deadline
itself, as the async one does. Streams get no total deadline, but ``stream_idle_timeout`` ends one
that carries keep-alive comments and no event. Sync and async, against the real middleware behind
a relay that drips and against a raw socket; the deadline is short so the tests are quick, and each
call runs under a generous outer bound, so a client that would wait for ever fails the test
instead of hanging it."""

from __future__ import annotations

import asyncio
import contextvars
import gzip
import os
import socket
import struct
import threading
import time
import zlib
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, List, Tuple

import httpx
import pytest

from continuum_client import Agreement, AsyncContinuumTransport, ContinuumError, ContinuumTransport
from sdk_requests import asend, astream_chat, chat_body, openai_headers, send, stream_chat

SECRET = "the launch code is 0000"
CHAT = "/v1/chat/completions"
DEADLINE = 0.4
# Far longer than any run of these tests, far shorter than a hang.
OUTER_BOUND = 30.0
_FRAMING = {"content-length", "transfer-encoding", "content-encoding"}
_SPAN: contextvars.ContextVar[str] = contextvars.ContextVar("span", default="none")

Plan = Callable[[bytes], List[Tuple[float, bytes]]]
"""How a relay hands an answer over: (seconds to wait, bytes) for each read."""


def drip(delay: float) -> Plan:
    """One byte a read, ``delay`` seconds apart: the whole answer would take minutes."""
    return lambda body: [(delay, body[at : at + 1]) for at in range(len(body))]


def pause(seconds: float) -> Plan:
    """Half the answer, a long silence (one slow read), the rest."""
    return lambda body: [(0.0, body[: len(body) // 2]), (seconds, body[len(body) // 2 :])]


class _Handed:
    """What the client took of one dripped answer, and whether it closed it."""

    def __init__(self, plan: List[Tuple[float, bytes]]) -> None:
        self.plan = plan
        self.size = sum(len(piece) for _, piece in plan)
        self.delivered = 0
        self.closed = False


class _SyncDrip(httpx.SyncByteStream):
    def __init__(self, handed: _Handed) -> None:
        self._handed = handed

    def __iter__(self) -> Iterator[bytes]:
        for delay, piece in self._handed.plan:
            time.sleep(delay)
            self._handed.delivered += len(piece)
            yield piece

    def close(self) -> None:
        self._handed.closed = True


class _AsyncDrip(httpx.AsyncByteStream):
    def __init__(self, handed: _Handed) -> None:
        self._handed = handed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for delay, piece in self._handed.plan:
            await asyncio.sleep(delay)
            self._handed.delivered += len(piece)
            yield piece

    async def aclose(self) -> None:
        self._handed.closed = True


class _DripBase:
    def __init__(
        self, plan: Plan, method: str, headers_delay: float, encode: Callable[[bytes], bytes] | None
    ) -> None:
        self.plan = plan
        self.method = method
        self.headers_delay = headers_delay
        self.encode = encode
        self.handed: list[_Handed] = []

    def _answer(
        self, request: httpx.Request, response: httpx.Response, body: bytes, asynchronous: bool
    ) -> Tuple[float, httpx.Response]:
        headers = [(name, value) for name, value in response.headers.multi_items() if name not in _FRAMING]
        if request.method != self.method:
            return 0.0, httpx.Response(response.status_code, headers=headers, content=body)
        if self.encode is not None:
            body = self.encode(body)
            headers.append(("content-encoding", "gzip"))
        handed = _Handed(self.plan(body))
        self.handed.append(handed)
        stream: httpx.SyncByteStream | httpx.AsyncByteStream = (
            _AsyncDrip(handed) if asynchronous else _SyncDrip(handed)
        )
        return self.headers_delay, httpx.Response(response.status_code, headers=headers, stream=stream)


class DripRelay(_DripBase, httpx.BaseTransport):
    """Passes the request to the real server, and hands its answer over as ``plan`` says, for
    requests of ``method``; ``headers_delay`` holds the headers back first."""

    def __init__(
        self,
        plan: Plan,
        method: str = "POST",
        headers_delay: float = 0.0,
        encode: Callable[[bytes], bytes] | None = None,
    ) -> None:
        super().__init__(plan, method, headers_delay, encode)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        try:
            body = response.read()
        finally:
            response.close()
        delay, answer = self._answer(request, response, body, False)
        time.sleep(delay)
        return answer

    def close(self) -> None:
        self.inner.close()


class AsyncDripRelay(_DripBase, httpx.AsyncBaseTransport):
    def __init__(
        self,
        plan: Plan,
        method: str = "POST",
        headers_delay: float = 0.0,
        encode: Callable[[bytes], bytes] | None = None,
    ) -> None:
        super().__init__(plan, method, headers_delay, encode)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        delay, answer = self._answer(request, response, body, True)
        await asyncio.sleep(delay)
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


def bounded(call: Callable[[], Any]) -> Any:
    """Runs a sync call under the outer bound: its result, or the ContinuumError it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(OUTER_BOUND)
    assert not thread.is_alive(), "the client was still reading at the outer bound"
    if isinstance(outcome[0], BaseException) and not isinstance(outcome[0], ContinuumError):
        raise outcome[0]
    return outcome[0]


def abounded(call: Callable[[], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        try:
            return await asyncio.wait_for(call(), OUTER_BOUND)
        except asyncio.TimeoutError:
            raise AssertionError("the client was still reading at the outer bound") from None
        except ContinuumError as error:
            return error

    return asyncio.run(run())


def assert_timed_out(outcome: Any, relay: _DripBase) -> None:
    assert isinstance(outcome, ContinuumError), outcome
    assert outcome.code == "CONTINUUM_UPSTREAM_TIMEOUT"
    assert outcome.status == 504 and outcome.details == {"seconds": DEADLINE}
    # The client stopped reading and closed the answer (sync: its worker, at its next read).
    assert relay.handed
    closed_by = time.monotonic() + OUTER_BOUND
    while not all(handed.closed for handed in relay.handed):
        assert time.monotonic() < closed_by, "the answer was never closed"
        time.sleep(0.01)
    assert all(handed.delivered < handed.size for handed in relay.handed)


@pytest.fixture(scope="module")
def openai_app(server: Any) -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app("openai", keys=[{"id": "k1", "keyHex": key}]), key


def _client(app: tuple[dict[str, Any], str], relay: httpx.BaseTransport, **options: Any) -> httpx.Client:
    options.setdefault("answer_timeout", DEADLINE)
    transport = ContinuumTransport(key_id="k1", key=app[1], transport=relay, **options)
    return httpx.Client(base_url=app[0]["url"], transport=transport, timeout=30)


def _async_client(
    app: tuple[dict[str, Any], str], relay: httpx.AsyncBaseTransport, **options: Any
) -> httpx.AsyncClient:
    options.setdefault("answer_timeout", DEADLINE)
    transport = AsyncContinuumTransport(key_id="k1", key=app[1], transport=relay, **options)
    return httpx.AsyncClient(base_url=app[0]["url"], transport=transport, timeout=30)


# A long prompt: the echoed, encrypted answer takes thousands of reads to drip.
LONG = SECRET * 40
BODIES = {
    "json answer": chat_body(LONG),
    # The middleware's sealed CONTINUUM_SCHEMA_VIOLATION.
    "sealed error": {"model": "x", "messages": "bad" * 100},
}


def _with_comment(body: bytes) -> bytes:
    """gzip with a 64 KiB header comment: reads that decode to nothing at all for a long time."""
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = packer.compress(body) + packer.flush()
    header = b"\x1f\x8b\x08\x10" + b"\0\0\0\0\0\xff" + b"c" * 65536 + b"\0"
    return header + data + struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)


class TestADrippedAnswerEndsAtTheDeadline:
    @pytest.mark.parametrize("answer", list(BODIES))
    def test_sync(self, openai_app: tuple[dict[str, Any], str], answer: str) -> None:
        relay = DripRelay(drip(0.02))
        with _client(openai_app, relay) as http:
            outcome = bounded(lambda: send(http, CHAT, BODIES[answer], openai_headers()))
        assert_timed_out(outcome, relay)

    @pytest.mark.parametrize("answer", list(BODIES))
    def test_async(self, openai_app: tuple[dict[str, Any], str], answer: str) -> None:
        relay = AsyncDripRelay(drip(0.02))

        async def call() -> httpx.Response:
            async with _async_client(openai_app, relay) as http:
                return await asend(http, CHAT, BODIES[answer], openai_headers(asynchronous=True))

        assert_timed_out(abounded(call), relay)

    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_reads_that_decode_to_nothing_count(
        self, openai_app: tuple[dict[str, Any], str], asynchronous: bool
    ) -> None:
        # The deadline is checked on every read from the wire, not on every decoded piece.
        if not asynchronous:
            relay = DripRelay(drip(0.0005), encode=_with_comment)
            with _client(openai_app, relay) as http:
                outcome = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
            assert_timed_out(outcome, relay)
            return
        async_relay = AsyncDripRelay(drip(0.0005), encode=_with_comment)

        async def call() -> httpx.Response:
            async with _async_client(openai_app, async_relay) as http:
                return await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))

        assert_timed_out(abounded(call), async_relay)

    def test_an_honest_gzip_answer_still_opens(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = DripRelay(lambda body: [(0.0, body)], encode=gzip.compress)
        with _client(openai_app, relay) as http:
            response = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
        assert response.json()["choices"][0]["message"]["content"] == f"echo: {SECRET}"


class TestTheDeadlineCoversTheWholeExchange:
    def test_headers_held_back_sync(self, openai_app: tuple[dict[str, Any], str]) -> None:
        # Sync too is cut off while the headers are awaited: it used to wait for them, however long.
        relay = DripRelay(lambda body: [(0.0, body)], headers_delay=OUTER_BOUND * 2)
        with _client(openai_app, relay) as http:
            outcome = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
        assert isinstance(outcome, ContinuumError) and outcome.code == "CONTINUUM_UPSTREAM_TIMEOUT"
        assert outcome.details == {"seconds": DEADLINE}

    def test_headers_held_back_async(self, openai_app: tuple[dict[str, Any], str]) -> None:
        # Async: cut off while the headers are awaited; the relay never hands an answer over.
        relay = AsyncDripRelay(lambda body: [(0.0, body)], headers_delay=OUTER_BOUND * 2)

        async def call() -> httpx.Response:
            async with _async_client(openai_app, relay) as http:
                return await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))

        outcome = abounded(call)
        assert isinstance(outcome, ContinuumError) and outcome.code == "CONTINUUM_UPSTREAM_TIMEOUT"

    def test_async_cuts_a_read_in_progress(self, openai_app: tuple[dict[str, Any], str]) -> None:
        # One read that would block far past the outer bound: async ends it at the deadline.
        relay = AsyncDripRelay(pause(OUTER_BOUND * 2))

        async def call() -> httpx.Response:
            async with _async_client(openai_app, relay) as http:
                return await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))

        assert_timed_out(abounded(call), relay)

    def test_sync_cuts_a_read_in_progress(self, openai_app: tuple[dict[str, Any], str]) -> None:
        # It used to end only when the blocked read returned: here, far past the outer bound.
        relay = DripRelay(pause(OUTER_BOUND * 2))
        with _client(openai_app, relay) as http:
            outcome = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
        assert isinstance(outcome, ContinuumError) and outcome.code == "CONTINUUM_UPSTREAM_TIMEOUT"
        assert relay.handed[0].delivered < relay.handed[0].size

    def test_sync_keeps_the_callers_context(self, openai_app: tuple[dict[str, Any], str]) -> None:
        # The exchange runs on a worker thread: context variables (tracing spans) go with it.
        seen: list[str] = []

        class Recording(DripRelay):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                seen.append(_SPAN.get())
                return super().handle_request(request)

        relay = Recording(lambda body: [(0.0, body)])
        token = _SPAN.set("span-1")
        try:
            with _client(openai_app, relay) as http:
                # On this thread (bounded() would start another, without the variable).
                response = send(http, CHAT, chat_body(SECRET), openai_headers())
        finally:
            _SPAN.reset(token)
        assert response.json()["choices"][0]["message"]["content"] == f"echo: {SECRET}"
        assert seen == ["span-1"]

    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_the_agreement_key_document(self, server: Any, asynchronous: bool) -> None:
        app = server.app("openai", agreementKeys=[{"id": "agree-1", "privateKeyHex": os.urandom(32).hex()}])
        agreement = Agreement(trust_on_first_use=True)
        if not asynchronous:
            relay = DripRelay(drip(0.02), method="GET")
            transport = ContinuumTransport(agreement=agreement, transport=relay, answer_timeout=DEADLINE)
            with httpx.Client(base_url=app["url"], transport=transport, timeout=30) as http:
                outcome = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
            assert_timed_out(outcome, relay)
            return
        async_relay = AsyncDripRelay(drip(0.02), method="GET")

        async def call() -> httpx.Response:
            inner = AsyncContinuumTransport(
                agreement=agreement, transport=async_relay, answer_timeout=DEADLINE
            )
            async with httpx.AsyncClient(base_url=app["url"], transport=inner, timeout=30) as http:
                return await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))

        assert_timed_out(abounded(call), async_relay)


class TestStreamsAndOptOut:
    def test_a_stream_has_no_total_deadline(self, openai_app: tuple[dict[str, Any], str]) -> None:
        # Half the stream, a silence longer than the deadline, the rest: all of it opens.
        relay = DripRelay(pause(3 * DEADLINE))
        with _client(openai_app, relay) as http:

            def call() -> str:
                return stream_chat(http, SECRET)

            assert bounded(call) == f"echo: {SECRET}"
        assert relay.handed[0].delivered == relay.handed[0].size

    def test_a_stream_has_no_total_deadline_async(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = AsyncDripRelay(pause(3 * DEADLINE))

        async def call() -> str:
            async with _async_client(openai_app, relay) as http:
                return await astream_chat(http, SECRET)

        assert abounded(call) == f"echo: {SECRET}"

    def test_none_disables_the_deadline(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = DripRelay(pause(3 * DEADLINE))
        with _client(openai_app, relay, answer_timeout=None) as http:
            response = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
        assert response.json()["choices"][0]["message"]["content"] == f"echo: {SECRET}"

        async_relay = AsyncDripRelay(pause(3 * DEADLINE))

        async def call() -> Any:
            async with _async_client(openai_app, async_relay, answer_timeout=None) as http:
                answer = await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))
                return answer.json()

        assert abounded(call)["choices"][0]["message"]["content"] == f"echo: {SECRET}"


class _HeaderDripServer:
    """A real server on a socket that answers ``GET /health`` at once, on the same keep-alive
    connection, and any other request with headers dripped one byte every 50 ms: about two minutes
    for all of them, so a client that waits for them fails the outer bound. Stops when closed."""

    HEADERS = b"HTTP/1.1 200 OK\r\nx-pad: " + b"a" * 2400 + b"\r\ncontent-length: 0\r\n\r\n"

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port: int = self.listener.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            received = b""
            while not self.stopped.is_set():
                while b"\r\n\r\n" not in received:
                    piece = connection.recv(65536)
                    if not piece:
                        return
                    received += piece
                head, _, received = received.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(received) < length:
                    received += connection.recv(65536)
                received = received[length:]
                if head.startswith(b"GET /health "):
                    connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    continue
                for at in range(len(self.HEADERS)):
                    if self.stopped.wait(0.05):
                        return
                    connection.sendall(self.HEADERS[at : at + 1])

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


class TestHeadersDrippedOnTheSocket:
    """The real thing: httpx's own transport on a socket, each header byte just inside the per-read
    timeout, which the sync transport used to wait out (httpcore reads the headers in one call)."""

    @pytest.mark.parametrize("reused", [False, True], ids=["new connection", "reused connection"])
    def test_sync(self, reused: bool) -> None:
        server = _HeaderDripServer()
        try:
            transport = ContinuumTransport(key_id="k1", key=os.urandom(32), answer_timeout=DEADLINE)
            url = f"http://127.0.0.1:{server.port}"
            with httpx.Client(base_url=url, transport=transport, timeout=5) as http:
                if reused:
                    assert http.get("/health").text == "ok"
                outcome = bounded(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
            assert isinstance(outcome, ContinuumError), outcome
            assert outcome.code == "CONTINUUM_UPSTREAM_TIMEOUT" and outcome.details == {"seconds": DEADLINE}
            assert server.connections == 1
        finally:
            server.close()

    def test_async(self) -> None:
        server = _HeaderDripServer()

        async def call() -> httpx.Response:
            transport = AsyncContinuumTransport(key_id="k1", key=os.urandom(32), answer_timeout=DEADLINE)
            url = f"http://127.0.0.1:{server.port}"
            async with httpx.AsyncClient(base_url=url, transport=transport, timeout=5) as http:
                assert (await http.get("/health")).text == "ok"
                return await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))

        try:
            outcome = abounded(call)
            assert isinstance(outcome, ContinuumError) and outcome.code == "CONTINUUM_UPSTREAM_TIMEOUT"
        finally:
            server.close()


def quiet_first(body: bytes) -> List[Tuple[float, bytes]]:
    """Keep-alive comments, one every 20 ms for far longer than the outer bound, then the stream."""
    return [(0.02, b": keep-alive\n\n")] * int(OUTER_BOUND * 100) + [(0.0, body)]


def event_by_event(body: bytes) -> List[Tuple[float, bytes]]:
    """Each event a quarter of the deadline after the one before: all of it takes several deadlines."""
    events = body.split(b"\n\n")
    return [(DEADLINE / 4, event + b"\n\n") for event in events[:-1]] + [(0.0, events[-1])]


class TestStreamIdleTimeout:
    def test_keep_alives_alone_end_a_stream_sync(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = DripRelay(quiet_first)
        with _client(openai_app, relay, stream_idle_timeout=DEADLINE) as http:
            outcome = bounded(lambda: stream_chat(http, SECRET))
        assert_timed_out(outcome, relay)

    def test_keep_alives_alone_end_a_stream_async(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = AsyncDripRelay(quiet_first)

        async def call() -> str:
            async with _async_client(openai_app, relay, stream_idle_timeout=DEADLINE) as http:
                return await astream_chat(http, SECRET)

        assert_timed_out(abounded(call), relay)

    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_a_slow_stream_with_events_is_not_idle(
        self, openai_app: tuple[dict[str, Any], str], asynchronous: bool
    ) -> None:
        # Every event resets the limit: a stream several limits long opens whole.
        if not asynchronous:
            relay = DripRelay(event_by_event)
            with _client(openai_app, relay, stream_idle_timeout=DEADLINE) as http:
                assert bounded(lambda: stream_chat(http, LONG)) == f"echo: {LONG}"
            assert sum(delay for delay, _ in relay.handed[0].plan) > 2 * DEADLINE
            return
        async_relay = AsyncDripRelay(event_by_event)

        async def call() -> str:
            async with _async_client(openai_app, async_relay, stream_idle_timeout=DEADLINE) as http:
                return await astream_chat(http, LONG)

        assert abounded(call) == f"echo: {LONG}"


@pytest.mark.parametrize("option", ["answer_timeout", "stream_idle_timeout"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "600", True])
@pytest.mark.parametrize("kind", [ContinuumTransport, AsyncContinuumTransport])
def test_a_bad_timeout_is_refused_at_construction(kind: Any, value: Any, option: str) -> None:
    with pytest.raises(ContinuumError) as raised:
        kind(key_id="k1", key=os.urandom(32), **{option: value})
    assert raised.value.code == "CONTINUUM_INVALID_OPTIONS" and option in str(raised.value)


@pytest.mark.parametrize("value", [1, 0.25, None])
def test_good_timeouts_are_accepted(value: Any) -> None:
    for option in ("answer_timeout", "stream_idle_timeout"):
        ContinuumTransport(key_id="k1", key=os.urandom(32), **{option: value})
        AsyncContinuumTransport(key_id="k1", key=os.urandom(32), **{option: value})
