"""A man in the middle for the attack tests: an httpx transport between the Continuum transport and
the real socket to the server. It records the bytes that cross it, and can rewrite a request,
rewrite an answer, cut a stream, or answer on its own (a forgery, or bytes replayed from an
earlier exchange), which is everything an attacker on the path can do to an HTTP exchange."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import AsyncIterator, Callable, Iterator

import httpx

_FRAMING = {"content-length", "transfer-encoding", "content-encoding"}


@dataclass
class Captured:
    """One exchange as it crossed the relay."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""


Rewrite = Callable[[Captured], Captured]
Answer = Callable[[Captured], "Captured | None"]


def _request(captured: Captured, original: httpx.Request) -> httpx.Request:
    headers = [(name, value) for name, value in captured.headers if name.lower() not in _FRAMING]
    return httpx.Request(
        captured.method, captured.url, headers=headers, content=captured.body, extensions=original.extensions
    )


def _cut_stream(body: bytes, raise_at_end: bool) -> Iterator[bytes]:
    for start in range(0, len(body), 97):
        yield body[start : start + 97]
    if raise_at_end:
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


async def _acut_stream(body: bytes, raise_at_end: bool) -> AsyncIterator[bytes]:
    for piece in _cut_stream(body, False):
        yield piece
    if raise_at_end:
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


class _Base:
    def __init__(self) -> None:
        self.exchanges: list[Captured] = []
        self.rewrite_request: Rewrite | None = None
        self.rewrite_response: Rewrite | None = None
        self.answer: Answer | None = None
        #: End the answer with a broken connection rather than a clean end.
        self.break_connection = False

    def _captured(self, request: httpx.Request, body: bytes) -> Captured:
        captured = Captured(request.method, str(request.url), request.headers.multi_items(), body)
        self.exchanges.append(captured)
        return captured

    def _finish(self, captured: Captured, status: int, headers: httpx.Headers, body: bytes) -> Captured:
        captured.status = status
        captured.response_headers = [
            (name, value) for name, value in headers.multi_items() if name not in _FRAMING
        ]
        captured.response_body = body
        if self.rewrite_response is None:
            return captured
        rewritten = self.rewrite_response(replace(captured))
        return rewritten

    def wire_text(self) -> str:
        """Every byte that crossed the relay, both ways, as text."""
        return "".join(
            exchange.body.decode("utf-8", "replace")
            + exchange.response_body.decode("utf-8", "replace")
            + "".join(value for _, value in exchange.headers)
            for exchange in self.exchanges
        )


class Relay(_Base, httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        super().__init__()
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        captured = self._captured(request, request.read())
        forged = self.answer(captured) if self.answer is not None else None
        if forged is not None:
            answer = forged
        else:
            outgoing = self.rewrite_request(replace(captured)) if self.rewrite_request else captured
            response = self.inner.handle_request(_request(outgoing, request))
            try:
                body = response.read()
            finally:
                response.close()
            answer = self._finish(captured, response.status_code, response.headers, body)
        return httpx.Response(
            answer.status,
            headers=answer.response_headers,
            stream=httpx.ByteStream(answer.response_body)
            if not self.break_connection
            else _SyncIterator(_cut_stream(answer.response_body, True)),
        )

    def close(self) -> None:
        self.inner.close()


class AsyncRelay(_Base, httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__()
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        captured = self._captured(request, await request.aread())
        forged = self.answer(captured) if self.answer is not None else None
        if forged is not None:
            answer = forged
        else:
            outgoing = self.rewrite_request(replace(captured)) if self.rewrite_request else captured
            response = await self.inner.handle_async_request(_request(outgoing, request))
            try:
                body = await response.aread()
            finally:
                await response.aclose()
            answer = self._finish(captured, response.status_code, response.headers, body)
        return httpx.Response(
            answer.status,
            headers=answer.response_headers,
            stream=httpx.ByteStream(answer.response_body)
            if not self.break_connection
            else _AsyncIterator(_acut_stream(answer.response_body, True)),
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _SyncIterator(httpx.SyncByteStream):
    def __init__(self, source: Iterator[bytes]) -> None:
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        yield from self._source


class _AsyncIterator(httpx.AsyncByteStream):
    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self._source:
            yield piece


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def with_header(headers: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(key, existing) for key, existing in headers if key.lower() != name]
    return kept if value is None else [*kept, (name, value)]


def flip_in(body: bytes, needle: bytes, offset: int = 0) -> bytes:
    """Flips one bit of the byte ``offset`` bytes after ``needle`` (which must be there)."""
    at = body.index(needle) + len(needle) + offset
    return body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1 :]
