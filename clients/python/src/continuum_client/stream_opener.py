"""The client side of an encrypted stream: verifies each event's seal in order, decrypts it, and
re-emits it in the protocol's own framing for the SDK. Anything unsealed (in-band ``error`` frames
and error-looking JSON included: the server reports failures only in its sealed failure marker),
out of order, after the end marker (but the terminal sentinel, once), or a stream that stops
before its end marker is an error, never a short answer that looks complete or a chunk the
server did not send. It does no I/O: the transports push the bytes they read. Bytes that carry
no event (comments, blank lines, fields that dispatch nothing) are bounded too: the decoders keep
no memory for them, but an endless flood of them kept the client busy for ever."""

from __future__ import annotations

import json
from typing import Any, Callable

from .canonical_json import parse_json
from .errors import ContinuumError, is_error_code
from .field_cipher import CipherContext
from .messages import END_EVENT_NAME, END_MARKER_KEY, EVENT_SEAL_KEY, open_event, verify_end_marker
from .routes import StreamDefinition
from .stream_decoder import NdjsonDecoder, SseDecoder, SseEvent


#: Most stream bytes read without a verified event (or end marker, or sentinel): far more than the
#: largest event the decoders accept (8 MiB of data, up to 4 bytes a character, and its field names),
#: far less than a flood of comments or blank lines a relay can send at wire speed.
MAX_QUIET_BYTES = 64 * 1024 * 1024


def _tampered(why: str) -> ContinuumError:
    return ContinuumError("CONTINUUM_RESPONSE_INTEGRITY_FAILED", f"Encrypted stream {why}")


def _truncated() -> ContinuumError:
    return ContinuumError("CONTINUUM_STREAM_TRUNCATED", "Encrypted stream ended without its end marker")


def _json_or_none(text: str) -> Any:
    try:
        return parse_json(text)
    except ValueError:
        return None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class StreamOpener:
    """Push the encrypted bytes in, get the plain bytes out; :meth:`finish` at the end of the stream."""

    def __init__(self, stream: StreamDefinition, context: CipherContext) -> None:
        self._stream = stream
        self._context = context
        self._sse = stream.framing == "sse"
        self._decoder: SseDecoder | NdjsonDecoder = SseDecoder() if self._sse else NdjsonDecoder()
        self._sequence = 0
        self._ended = False
        self._sentinel = False
        # The server's sealed failure marker was verified: its error is raised as it is.
        self._failed = False
        self._error: ContinuumError | None = None
        self._cut_after_end = False
        self._quiet = 0

    @property
    def events(self) -> int:
        """How many sealed events were verified so far."""
        return self._sequence

    def push(self, chunk: bytes) -> bytes:
        """The plain bytes of the events this chunk completes."""
        before = (self._sequence, self._ended, self._sentinel)
        plain = self._guard(lambda: self._decoder.push(chunk))
        if (self._sequence, self._ended, self._sentinel) != before:
            self._quiet = 0
            return plain
        self._quiet += len(chunk)
        if self._quiet > MAX_QUIET_BYTES:
            raise self._remember(
                ContinuumError(
                    "CONTINUUM_UPSTREAM_PROTOCOL_ERROR",
                    f"Stream carried more than {MAX_QUIET_BYTES} bytes without an event",
                    details={"limit": MAX_QUIET_BYTES},
                )
            )
        return plain

    def cut(self, cause: BaseException) -> None:
        """The connection broke: CONTINUUM_STREAM_TRUNCATED, unless the end marker was verified already
        (then every event the server sent is here, and only the plain sentinel may be missing)."""
        if self._error is not None:
            raise self._error from cause
        if not self._ended:
            raise self._remember(_truncated()) from cause
        self._cut_after_end = True

    def finish(self) -> bytes:
        """The end of the stream: raises CONTINUUM_STREAM_TRUNCATED unless the end marker was verified."""
        if self._cut_after_end:
            return b""
        out = self._guard(self._decoder.end)
        if not self._ended:
            raise self._remember(_truncated())
        return out

    def _remember(self, error: ContinuumError) -> ContinuumError:
        # Once broken, always broken: a later push must not resume verification mid-stream.
        self._error = error
        return error

    def _guard(self, items: Callable[[], list[Any]]) -> bytes:
        if self._error is not None:
            raise self._error
        out: list[bytes] = []
        try:
            for item in items():
                out.append(self._sse_event(item) if self._sse else self._ndjson(item))
        except ContinuumError as error:
            failure = self._remember(self._cut(error))
            # Events verified before the failure are the server's: hand them over, fail on the next call.
            if not out:
                raise failure from None
        return b"".join(out)

    def _cut(self, error: ContinuumError) -> ContinuumError:
        # The decoder reports a stream cut inside an event as an upstream abort; for the client it is a cut.
        if self._failed or error.code != "CONTINUUM_UPSTREAM_STREAM_ABORTED":
            return error
        return _tampered("carried a partial event after its end marker") if self._ended else _truncated()

    def _end(self, marker: Any) -> None:
        if not isinstance(marker, dict) or self._ended:
            raise _tampered("carried an unsealed or second end marker")
        failure = verify_end_marker(self._context, self._sequence, marker)
        if failure is not None:
            self._failed = True
            code = failure.code if is_error_code(failure.code) else "CONTINUUM_UPSTREAM_STREAM_ABORTED"
            raise ContinuumError(code, failure.message)
        self._ended = True

    def _open(self, event: Any, name: str) -> dict[str, Any]:
        if self._ended:
            raise _tampered("carried an event after its end marker")
        if not isinstance(event, dict) or EVENT_SEAL_KEY not in event:
            raise _tampered("carried an unsealed event")
        opened = open_event(self._stream.tree, event, self._context, self._sequence, name)
        self._sequence += 1
        return opened

    def _sse_event(self, event: SseEvent) -> bytes:
        if event.event == END_EVENT_NAME:
            self._end(_json_or_none(event.data))
            return b""
        terminal = self._stream.terminal
        if terminal is not None and event.data == terminal and event.event is None:
            # A terminal sentinel such as [DONE] is plain: honour it once, after a verified end marker.
            if not self._ended:
                raise _truncated()
            if self._sentinel:
                raise _tampered("carried a second terminal sentinel")
            self._sentinel = True
            return f"data: {event.data}\n\n".encode()
        if self._sentinel:
            raise _tampered("carried an event after its terminal sentinel")
        name = event.event or ""
        data = _dumps(self._open(_json_or_none(event.data), name))
        return (f"event: {name}\ndata: {data}\n\n" if name else f"data: {data}\n\n").encode()

    def _ndjson(self, value: Any) -> bytes:
        if isinstance(value, dict) and END_MARKER_KEY in value:
            self._end(value)
            return b""
        return (_dumps(self._open(value, "")) + "\n").encode()
