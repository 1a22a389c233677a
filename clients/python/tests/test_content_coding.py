"""Regression: ``content-encoding`` is not sealed, and a relay that added ``content-encoding: gzip``
(or ``deflate``, or ``br`` where brotli is installed) over a body that is not compressed made the
transports raise a raw ``httpx.DecodingError`` with no code. The client now decodes the codings it
asks for itself (``accept-encoding: gzip, deflate``), in bounded pieces, and any other coding or a
body that does not decode is the integrity failure a tampered answer is (a sealed-looking error
becomes CONTINUUM_UNAUTHENTICATED_RESPONSE, an agreement key document CONTINUUM_KEY_AGREEMENT_FAILED).
Honest compression on the path still works, and a small compressed body cannot inflate past the
client's bounds. Sync and async, JSON answers and streams, against the real middleware."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import tracemalloc
import zlib
from typing import Any, AsyncIterator, Callable, Iterator

import httpx
import pytest

from continuum_client import Agreement, AsyncContinuumTransport, ContinuumError, ContinuumTransport
from continuum_client.content_coding import ContentCodingError, ContentDecoder
from relays import AsyncRelay, Captured, Relay
from sdk_requests import asend, astream_chat, chat_body, openai_headers, send, stream_chat

SECRET = "the launch code is 0000"
BOGUS = ["gzip", "deflate", "br", "x-gzip", "gzip, gzip", "identity, gzip", "compress", "zstd"]
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def openai_app(server: Any) -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app("openai", keys=[{"id": "k1", "keyHex": key}]), key


@pytest.fixture(scope="module")
def ollama_app(server: Any) -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app("ollama", keys=[{"id": "k1", "keyHex": key}]), key


def adding_coding(coding: str) -> Callable[[Captured], Captured]:
    """A relay that labels the answer as compressed and leaves the body as it is."""

    def rewrite(captured: Captured) -> Captured:
        captured.response_headers = [*captured.response_headers, ("content-encoding", coding)]
        return captured

    return rewrite


def code_of(run: Callable[[], Any]) -> str:
    with pytest.raises(ContinuumError) as raised:
        run()
    return raised.value.code


def _client(app: tuple[dict[str, Any], str], inner: httpx.BaseTransport) -> httpx.Client:
    transport = ContinuumTransport(key_id="k1", key=app[1], transport=inner)
    return httpx.Client(base_url=app[0]["url"], transport=transport, timeout=30)


def _async_client(app: tuple[dict[str, Any], str], inner: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    transport = AsyncContinuumTransport(key_id="k1", key=app[1], transport=inner)
    return httpx.AsyncClient(base_url=app[0]["url"], transport=transport, timeout=30)


def _stream_chat(http: httpx.Client) -> str:
    return stream_chat(http, SECRET)


async def _astream_chat(http: httpx.AsyncClient) -> str:
    return await astream_chat(http, SECRET)


def _ollama_lines(http: httpx.Client) -> list[Any]:
    body = {"model": "llama3", "messages": [{"role": "user", "content": SECRET}]}
    response = send(http, "/api/chat", body, {}, stream=True)
    try:
        return [json.loads(line) for line in response.iter_lines() if line]
    finally:
        response.close()


class TestABogusCodingIsAnIntegrityFailure:
    @pytest.mark.parametrize("coding", BOGUS)
    def test_json_answers(self, openai_app: tuple[dict[str, Any], str], coding: str) -> None:
        relay = Relay()
        relay.rewrite_response = adding_coding(coding)
        with _client(openai_app, relay) as http:
            # Before: httpx.DecodingError for gzip and deflate (and br with brotli installed).
            assert code_of(lambda: send(http, CHAT, chat_body(SECRET), openai_headers())) == (
                "CONTINUUM_RESPONSE_INTEGRITY_FAILED"
            )

    @pytest.mark.parametrize("coding", BOGUS)
    def test_sse_streams(self, openai_app: tuple[dict[str, Any], str], coding: str) -> None:
        relay = Relay()
        relay.rewrite_response = adding_coding(coding)
        with _client(openai_app, relay) as http:
            assert code_of(lambda: _stream_chat(http)) == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"

    @pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
    def test_ndjson_streams(self, ollama_app: tuple[dict[str, Any], str], coding: str) -> None:
        relay = Relay()
        relay.rewrite_response = adding_coding(coding)
        with _client(ollama_app, relay) as http:
            assert code_of(lambda: _ollama_lines(http)) == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"

    @pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
    def test_async_json_and_streams(self, openai_app: tuple[dict[str, Any], str], coding: str) -> None:
        async def run() -> list[str]:
            codes = []
            relay = AsyncRelay()
            relay.rewrite_response = adding_coding(coding)
            async with _async_client(openai_app, relay) as http:
                for call in (
                    lambda: asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True)),
                    lambda: _astream_chat(http),
                ):
                    with pytest.raises(ContinuumError) as raised:
                        await call()
                    codes.append(raised.value.code)
            return codes

        assert asyncio.run(run()) == ["CONTINUUM_RESPONSE_INTEGRITY_FAILED"] * 2

    def test_the_same_answer_unlabelled_opens(self, openai_app: tuple[dict[str, Any], str]) -> None:
        with _client(openai_app, Relay()) as http:
            assert send(http, CHAT, chat_body(SECRET), openai_headers()).json()["choices"][0]["message"][
                "content"
            ] == (f"echo: {SECRET}")
            assert _stream_chat(http) == f"echo: {SECRET}"


def _hostile(status: int, headers: list[tuple[str, str]], body: bytes) -> httpx.MockTransport:
    # `stream=`: a body as a real transport hands it over, not yet read (and decoded) by httpx.
    return httpx.MockTransport(
        lambda request: httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))
    )


def test_a_sealed_looking_error_that_does_not_decode_is_unauthenticated() -> None:
    answer = _hostile(500, [("x-continuum-seal", "A" * 43), ("content-encoding", "gzip")], b'{"error":{}}')
    transport = ContinuumTransport(key_id="k1", key=os.urandom(32), transport=answer)
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        response = send(http, CHAT, chat_body(SECRET), openai_headers())
    assert response.status_code == 500 and response.headers["x-should-retry"] == "false"
    assert response.json()["error"]["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE"


@pytest.mark.parametrize("asynchronous", [False, True])
def test_an_agreement_key_document_that_does_not_decode_is_refused(asynchronous: bool) -> None:
    headers = [("content-type", "application/json"), ("content-encoding", "gzip")]
    agreement = Agreement(trust_on_first_use=True)
    if not asynchronous:
        transport = ContinuumTransport(agreement=agreement, transport=_hostile(200, headers, b"{}"))
        with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
            code = code_of(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
    else:

        async def run() -> str:
            inner = httpx.MockTransport(
                lambda request: httpx.Response(200, headers=headers, stream=_AsyncPieces(b"{}", 1))
            )
            transport = AsyncContinuumTransport(agreement=agreement, transport=inner)
            async with httpx.AsyncClient(base_url="http://gpu.test", transport=transport) as http:
                with pytest.raises(ContinuumError) as raised:
                    await asend(http, CHAT, chat_body(SECRET), openai_headers())
                return raised.value.code

        code = asyncio.run(run())
    assert code == "CONTINUUM_KEY_AGREEMENT_FAILED"


# --- honest compression on the path -----------------------------------------------------------------


def _compress(coding: str, body: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(body)
    if coding == "deflate":
        return zlib.compress(body)
    if coding == "raw deflate":
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return packer.compress(body) + packer.flush()
    if coding == "gzip, deflate":
        return zlib.compress(gzip.compress(body))
    assert coding == "two gzip members"
    return gzip.compress(body[:100]) + gzip.compress(body[100:])


def _label(coding: str) -> str:
    return {"raw deflate": "deflate", "two gzip members": "gzip"}.get(coding, coding)


class _Pieces(httpx.SyncByteStream):
    def __init__(self, body: bytes, size: int) -> None:
        self._body, self._size = body, size

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._body), self._size):
            yield self._body[start : start + self._size]


class _AsyncPieces(httpx.AsyncByteStream):
    def __init__(self, body: bytes, size: int) -> None:
        self._body, self._size = body, size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in _Pieces(self._body, self._size):
            yield piece


def _compressed(response: httpx.Response, body: bytes, coding: str) -> list[tuple[str, str]]:
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name not in ("content-length", "transfer-encoding", "content-encoding")
    ]
    return [*headers, ("content-encoding", _label(coding))]


class Compressing(httpx.BaseTransport):
    """A proxy on the path that compresses every answer, and hands it over in 7-byte pieces."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.inner = httpx.HTTPTransport()
        self.asked: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.headers.get("accept-encoding"))
        response = self.inner.handle_request(request)
        body = response.read()
        response.close()
        packed = _compress(self.coding, body)
        headers = _compressed(response, body, self.coding)
        return httpx.Response(response.status_code, headers=headers, stream=_Pieces(packed, 7))


