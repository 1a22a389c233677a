"""One encrypted exchange, without I/O, so the sync and async transports share every rule: which
requests are encrypted, refused or passed on (the path rule), how a request is encrypted and
sealed, and what an answer may be. Sealed answers are verified and decrypted; a sealed error is
the server's own and reaches the SDK re-serialised from the verified value; anything unsealed may
have been written by anyone on the path, so an unsealed success is refused outright and an
unsealed error reaches the SDK as CONTINUUM_UNAUTHENTICATED_RESPONSE carrying only its status,
marked ``x-should-retry: false`` so the SDK does not re-send a request the upstream may have run."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import httpx

from .canonical_json import canonical_json, parse_json
from .content_coding import ACCEPTED_CODINGS, ContentCodingError
from .encoding import b64url_encode
from .errors import ContinuumError, error_codes
from .field_cipher import FORMAT_VERSION, NONCE_LENGTH, CipherContext, IvSource, random_iv, seal_canonical
from .field_map import encrypt_fields
from .key_source import ResolvedKey
from .messages import error_seal_matches, open_response
from .path_policy import is_plain_path, path_problem, refuse_path
from .request_binding import canonical_query, request_seal_meta, sealed_header_block, sealed_header_list
from .routes import RouteMatch, RouteTable
from .stream_opener import StreamOpener

Clock = Callable[[], int]
"""Unix time in milliseconds."""


def system_clock() -> int:
    return time.time_ns() // 1_000_000


NonceSource = Callable[[], bytes]
"""Where request nonces come from: 16 fresh random bytes each."""


def random_nonce() -> bytes:
    return os.urandom(NONCE_LENGTH)


#: The server's default `bodyLimit` (10 MiB): the largest encrypted request body sent by default.
DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
STREAM_TYPES = ("text/event-stream", "application/x-ndjson")
# The body is rewritten and the protocol's markers are spent. `x-should-retry` is dropped too: no
# response header is sealed, so one on the wire must not decide that the SDK runs a request again.
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "x-continuum-seal",
        "x-continuum-encrypted",
        "x-should-retry",
    }
)
# Never forwarded from the caller: the protocol's own headers (set below), the body's framing, and
# `accept-encoding` (which no seal covers): the request asks for the codings the client decodes
# itself (content_coding.py), whatever httpx would have asked for.
_DROPPED_REQUEST_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "content-type", "accept-encoding"}
)


@dataclass(frozen=True)
class Plan:
    """An encrypted request before its key: what every attempt (a retry included) seals again."""

    match: RouteMatch
    method: str
    url: httpx.URL
    #: Origin and path prefix before the route path, no trailing slash: where the proxy is mounted.
    mount: str
    query: str
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...]
    extensions: dict[str, Any]
    #: The names listed in `x-continuum-sealed-headers`, and their sealed header lines.
    sealed_names: tuple[str, ...]
    header_lines: str


@dataclass(frozen=True)
class Sealed:
    """One attempt on the wire: the request to send and the context its answer is opened under."""

    plan: Plan
    request: httpx.Request
    context: CipherContext


@dataclass(frozen=True)
class Opened:
    """An answer ready for the SDK, and the successor a sealed retired-key notice named (or ``""``)."""

    response: httpx.Response
    retired: str | None = None
    is_retired_notice: bool = False


def media_type(headers: httpx.Headers) -> str:
    value: str = headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def response_headers(headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
    """The answer's headers for the SDK, as the bytes they came as: a value beyond ASCII (obs-text)
    would not survive a round trip through str, which httpx encodes as ASCII."""
    return [
        (name, value)
        for name, value in headers.raw
        if name.lower().decode("latin-1") not in _DROPPED_RESPONSE_HEADERS
    ]


def _extensions(response: httpx.Response) -> dict[str, Any]:
    return {
        name: response.extensions[name]
        for name in ("http_version", "reason_phrase")
        if name in response.extensions
    }


def _json_response(response: httpx.Response, value: Any, retryable: bool | None = None) -> httpx.Response:
    """The verified value re-serialised for the SDK, under the answer's status and headers;
    ``retryable`` sets ``x-should-retry`` where a sealed code decides it."""
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    headers = response_headers(response.headers)
    headers.append((b"content-length", str(len(body)).encode()))
    if retryable is not None:
        headers.append((b"x-should-retry", b"true" if retryable else b"false"))
    return httpx.Response(
        response.status_code, headers=headers, stream=httpx.ByteStream(body), extensions=_extensions(response)
    )


def has_body(request: httpx.Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length.strip() != "0")


def _split_target(url: httpx.URL) -> tuple[str, str]:
    path, _, query = url.raw_path.decode("ascii").partition("?")
    return path, query


class ClientCore:
    """The rules of the client; see the module comment."""

    def __init__(
        self,
        routes: RouteTable,
        plain_paths: tuple[str, ...],
        clock: Clock,
        max_response_bytes: int,
        iv: IvSource = random_iv,
        nonce: NonceSource = random_nonce,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        self.routes = routes
        self.plain_paths = plain_paths
        self.clock = clock
        self.max_response_bytes = max_response_bytes
        self.max_request_bytes = max_request_bytes
        self._iv = iv
        self._nonce = nonce

    def classify(self, request: httpx.Request) -> RouteMatch | None:
        """The encrypted route of a request, None to pass it on untouched, or CONTINUUM_CLIENT_PATH_REFUSED."""
        method = request.method.upper()
        path, _ = _split_target(request.url)
        match = self.routes.lookup_suffix(method, path)
        problem = path_problem(path)
        if match is None or not match.route.encrypted:
            # Nothing to encrypt: pass it on, unless a body would go in clear to a path not known as plain.
            if has_body(request) and not (match is not None and problem is None):
                if not is_plain_path(self.plain_paths, path):
                    raise ContinuumError(
                        "CONTINUUM_CLIENT_PATH_REFUSED",
                        f"Refused to send a body in clear to {method} {path}: not an encrypted route, nor declared plain",
                    )
            return None
        if problem is not None:
            raise refuse_path(problem)
        return match

    def plan(self, request: httpx.Request, match: RouteMatch, body: bytes) -> Plan:
        """Reads the caller's request once; the body must be a JSON object (the root is never encrypted)."""
        try:
            parsed = parse_json(body)
        except ValueError:
            raise ContinuumError("CONTINUUM_INVALID_JSON", "Request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ContinuumError(
                "CONTINUUM_INVALID_JSON",
                "Request body must be a JSON object: a bare value could not be encrypted",
            )
        path, query = _split_target(request.url)
        headers = tuple(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in request.headers.raw
            if not name.lower().startswith(b"x-continuum-")
            and name.decode("latin-1").lower() not in _DROPPED_REQUEST_HEADERS
        ) + (("content-type", "application/json"), ("accept-encoding", ACCEPTED_CODINGS))
        url = request.url
        if all(name != "host" for name, _ in headers):
            headers = (("host", url.netloc.decode("ascii")),) + headers
        mount = f"{url.scheme}://{url.netloc.decode('ascii')}{path[: len(path) - len(match.route_path)]}"
        names = sealed_header_list(name for name, _ in headers)
        values: dict[str, list[str]] = {}
        for name, value in headers:
            values.setdefault(name, []).append(value)
        lines = sealed_header_block(names, lambda name: ", ".join(values[name]) if name in values else None)
        return Plan(
            sealed_names=tuple(names),
            header_lines=lines,
            match=match,
            method=request.method.upper(),
            url=url,
            mount=mount,
            query=canonical_query(query),
            body=parsed,
            headers=headers,
            extensions=dict(request.extensions),
        )

    def seal(self, plan: Plan, resolved: ResolvedKey) -> Sealed:
        """Encrypts and seals one attempt under a fresh nonce and timestamp."""
        nonce = b64url_encode(self._nonce())
        timestamp = str(int(self.clock()))
        context = CipherContext(resolved.key, nonce, "request")
        meta = request_seal_meta(plan.method, plan.match.route_path, plan.query, timestamp, plan.header_lines)
        encrypted = encrypt_fields(plan.match.route.request_tree, plan.body, context, 0, self._iv)
        # The body goes out in the form the seal covers, serialised once.
        body = canonical_json(encrypted)
        if len(body) > self.max_request_bytes:
            # The server would answer 413 and close while the body is still being written: httpx then
            # fails with a broken pipe, and the server's answer (unsealed: it comes before the request
            # is authenticated) is never read. Refused here, before anything is sent.
            raise ContinuumError(
                "CONTINUUM_BODY_TOO_LARGE",
                f"Encrypted request body of {len(body)} bytes is over {self.max_request_bytes} bytes",
                details={"limit": self.max_request_bytes},
            )
        seal = seal_canonical(context, 0, "request", meta, body)
        headers: list[tuple[str, str]] = [
            *plan.headers,
            *resolved.headers.items(),
            ("x-continuum-encryption", FORMAT_VERSION),
            ("x-continuum-nonce", nonce),
            ("x-continuum-timestamp", timestamp),
            ("x-continuum-sealed-headers", ",".join(plan.sealed_names)),
            ("x-continuum-seal", seal),
        ]
        headers.append(("content-length", str(len(body))))
        # Back to the bytes they were read as: httpx encodes a str value as ASCII, and a caller's value
        # may hold any byte HTTP allows (obs-text), which the seal covers as Latin-1 text.
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        # `stream=` rather than `content=`: the headers are complete, so httpx adds none of its own.
        request = httpx.Request(
            plan.method, plan.url, headers=raw, stream=httpx.ByteStream(body), extensions=plan.extensions
        )
        return Sealed(plan, request, context.reversed())

    # --- answers --------------------------------------------------------------------------------

    def kind(self, sealed: Sealed, response: httpx.Response) -> str:
        """``stream``, ``json``, ``error`` (sealed or not: the body decides) or ``unauthenticated``."""
        status = response.status_code
        if response.headers.get("x-continuum-encrypted") != "1":
            # Anything on the path can drop the marker and write a plain body, so an unencrypted answer
            # to an encrypted request is believable only as a sealed error, never as a success.
            if 200 <= status < 300:
                raise ContinuumError(
                    "CONTINUUM_RESPONSE_INTEGRITY_FAILED",
                    f"Unencrypted HTTP {status} answer to an encrypted request",
                )
            return "error" if "x-continuum-seal" in response.headers else "unauthenticated"
        if media_type(response.headers) in STREAM_TYPES and sealed.plan.match.route.stream is not None:
            # Event seals do not bind the status; the server streams only 2xx answers.
            if not 200 <= status < 300:
                raise ContinuumError(
                    "CONTINUUM_RESPONSE_INTEGRITY_FAILED", f"Encrypted stream with HTTP status {status}"
                )
            return "stream"
        return "json"

    def unauthenticated(self, response: httpx.Response) -> Opened:
        error = ContinuumError(
            "CONTINUUM_UNAUTHENTICATED_RESPONSE",
            f"Unauthenticated HTTP {response.status_code} answer to an encrypted request; its body was discarded",
            status=response.status_code,
            details={"status": response.status_code},
        )
        return Opened(
            httpx.Response(
                response.status_code,
                headers=[
                    ("content-type", "application/json"),
                    ("x-continuum-encrypted", "0"),
                    ("x-should-retry", "false"),
                ],
                content=json.dumps(error.to_json()).encode(),
                extensions=_extensions(response),
            )
        )

    def open_error(self, sealed: Sealed, response: httpx.Response, body: bytes) -> Opened:
        try:
            parsed = parse_json(body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not error_seal_matches(
            sealed.context, response.status_code, parsed, response.headers.get("x-continuum-seal")
        ):
            return self.unauthenticated(response)
        error = parsed.get("error")
        # The sealed code decides a retry where the SDK would go by the status alone: a 409
        # CONTINUUM_REPLAY_DETECTED means a copy of this request already reached the server (a
        # relay sent it twice), and the SDK, which retries every 409, would have it run again.
        code = error.get("code") if isinstance(error, dict) else None
        known = error_codes().get(code) if isinstance(code, str) else None
        opened = _json_response(response, parsed, None if known is None else bool(known["retryable"]))
        if not isinstance(error, dict) or code != "CONTINUUM_KEY_RETIRED":
            return Opened(opened)
        successor = error.get("successor")
        named = successor.get("fingerprint") if isinstance(successor, dict) else None
        return Opened(opened, named if isinstance(named, str) else None, True)

    def open_json(self, sealed: Sealed, response: httpx.Response, body: bytes) -> Opened:
        try:
            parsed = parse_json(body)
        except ValueError:
            raise ContinuumError(
                "CONTINUUM_RESPONSE_INTEGRITY_FAILED", "Encrypted response is not JSON"
            ) from None
        route = sealed.plan.match.route
        opened = open_response(
            route.response_tree,
            parsed,
            sealed.context,
            response.status_code,
            response.headers.get("x-continuum-seal"),
        )
        return Opened(_json_response(response, opened))

    def stream_opener(self, sealed: Sealed) -> StreamOpener:
        stream = sealed.plan.match.route.stream
        assert stream is not None
        return StreamOpener(stream, sealed.context)

    def stream_response(
        self, response: httpx.Response, stream: httpx.SyncByteStream | httpx.AsyncByteStream
    ) -> Opened:
        return Opened(
            httpx.Response(
                response.status_code,
                headers=response_headers(response.headers),
                stream=stream,
                extensions=_extensions(response),
            )
        )

    def undecodable(self, response: httpx.Response, kind: str, error: ContentCodingError) -> Opened:
        """An answer whose body does not decode in its (unsealed) content coding: an error answer is as
        good as unsealed, anything else is an integrity failure, as a tampered body is."""
        if kind == "error":
            return self.unauthenticated(response)
        raise undecodable(error)

    def too_large(self) -> ContinuumError:
        return ContinuumError(
            "CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE",
            f"Encrypted answer over {self.max_response_bytes} bytes",
            details={"limit": self.max_response_bytes},
        )


def undecodable(error: ContentCodingError) -> ContinuumError:
    return ContinuumError("CONTINUUM_RESPONSE_INTEGRITY_FAILED", f"Encrypted answer refused: {error}")


def join_limited(chunks: Iterable[bytes], limit: int, too_large: Callable[[], ContinuumError]) -> bytes:
    """Joins chunks, refusing more than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large()
        parts.append(chunk)
    return b"".join(parts)
