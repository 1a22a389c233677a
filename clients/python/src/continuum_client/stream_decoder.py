"""Stream framing, decoded strictly and incrementally (docs/PROTOCOL.md section 6): lines end at
CRLF, LF or CR wherever chunks split, a leading BOM is dropped, bytes that are not UTF-8 and lines
or events over 8 MiB are CONTINUUM_UPSTREAM_PROTOCOL_ERROR, and a stream that ends inside an
event is CONTINUUM_UPSTREAM_STREAM_ABORTED, never a shorter stream. Server-sent events follow the
WHATWG ``text/event-stream`` algorithm; NDJSON is one JSON value a line. Time is linear in the
input: each chunk is scanned once and a line split over many chunks is joined once."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

from .canonical_json import parse_json
from .errors import ContinuumError

DEFAULT_MAX_LINE_LENGTH = 8 * 1024 * 1024
DEFAULT_MAX_EVENT_LENGTH = 8 * 1024 * 1024
_TERMINATOR = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"[0-9]+\Z")


def _protocol_error(message: str, **details: Any) -> ContinuumError:
    return ContinuumError("CONTINUUM_UPSTREAM_PROTOCOL_ERROR", message, details=details)


def _aborted(message: str) -> ContinuumError:
    return ContinuumError("CONTINUUM_UPSTREAM_STREAM_ABORTED", message)


class LineDecoder:
    """Splits UTF-8 bytes into lines (without terminators)."""

    def __init__(self, max_line_length: int = DEFAULT_MAX_LINE_LENGTH) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._max = max_line_length
        self._pending: list[str] = []
        self._pending_length = 0
        # A chunk that ended on CR may be followed by LF in the next non-empty chunk: skip that LF.
        self._skip_lf = False

    def _decode(self, chunk: bytes, final: bool) -> str:
        try:
            return self._decoder.decode(chunk, final)
        except UnicodeDecodeError:
            raise _protocol_error("Stream is not valid UTF-8") from None

    def _too_long(self) -> ContinuumError:
        return _protocol_error(f"Stream line longer than {self._max} characters", limit=self._max)

    def push(self, chunk: bytes) -> list[str]:
        text = self._decode(chunk, False)
        lines: list[str] = []
        if not text:
            return lines
        start = 0
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                start = 1
        for terminator in _TERMINATOR.finditer(text, start):
            end = terminator.start()
            if self._pending_length + end - start > self._max:
                raise self._too_long()
            line = text[start:end]
            if self._pending:
                self._pending.append(line)
                line = "".join(self._pending)
                self._pending = []
                self._pending_length = 0
            lines.append(line)
            start = terminator.end()
            if start == len(text) and terminator.group() == "\r":
                self._skip_lf = True
        if start < len(text):
            self._pending_length += len(text) - start
            if self._pending_length > self._max:
                raise self._too_long()
            self._pending.append(text[start:])
        return lines

    def end(self) -> str | None:
        """The final unterminated line, if any (its terminator never came: the caller decides what that means)."""
        rest = "".join(self._pending) + self._decode(b"", True)
        self._pending = []
        self._pending_length = 0
        return rest or None


@dataclass(frozen=True)
class SseEvent:
    """One server-sent event; ``event`` is None for the default (unnamed) type."""

    data: str
    event: str | None = None


class SseDecoder:
    """WHATWG event-stream decoding. Comments are skipped; ``id`` and ``retry`` are read and dropped."""

    def __init__(
        self, max_line_length: int = DEFAULT_MAX_LINE_LENGTH, max_event_length: int = DEFAULT_MAX_EVENT_LENGTH
    ) -> None:
        self._lines = LineDecoder(max_line_length)
        self._max_event = max_event_length
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._data_length = 0
        self._event: str | None = None
        # Whether a field arrived since the last blank line (an event is open).
        self._open = False

    def push(self, chunk: bytes) -> list[SseEvent]:
        events: list[SseEvent] = []
        for line in self._lines.push(chunk):
            self._line(line, events)
        return events

    def end(self) -> list[SseEvent]:
        """Ends the stream; an event without its blank line is never dispatched, and is an abort."""
        rest = self._lines.end()
        if rest is not None or self._open:
            self._reset()
            raise _aborted("Stream ended inside an event")
        return []

    def _line(self, line: str, events: list[SseEvent]) -> None:
        if line == "":
            if self._data:
                events.append(SseEvent("\n".join(self._data), self._event))
            self._reset()
            return
        if line[0] == ":":
            return
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._open = True
        if field == "data":
            self._data_length += len(value) + 1
            if self._data_length > self._max_event:
                self._reset()
                raise _protocol_error(
                    f"Stream event larger than {self._max_event} characters", limit=self._max_event
                )
            self._data.append(value)
        elif field == "event":
            self._event = value or None


class NdjsonDecoder:
    """One JSON value a line; blank lines are skipped, a line that is not JSON is a protocol error."""

    def __init__(self, max_line_length: int = DEFAULT_MAX_LINE_LENGTH) -> None:
        self._lines = LineDecoder(max_line_length)

    @staticmethod
    def _parse(line: str) -> Any:
        try:
            return parse_json(line)
        except ValueError:
            raise _protocol_error("Stream line is not valid JSON") from None

    def push(self, chunk: bytes) -> list[Any]:
        return [self._parse(line) for line in self._lines.push(chunk) if line.strip()]

    def end(self) -> list[Any]:
        """The value of a last line without its newline; one that is not JSON was cut short."""
        rest = self._lines.end()
        if rest is None or not rest.strip():
            return []
        try:
            return [parse_json(rest)]
        except ValueError:
            raise _aborted("Stream ended inside a line") from None