class AsyncCompressing(httpx.AsyncBaseTransport):
    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        packed = _compress(self.coding, body)
        headers = _compressed(response, body, self.coding)
        return httpx.Response(response.status_code, headers=headers, stream=_AsyncPieces(packed, 7))


HONEST = ["gzip", "deflate", "raw deflate", "gzip, deflate", "two gzip members"]


@pytest.mark.parametrize("coding", HONEST)
def test_honest_compression_on_the_path_still_opens(
    openai_app: tuple[dict[str, Any], str], coding: str
) -> None:
    inner = Compressing(coding)
    with _client(openai_app, inner) as http:
        answer = send(http, CHAT, chat_body(SECRET), openai_headers(), stream=False)
        assert answer.json()["choices"][0]["message"]["content"] == f"echo: {SECRET}"
        assert "content-encoding" not in answer.headers
        assert _stream_chat(http) == f"echo: {SECRET}"
    # What the transport asks for is what it decodes, whatever httpx (with brotli, zstd) would ask.
    assert inner.asked == ["gzip, deflate", "gzip, deflate"]


@pytest.mark.parametrize("coding", ["gzip", "raw deflate"])
def test_honest_compression_async(openai_app: tuple[dict[str, Any], str], coding: str) -> None:
    async def run() -> tuple[str, str]:
        async with _async_client(openai_app, AsyncCompressing(coding)) as http:
            answer = await asend(http, CHAT, chat_body(SECRET), openai_headers(asynchronous=True))
            return answer.json()["choices"][0]["message"]["content"], await _astream_chat(http)

    assert asyncio.run(run()) == (f"echo: {SECRET}", f"echo: {SECRET}")


