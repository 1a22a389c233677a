"""Whole messages of the protocol (docs/PROTOCOL.md sections 5-7): a request with its seal, a
JSON response, a sealed server error, one stream event and the end and failure markers. Each is
field-encrypted by an allow-list and sealed, so tampering with plain fields, dropping or
reordering events and truncation are all detected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ContinuumError
from .field_cipher import CipherContext, IvSource, compute_seal, random_iv, seal_matches
from .field_map import PlainFieldTree, decrypt_fields, encrypt_fields

EVENT_SEAL_KEY = "continuum_seal"
END_MARKER_KEY = "continuum_end"
END_EVENT_NAME = "continuum.end"


def seal_request(
    tree: PlainFieldTree, body: dict[str, Any], context: CipherContext, meta: str, iv: IvSource = random_iv
) -> tuple[dict[str, Any], str]:
    """The encrypted body and its seal (kind ``request``, sequence 0)."""
    encrypted = encrypt_fields(tree, body, context, 0, iv)
    return encrypted, compute_seal(context, 0, "request", meta, encrypted)


def open_response(tree: PlainFieldTree, body: Any, context: CipherContext, status: int, seal: object) -> Any:
    """Verifies a JSON response's seal (which binds the status), then decrypts it."""
    if not seal_matches(context, 0, "response", str(status), body, seal):
        raise ContinuumError("CONTINUUM_RESPONSE_INTEGRITY_FAILED", "Response seal does not verify")
    return decrypt_fields(tree, body, context, 0)


def error_seal_matches(context: CipherContext, status: int, body: Any, seal: object) -> bool:
    """Whether an error body is one the server sealed for this request."""
    return seal_matches(context, 0, "error", str(status), body, seal)


def open_event(
    tree: PlainFieldTree, event: dict[str, Any], context: CipherContext, sequence: int, event_name: str
) -> dict[str, Any]:
    """Verifies and decrypts one stream event; a wrong position fails the seal."""
    rest = dict(event)
    seal = rest.pop(EVENT_SEAL_KEY, None)
    if not seal_matches(context, sequence, "event", event_name, rest, seal):
        raise ContinuumError(
            "CONTINUUM_RESPONSE_INTEGRITY_FAILED",
            f"Stream event {sequence} failed its seal: tampered, reordered or dropped",
            details={"sequence": sequence},
        )
    opened: dict[str, Any] = decrypt_fields(tree, rest, context, sequence)
    return opened


@dataclass(frozen=True)
class StreamFailure:
    """What a verified failure marker reports: a stable code and a content-free message."""

    code: str
    message: str


def verify_end_marker(context: CipherContext, count: int, event: dict[str, Any]) -> StreamFailure | None:
    """Verifies an end marker after ``count`` events: None for a clean end, the failure of a failed stream."""
    rest = dict(event)
    seal = rest.pop(EVENT_SEAL_KEY, None)
    marker = rest.get(END_MARKER_KEY)
    events = marker.get("events") if isinstance(marker, dict) else None
    failed = isinstance(marker, dict) and "error" in marker
    error = marker.get("error") if failed and isinstance(marker, dict) else None
    well_formed = not failed or (
        isinstance(error, dict)
        and set(error) == {"code", "message"}
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(marker, dict)
        and len(marker) == 2
    )
    # `events` is a JSON number: 4 and 4.0 are the same value, true is not a number.
    exact = type(events) in (int, float) and events == count
    if (
        set(rest) != {END_MARKER_KEY}
        or not exact
        or not well_formed
        or not seal_matches(context, count, "failed" if failed else "end", str(count), rest, seal)
    ):
        raise ContinuumError(
            "CONTINUUM_RESPONSE_INTEGRITY_FAILED",
            "Stream end marker does not verify",
            details={"events": count},
        )
    if isinstance(error, dict):
        return StreamFailure(str(error["code"]), str(error["message"]))
    return None
