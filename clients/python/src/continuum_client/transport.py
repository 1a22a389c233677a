"""``ContinuumTransport`` and ``AsyncContinuumTransport``: httpx transports that the official
``openai`` and ``anthropic`` Python SDKs take through ``http_client=httpx.Client(transport=...)``.
They encrypt the sensitive fields of requests on the protocols' routes, seal the rest (query and
headers included), and verify and decrypt answers and streams before the SDK sees them. Only a
sealed retired-key notice makes them refresh the key and retry, once: the server refused that
request before forwarding it, so the retry cannot run it twice. A body never goes in clear to a
path the client does not know as plain. An answer read whole (JSON, a sealed error, the agreement key
document) is read within ``answer_timeout`` (answer_deadline.py), and a stream may go no longer
than ``stream_idle_timeout`` without a verified event (stream_idle.py), as httpx's per-read
timeouts cannot bound an answer dripped one byte at a time."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterable, Iterator

import httpx

from .answer_deadline import (
    DEFAULT_ANSWER_TIMEOUT,
    Deadline,
    seconds_option,
    within_deadline,
    within_deadline_sync,
)
from .content_coding import ContentCodingError, ContentCutError, ContentDecoder
from .errors import ContinuumError
from .exchange import (
    DEFAULT_MAX_REQUEST_BYTES,
    Clock,
    ClientCore,
    NonceSource,
    Opened,
    Plan,
    Sealed,
    join_limited,
    random_nonce,
    system_clock,
    undecodable,
)
from .field_cipher import IvSource, random_iv
from .key_source import Agreement, AgreementKeySource, KeyProvider, KeySource, SharedKeySource
from .keys import KeyMaterial
from .path_policy import validate_plain_paths
from .routes import RouteTable
from .stream_idle import DEFAULT_STREAM_IDLE_TIMEOUT, StreamIdle
from .stream_opener import StreamOpener

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_AGREEMENT_HEADERS = {"accept": "application/json"}
# A connection that breaks mid-stream is a stream without its end marker, i.e. a truncation; so is
# a compressed stream that ends inside its compressed data.
_CUT = (httpx.RemoteProtocolError, httpx.ReadError, ContentCutError)


def _key_source(
    key_id: str | None, key: KeyMaterial | None, keys: KeyProvider | None, agreement: Agreement | None
) -> KeySource:
    modes = [key is not None or key_id is not None, keys is not None, agreement is not None]
    if sum(modes) != 1:
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", "give exactly one of key_id+key, keys, or agreement"
        )
    if keys is not None:
        return SharedKeySource(keys)
    if agreement is not None:
        if not isinstance(agreement, Agreement):
            raise ContinuumError("CONTINUUM_INVALID_OPTIONS", "agreement must be an Agreement")
        return AgreementKeySource(agreement)
    if key_id is None or key is None:
        raise ContinuumError("CONTINUUM_INVALID_OPTIONS", "key and key_id go together")
    return SharedKeySource.fixed(key_id, key)


def _positive_integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ContinuumError("CONTINUUM_INVALID_OPTIONS", f"{name} must be a positive integer")
    return value


def _core(
    routes: RouteTable | None,
    plain_paths: Iterable[str] | None,
    clock: Clock | None,
    max_response_bytes: int,
    max_request_bytes: int,
    iv: IvSource,
    nonce: NonceSource,
) -> ClientCore:
    if routes is not None and not isinstance(routes, RouteTable):
        raise ContinuumError("CONTINUUM_INVALID_OPTIONS", "routes must be a RouteTable")
    _positive_integer(max_response_bytes, "max_response_bytes")
    _positive_integer(max_request_bytes, "max_request_bytes")
    if clock is not None and not callable(clock):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", "clock must be a callable returning Unix milliseconds"
        )
    return ClientCore(
        routes or RouteTable.builtin(),
        validate_plain_paths(plain_paths),
        clock or system_clock,
        max_response_bytes,
        iv,
        nonce,
        max_request_bytes,
    )


def _check_transport(transport: object, method: str, example: str) -> None:
    # A sync transport under the async client (or the reverse) is an easy slip: say so now, not as an
    # AttributeError on the first request.
    if transport is not None and not callable(getattr(transport, method, None)):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS",
            f"transport must be an httpx transport with {method}, such as {example}",
        )


class _OpenedStream(httpx.SyncByteStream):
    def __init__(
        self, response: httpx.Response, decoder: ContentDecoder, opener: StreamOpener, idle: float | None
    ) -> None:
        self._response = response
        self._decoder = decoder
        self._opener = opener
        self._idle = StreamIdle(idle, opener)

    def __iter__(self) -> Iterator[bytes]:
        # The bytes as they came, decoded here in bounded pieces (content_coding.py), each pushed alone.
        try:
            for piece in self._decoder.body(self._response, self._idle.check):
                plain = self._opener.push(piece)
                if plain:
                    yield plain
        except _CUT as error:
            self._opener.cut(error)
        except ContentCodingError as error:
            raise undecodable(error) from None
        plain = self._opener.finish()
        if plain:
            yield plain

    def close(self) -> None:
        self._response.close()


class _AsyncOpenedStream(httpx.AsyncByteStream):
    def __init__(
        self, response: httpx.Response, decoder: ContentDecoder, opener: StreamOpener, idle: float | None
    ) -> None:
        self._response = response
        self._decoder = decoder
        self._opener = opener
        self._idle = StreamIdle(idle, opener)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for piece in self._decoder.abody(self._response, self._idle.check):
                plain = self._opener.push(piece)
                if plain:
                    yield plain
        except _CUT as error:
            self._opener.cut(error)
        except ContentCodingError as error:
            raise undecodable(error) from None
        plain = self._opener.finish()
        if plain:
            yield plain

    async def aclose(self) -> None:
        await self._response.aclose()


class ContinuumTransport(httpx.BaseTransport):
    """An encrypting httpx transport: ``httpx.Client(transport=ContinuumTransport(key_id=..., key=...))``.

    Give exactly one of ``key_id`` + ``key`` (a pre-shared 32-byte key, or its hex or base64url),
    ``keys`` (a callable returning a :class:`SharedKey`, asked again after a sealed retired-key
    notice) or ``agreement`` (:class:`Agreement`, X25519 with the key the server publishes).

    ``transport`` carries the encrypted requests (default ``httpx.HTTPTransport()``). ``plain_paths``
    lists paths (ends of URL paths, e.g. ``/v1/files``) that may carry a body in clear; a body to any
    other path that is not a route is refused with CONTINUUM_CLIENT_PATH_REFUSED before anything is
    sent. ``routes`` replaces the built-in protocols; ``clock`` returns Unix milliseconds;
    ``max_response_bytes`` bounds a JSON answer (default 64 MiB); ``max_request_bytes`` bounds an
    encrypted request body as sent (default 10 MiB, the server's default ``bodyLimit``): a larger one
    is refused with CONTINUUM_BODY_TOO_LARGE before it is sent. ``answer_timeout`` (seconds, default
    600, ``None`` for none) bounds each encrypted exchange from sending the request until its headers,
    and for an answer that is not a stream (JSON, a sealed error, the agreement key document) until
    its last byte: then CONTINUUM_UPSTREAM_TIMEOUT, the response closed. The call ends at the
    deadline itself, headers still dripping or a read in progress included (the exchange runs on a
    worker thread the caller waits for). Streams get no total deadline: ``stream_idle_timeout``
    (seconds, default 600, ``None`` for none) bounds the time between their verified events,
    checked each time a read returns. Options are validated now.
    """

    def __init__(
        self,
        *,
        key_id: str | None = None,
        key: KeyMaterial | None = None,
        keys: KeyProvider | None = None,
        agreement: Agreement | None = None,
        transport: httpx.BaseTransport | None = None,
        plain_paths: Iterable[str] | None = None,
        routes: RouteTable | None = None,
        clock: Clock | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        answer_timeout: float | None = DEFAULT_ANSWER_TIMEOUT,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
        _iv: IvSource = random_iv,
        _nonce: NonceSource = random_nonce,
    ) -> None:
        # `_iv` and `_nonce` exist for the test vectors and the benchmark only: never fix them in use.
        self._keys = _key_source(key_id, key, keys, agreement)
        self._core = _core(routes, plain_paths, clock, max_response_bytes, max_request_bytes, _iv, _nonce)
        self._answer_timeout = seconds_option(answer_timeout, "answer_timeout")
        self._stream_idle_timeout = seconds_option(stream_idle_timeout, "stream_idle_timeout")
        _check_transport(transport, "handle_request", "httpx.HTTPTransport()")
        self._inner = transport if transport is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        match = self._core.classify(request)
        if match is None:
            return self._inner.handle_request(request)
        plan = self._core.plan(request, match, request.read())
        first = self._attempt(plan)
        if not first.is_retired_notice:
            return first.response
        # Only a sealed notice gets here: the server refused before forwarding, so a retry is safe.
        first.response.close()
        self._keys.refresh(plan.mount, first.retired)
        return self._attempt(plan).response

    def _attempt(self, plan: Plan) -> Opened:
        resolved = self._keys.resolve(plan.mount, lambda url: self._fetch(url, plan.extensions))
        sealed = self._core.seal(plan, resolved)
        # A stream leaves the deadline with its headers (_open returns before its body is read).
        return within_deadline_sync(
            self._answer_timeout, lambda deadline: self._exchange(sealed, deadline), _close_opened
        )

    def _exchange(self, sealed: Sealed, deadline: Deadline) -> Opened:
        response = self._inner.handle_request(sealed.request)
        try:
            deadline.check()
            return self._open(sealed, response, deadline)
        except BaseException:
            response.close()
            raise

    def _open(self, sealed: Sealed, response: httpx.Response, deadline: Deadline) -> Opened:
        kind = self._core.kind(sealed, response)
        if kind == "unauthenticated":
            response.close()
            return self._core.unauthenticated(response)
        try:
            decoder = ContentDecoder.of(response)
            if kind == "stream":
                opener = self._core.stream_opener(sealed)
                stream = _OpenedStream(response, decoder, opener, self._stream_idle_timeout)
                return self._core.stream_response(response, stream)
            body = join_limited(
                decoder.body(response, deadline.check), self._core.max_response_bytes, self._core.too_large
            )
        except ContentCodingError as error:
            response.close()
            return self._core.undecodable(response, kind, error)
        return (
            self._core.open_error(sealed, response, body)
            if kind == "error"
            else self._core.open_json(sealed, response, body)
        )

    def _fetch(self, url: str, extensions: dict[str, Any]) -> tuple[int, bytes]:
        return within_deadline_sync(
            self._answer_timeout, lambda deadline: self._fetch_within(url, extensions, deadline), _ignore
        )

    def _fetch_within(self, url: str, extensions: dict[str, Any], deadline: Deadline) -> tuple[int, bytes]:
        # With the caller's extensions, its timeout first: without one httpx waits for ever.
        response = self._inner.handle_request(
            httpx.Request("GET", url, headers=_AGREEMENT_HEADERS, extensions=extensions)
        )
        try:
            deadline.check()
            limit = AgreementKeySource.MAX_PUBLISHED_BYTES
            body = ContentDecoder.of(response).body(response, deadline.check)
            return response.status_code, join_limited(body, limit, _published_too_large)
        except ContentCodingError as error:
            raise _published_undecodable(error) from None
        finally:
            response.close()

    def close(self) -> None:
        self._inner.close()


class AsyncContinuumTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`ContinuumTransport`, for ``httpx.AsyncClient`` (``AsyncOpenAI``,
    ``AsyncAnthropic``). ``keys`` may be an async callable. ``transport`` defaults to
    ``httpx.AsyncHTTPTransport()``. ``answer_timeout`` is enforced the moment it passes, a read in
    progress included, with an anyio cancel scope rather than a worker thread."""

    def __init__(
        self,
        *,
        key_id: str | None = None,
        key: KeyMaterial | None = None,
        keys: KeyProvider | None = None,
        agreement: Agreement | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        plain_paths: Iterable[str] | None = None,
        routes: RouteTable | None = None,
        clock: Clock | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        answer_timeout: float | None = DEFAULT_ANSWER_TIMEOUT,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
        _iv: IvSource = random_iv,
        _nonce: NonceSource = random_nonce,
    ) -> None:
        self._keys = _key_source(key_id, key, keys, agreement)
        self._core = _core(routes, plain_paths, clock, max_response_bytes, max_request_bytes, _iv, _nonce)
        self._answer_timeout = seconds_option(answer_timeout, "answer_timeout")
        self._stream_idle_timeout = seconds_option(stream_idle_timeout, "stream_idle_timeout")
        _check_transport(transport, "handle_async_request", "httpx.AsyncHTTPTransport()")
        self._inner = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        match = self._core.classify(request)
        if match is None:
            return await self._inner.handle_async_request(request)
        plan = self._core.plan(request, match, await request.aread())
        first = await self._attempt(plan)
        if not first.is_retired_notice:
            return first.response
        await first.response.aclose()
        self._keys.refresh(plan.mount, first.retired)
        return (await self._attempt(plan)).response

    async def _attempt(self, plan: Plan) -> Opened:
        resolved = await self._keys.aresolve(plan.mount, lambda url: self._fetch(url, plan.extensions))
        sealed = self._core.seal(plan, resolved)
        # A stream leaves the deadline with its headers (_open returns before its body is read).
        _, opened = await within_deadline(
            self._answer_timeout,
            lambda: self._inner.handle_async_request(sealed.request),
            lambda response: self._open(sealed, response),
        )
        return opened

    async def _open(self, sealed: Sealed, response: httpx.Response) -> Opened:
        kind = self._core.kind(sealed, response)
        if kind == "unauthenticated":
            await response.aclose()
            return self._core.unauthenticated(response)
        try:
            decoder = ContentDecoder.of(response)
            if kind == "stream":
                opener = self._core.stream_opener(sealed)
                stream = _AsyncOpenedStream(response, decoder, opener, self._stream_idle_timeout)
                return self._core.stream_response(response, stream)
            body = await _join_limited_async(
                decoder.abody(response), self._core.max_response_bytes, self._core.too_large
            )
        except ContentCodingError as error:
            await response.aclose()
            return self._core.undecodable(response, kind, error)
        return (
            self._core.open_error(sealed, response, body)
            if kind == "error"
            else self._core.open_json(sealed, response, body)
        )

    async def _fetch(self, url: str, extensions: dict[str, Any]) -> tuple[int, bytes]:
        request = httpx.Request("GET", url, headers=_AGREEMENT_HEADERS, extensions=extensions)
        response, body = await within_deadline(
            self._answer_timeout, lambda: self._inner.handle_async_request(request), _read_published
        )
        await response.aclose()
        return response.status_code, body

    async def aclose(self) -> None:
        await self._inner.aclose()


def _close_opened(opened: Opened) -> None:
    opened.response.close()


def _ignore(_: object) -> None:
    """The agreement key document's response is closed by its exchange itself."""


async def _join_limited_async(
    chunks: AsyncIterator[bytes], limit: int, too_large: Callable[[], ContinuumError]
) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large()
        parts.append(chunk)
    return b"".join(parts)


async def _read_published(response: httpx.Response) -> bytes:
    try:
        return await _join_limited_async(
            ContentDecoder.of(response).abody(response),
            AgreementKeySource.MAX_PUBLISHED_BYTES,
            _published_too_large,
        )
    except ContentCodingError as error:
        raise _published_undecodable(error) from None


def _published_too_large() -> ContinuumError:
    return ContinuumError("CONTINUUM_KEY_AGREEMENT_FAILED", "Server key document is too large")


def _published_undecodable(error: ContentCodingError) -> ContinuumError:
    return ContinuumError("CONTINUUM_KEY_AGREEMENT_FAILED", f"Server key document refused: {error}")