def test_the_callers_accept_encoding_is_replaced() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(502)

    transport = ContinuumTransport(key_id="k1", key=os.urandom(32), transport=httpx.MockTransport(answer))
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        send(http, CHAT, chat_body(SECRET), {**openai_headers(), "Accept-Encoding": "br, zstd"})
    assert seen[0].headers.get_list("accept-encoding") == ["gzip, deflate"]


def test_a_compressed_stream_that_ends_inside_its_compressed_data_is_truncated(
    openai_app: tuple[dict[str, Any], str]
) -> None:
    relay = Relay()

    def cut(captured: Captured) -> Captured:
        captured.response_headers = [*captured.response_headers, ("content-encoding", "gzip")]
        packed = gzip.compress(captured.response_body)
        captured.response_body = packed[: len(packed) // 2]
        return captured

    relay.rewrite_response = cut
    with _client(openai_app, relay) as http:
        assert code_of(lambda: _stream_chat(http)) == "CONTINUUM_STREAM_TRUNCATED"
        # A JSON answer cut so is simply not the answer.
        assert code_of(lambda: send(http, CHAT, chat_body(SECRET), openai_headers())) == (
            "CONTINUUM_RESPONSE_INTEGRITY_FAILED"
        )


# --- bombs ---------------------------------------------------------------------------------------


def _bomb(size: int, unit: bytes = b"\0") -> bytes:
    packer = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    block = unit * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


ENCRYPTED_JSON = [
    ("content-type", "application/json"),
    ("x-continuum-encrypted", "1"),
    ("x-continuum-seal", "A" * 43),
    ("content-encoding", "gzip"),
]


def test_a_compressed_json_answer_cannot_inflate_past_max_response_bytes() -> None:
    bomb = _bomb(128 << 20)  # 128 MiB in about 125 KiB, handed over in one chunk
    assert len(bomb) < 1 << 20
    transport = ContinuumTransport(
        key_id="k1",
        key=os.urandom(32),
        transport=_hostile(200, ENCRYPTED_JSON, bomb),
        max_response_bytes=1 << 20,
    )
    tracemalloc.start()
    try:
        with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
            code = code_of(lambda: send(http, CHAT, chat_body(SECRET), openai_headers()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Before: httpx inflated the whole chunk at once (128 MiB) before any bound was checked.
    assert code == "CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE"
    assert peak < 16 << 20


def test_a_compressed_stream_cannot_inflate_past_the_line_bound() -> None:
    headers = [
        (name, "text/event-stream" if name == "content-type" else value) for name, value in ENCRYPTED_JSON
    ]
    bomb = _bomb(64 << 20, b"x")
    transport = ContinuumTransport(key_id="k1", key=os.urandom(32), transport=_hostile(200, headers, bomb))
    tracemalloc.start()
    try:
        with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
            response = send(http, CHAT, chat_body(SECRET, stream=True), openai_headers(), stream=True)
            code = code_of(response.read)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"
    assert peak < 48 << 20


# --- the decoder ---------------------------------------------------------------------------------


def _decode(coding: str, body: bytes, size: int) -> bytes:
    decoder = ContentDecoder(httpx.Headers({"content-encoding": coding}))
    chunks = [body[start : start + size] for start in range(0, len(body), size)]
    out = b"".join(piece for chunk in chunks for piece in decoder.decode(chunk))
    decoder.end()
    return out


@pytest.mark.parametrize("coding", HONEST)
@pytest.mark.parametrize("size", [1, 5, 1 << 20])
def test_the_decoder_reads_honest_codings_split_anywhere(coding: str, size: int) -> None:
    body = os.urandom(2_000).hex().encode() * 40  # past 64 KiB decoded: more than one piece
    assert _decode(_label(coding), _compress(coding, body), size) == body


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", b"{}"),
        ("deflate", b"{}"),
        ("gzip", gzip.compress(b"{}") + b"trailing"),
        ("deflate", zlib.compress(b"{}") + b"t"),
        ("deflate", zlib.compress(b"{}")[:-3]),
        ("gzip", gzip.compress(b"{}")[:-1]),
        ("br", b"{}"),
        ("gzip, gzip, gzip, gzip, gzip", b""),
    ],
)
def test_the_decoder_refuses_what_is_not_its_coding(coding: str, body: bytes) -> None:
    with pytest.raises(ContentCodingError):
        _decode(coding, body, 3)


def test_an_empty_body_is_empty_in_any_coding() -> None:
    assert _decode("gzip", b"", 1) == b"" and _decode("deflate", b"", 1) == b""
