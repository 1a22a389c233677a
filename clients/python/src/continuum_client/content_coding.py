"""The content codings of answers to encrypted requests, decoded by the client itself rather than by
httpx. ``content-encoding`` is not sealed: a relay can add ``gzip`` or ``br`` over a body that is
not compressed, and httpx then raised a raw ``DecodingError`` with no code. The client asks for
what it decodes (``accept-encoding: gzip, deflate``), decodes only that, and refuses any other
coding or a body that does not decode; the callers turn the refusal into the coded error of the
answer it belongs to. Output comes in pieces of at most 64 KiB whatever the ratio, so a small
compressed body cannot inflate past the callers' limits (a JSON answer's ``max_response_bytes``,
a stream's line and event bounds) before they are checked."""

from __future__ import annotations

import zlib
from typing import AsyncIterator, Callable, Iterable, Iterator

import httpx

#: The ``accept-encoding`` of every encrypted request: exactly the codings decoded here.
ACCEPTED_CODINGS = "gzip, deflate"
_PIECE = 64 * 1024
# More codings stacked on one body than any server applies: refused before a decoder is made.
_MAX_CODINGS = 4


class ContentCodingError(ValueError):
    """The answer's coding is not one the client asked for, or its body does not decode."""


class ContentCutError(ContentCodingError):
    """The body ended inside its compressed data: for a stream, the same as a cut connection."""


class _Inflater:
    """One ``gzip`` (members in sequence) or ``deflate`` (zlib, or the raw deflate some servers send)
    layer, decoded in bounded pieces."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._zlib: zlib._Decompress | None = None
        # deflate: the first two bytes tell a zlib header from raw deflate.
        self._head = b""

    def _start(self, data: bytes) -> bytes:
        if self._gzip:
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
            return data
        self._head += data
        if len(self._head) < 2:
            return b""
        first, second = self._head[0], self._head[1]
        wrapped = first & 0x0F == 8 and ((first << 8) | second) % 31 == 0
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        data, self._head = self._head, b""
        return data

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        if self._zlib is None:
            # Made on the first byte, so that at the end an empty body is told from a cut one.
            data = self._start(data)
            if self._zlib is None:
                return
        decompressor = self._zlib
        try:
            while True:
                if decompressor.eof:
                    rest = decompressor.unused_data + data
                    if not rest:
                        return
                    if not self._gzip:
                        raise ContentCodingError("data after the end of a deflate body")
                    # A gzip body may be several members in sequence.
                    decompressor = self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    data = rest
                out = decompressor.decompress(data, _PIECE)
                if out:
                    yield out
                data = decompressor.unconsumed_tail
                # A full piece may leave output inside zlib even when the input is all taken.
                if not data and len(out) < _PIECE and not decompressor.eof:
                    return
        except zlib.error as error:
            raise ContentCodingError(f"body does not decode: {error}") from None

    def end(self) -> None:
        """Called at a clean end of the body only (a cut is the callers' truncation): a compressed body
        that has not reached its end by then is not one (an empty body is empty, as httpx reads it).
        At its end zlib has handed out all its output already."""
        if self._head or (self._zlib is not None and not self._zlib.eof):
            raise ContentCutError("body ends inside its compressed data")


class ContentDecoder:
    """The decoder of one answer's body, from its ``content-encoding`` header(s); :meth:`of` makes one."""

    @classmethod
    def of(cls, response: httpx.Response) -> ContentDecoder:
        """The decoder of an answer. One its transport already read (``httpx.Response(content=...)``,
        as mock transports answer) was decoded by httpx then: its content is taken as it is."""
        return cls(httpx.Headers() if response.is_stream_consumed else response.headers)

    def __init__(self, headers: httpx.Headers) -> None:
        codings: list[str] = []
        for value in headers.get_list("content-encoding", split_commas=True):
            coding = value.strip().lower()
            if coding in ("", "identity"):
                continue
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise ContentCodingError(f"content coding {coding[:32]!r} was not asked for")
            codings.append(coding)
        if len(codings) > _MAX_CODINGS:
            raise ContentCodingError(f"more than {_MAX_CODINGS} content codings")
        # Listed in the order they were applied: undone from the last.
        self._layers = [_Inflater(coding != "deflate") for coding in reversed(codings)]

    def decode(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded pieces of one chunk of the body as it came."""
        return self._through(0, [chunk] if chunk else [])

    def end(self) -> None:
        """The end of the body: raises if it came inside compressed data."""
        for layer in self._layers:
            layer.end()

    def _through(self, index: int, pieces: Iterable[bytes]) -> Iterator[bytes]:
        if index == len(self._layers):
            yield from pieces
            return
        layer = self._layers[index]
        for piece in pieces:
            yield from self._through(index + 1, layer.feed(piece))

    def body(self, response: httpx.Response, each_read: Callable[[], None] | None = None) -> Iterator[bytes]:
        """The decoded pieces of a whole body; ``each_read`` is called after every read from the wire,
        whether it decodes to anything or not (the sync answer deadline, answer_deadline.py, and a
        stream's idle limit, stream_idle.py)."""
        if response.is_stream_consumed:
            yield response.content
            return
        for chunk in response.iter_raw():
            if each_read is not None:
                each_read()
            yield from self.decode(chunk)
        self.end()

    async def abody(
        self, response: httpx.Response, each_read: Callable[[], None] | None = None
    ) -> AsyncIterator[bytes]:
        """The decoded pieces of a whole body read asynchronously; ``each_read`` as in :meth:`body`."""
        if response.is_stream_consumed:
            yield response.content
            return
        async for chunk in response.aiter_raw():
            if each_read is not None:
                each_read()
            for piece in self.decode(chunk):
                yield piece
        self.end()
