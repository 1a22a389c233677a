"""A relay or a malicious server that answers an encrypted stream with an endless flood of bytes that
carry no event (comments, blank lines, ``event:`` fields that dispatch nothing) kept the client
busy for ever: the decoders keep no memory for such lines, so no bound was reached, and the SDK
never got an event, an error or an end. The opener now refuses more than MAX_QUIET_BYTES without
a verified event with CONTINUUM_UPSTREAM_PROTOCOL_ERROR; keep-alive comments between events, as
servers send them, reset the count. And what a hostile server can do to the HTTP framing itself
(huge or endless headers, a garbage status line) stays an httpx transport error, which the SDKs
report as a connection error, raised at once and bounded by httpcore's buffer."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest

from continuum_client import AsyncContinuumTransport, ContinuumError, ContinuumTransport, stream_opener
from continuum_client.field_cipher import CipherContext, compute_seal
from continuum_client.keys import create_field_key
from continuum_client.messages import EVENT_SEAL_KEY
from continuum_client.routes import RouteTable
from sdk_requests import asend, chat_body, openai_headers, send

KEY = os.urandom(32)
CHAT = "/v1/chat/completions"
LIMIT = 1 << 20
SSE = [("content-type", "text/event-stream"), ("x-continuum-encrypted", "1")]
NDJSON = [("content-type", "application/x-ndjson"), ("x-continuum-encrypted", "1")]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_opener, "MAX_QUIET_BYTES", LIMIT)


def _flood(line: bytes) -> Iterator[bytes]:
    piece = line * (65536 // len(line))
    for _ in range(4 * LIMIT // len(piece)):
        yield piece
    raise AssertionError("the client read on past its bound")


class _Flood(httpx.SyncByteStream):
    def __init__(self, line: bytes) -> None:
        self._line = line

    def __iter__(self) -> Iterator[bytes]:
        return _flood(self._line)


class _AsyncFlood(httpx.AsyncByteStream):
    def __init__(self, line: bytes) -> None:
        self._line = line

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in _flood(self._line):
            yield piece


@pytest.mark.parametrize("line", [b": keep-alive\n", b"\n", b"event: x\n", b"id: 1\nretry: 5\n\n"])
def test_a_flood_without_events_is_refused(small_limit: None, line: bytes) -> None:
    answer = httpx.MockTransport(lambda request: httpx.Response(200, headers=SSE, stream=_Flood(line)))
    transport = ContinuumTransport(key_id="k1", key=KEY, transport=answer)
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        response = send(http, CHAT, chat_body("hi", stream=True), openai_headers(), stream=True)
        with pytest.raises(ContinuumError) as raised:
            response.read()
    assert raised.value.code == "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"
    assert raised.value.details == {"limit": LIMIT}


def test_a_flood_of_blank_ndjson_lines_is_refused_async(small_limit: None) -> None:
    async def run() -> str:
        answer = httpx.MockTransport(
            lambda request: httpx.Response(200, headers=NDJSON, stream=_AsyncFlood(b" \n"))
        )
        transport = AsyncContinuumTransport(key_id="k1", key=KEY, transport=answer)
        async with httpx.AsyncClient(base_url="http://gpu.test", transport=transport) as http:
            body = {"model": "llama3", "messages": [{"role": "user", "content": "hi"}]}
            response = await asend(http, "/api/chat", body, {}, stream=True)
            with pytest.raises(ContinuumError) as raised:
                await response.aread()
            return raised.value.code

    assert asyncio.run(run()) == "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"


def test_quiet_bytes_between_events_reset_the_count(small_limit: None) -> None:
    # Sealed events with most of the bound in keep-alive comments between each two: all go through.
    route = RouteTable.builtin().lookup_suffix("POST", CHAT)
    assert route is not None and route.route.stream is not None
    context = CipherContext(create_field_key("k1", KEY), "n" * 22, "response")
    opener = stream_opener.StreamOpener(route.route.stream, context)
    quiet = b": keep-alive\n" * (LIMIT * 3 // 4 // 13) + b"\n"
    for sequence in range(4):
        event: dict[str, Any] = {"choices": [], "object": "chat.completion.chunk"}
        event[EVENT_SEAL_KEY] = compute_seal(context, sequence, "event", "", event)
        assert opener.push(quiet) == b""
        assert opener.push(b"data: " + json.dumps(event).encode() + b"\n\n")
    assert opener.events == 4


def test_the_default_bound_is_far_above_the_largest_event() -> None:
    # The decoders accept an event of 8 Mi characters: up to 4 bytes each, with its field names.
    assert stream_opener.MAX_QUIET_BYTES >= 4 * 8 * 1024 * 1024 + 8 * 1024 * 1024


# --- the HTTP framing ----------------------------------------------------------------------------


def _server(answer: bytes) -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def run() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(10)
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            try:
                connection.sendall(answer)
            except OSError:
                pass
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    port: int = listener.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nx-a: " + b"a" * (4 << 20) + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"x-a: a\r\n" * 500_000 + b"\r\n",
        b"HTTQ/9 abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\nx-continuum-encrypted: 1\r\n\r\n{}",
    ],
    ids=["one huge header", "endless headers", "garbage status line", "conflicting lengths"],
)
def test_hostile_framing_is_a_transport_error_at_once(answer: bytes) -> None:
    port = _server(answer)
    transport = ContinuumTransport(key_id="k1", key=KEY)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=10) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            send(http, CHAT, chat_body("hi"), openai_headers())

