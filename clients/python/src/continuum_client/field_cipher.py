"""AES-256-GCM encryption of one JSON value into a field ciphertext, and the HMAC seal over a whole
message (docs/PROTOCOL.md sections 4 and 5). The authenticated data binds format version, key id,
request nonce, direction, sequence number and the field's JSON Pointer, so a ciphertext moved to
another field, request, direction or stream position fails to decrypt."""

from __future__ import annotations

import os
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature, InvalidTag

from .canonical_json import canonical_json, parse_json
from .encoding import b64url_decode, b64url_encode
from .errors import ContinuumError
from .keys import FieldKey, is_valid_key_id

FORMAT_VERSION = "cp2"
CIPHERTEXT_PREFIX = "cp2."
IV_LENGTH = 12
TAG_LENGTH = 16
NONCE_LENGTH = 16

IvSource = Callable[[], bytes]
"""Where field IVs come from: 12 fresh random bytes each (fixed ones only in test vectors)."""


def random_iv() -> bytes:
    return os.urandom(IV_LENGTH)


class CipherContext:
    """What binds every field and seal of one message: the key, the request nonce, the direction."""

    __slots__ = ("key", "nonce", "direction", "_prefix")

    def __init__(self, key: FieldKey, nonce: str, direction: str) -> None:
        self.key = key
        self.nonce = nonce
        self.direction = direction  # "request" or "response"
        self._prefix = f"{FORMAT_VERSION}|{key.id}|{nonce}|{direction}|"

    def __repr__(self) -> str:
        return f"CipherContext(key={self.key!r}, nonce={self.nonce!r}, direction={self.direction!r})"

    def reversed(self) -> CipherContext:
        """The same request seen from the other direction."""
        return CipherContext(self.key, self.nonce, "response" if self.direction == "request" else "request")

    def aad(self, sequence: int, path: str) -> bytes:
        return f"{self._prefix}{sequence}|{path}".encode()

    def seal_prefix(self, sequence: int, kind: str, meta: str) -> bytes:
        encoded = meta.encode()
        return f"{self._prefix}{sequence}|{kind}|{len(encoded)}:".encode() + encoded + b"|"


def _field_error(code: str, verb: str, path: str) -> ContinuumError:
    return ContinuumError(code, f"Field {path} {verb}", details={"path": path})


def encrypt_value(
    context: CipherContext, sequence: int, path: str, value: Any, iv: IvSource = random_iv
) -> str:
    """``cp2.<keyId>.<base64url(iv || ciphertext || tag)>`` of a JSON value's RFC 8785 form."""
    try:
        plaintext = canonical_json(value)
    except ContinuumError:
        raise _field_error(
            "CONTINUUM_NON_CANONICAL_JSON", "does not hold a value in RFC 8785 form", path
        ) from None
    nonce = iv()
    sealed = context.key.aes.encrypt(nonce, plaintext, context.aad(sequence, path))
    return f"{CIPHERTEXT_PREFIX}{context.key.id}.{b64url_encode(nonce + sealed)}"


def parse_ciphertext(value: str, path: str) -> tuple[str, bytes]:
    """The key id and payload of a ciphertext string; CONTINUUM_MALFORMED_CIPHERTEXT otherwise."""
    separator = value.find(".", len(CIPHERTEXT_PREFIX))
    key_id = value[len(CIPHERTEXT_PREFIX) : separator]
    payload = b64url_decode(value[separator + 1 :]) if separator != -1 else None
    if (
        not value.startswith(CIPHERTEXT_PREFIX)
        or payload is None
        or not is_valid_key_id(key_id)
        or len(payload) < IV_LENGTH + TAG_LENGTH
    ):
        raise _field_error(
            "CONTINUUM_MALFORMED_CIPHERTEXT", f"is not a valid {FORMAT_VERSION} ciphertext", path
        )
    return key_id, payload


def decrypt_value(context: CipherContext, sequence: int, path: str, ciphertext: str) -> Any:
    """Decrypts a field; the plaintext must be the RFC 8785 form of its value, byte for byte."""
    key_id, payload = parse_ciphertext(ciphertext, path)
    if key_id != context.key.id:
        raise _field_error("CONTINUUM_DECRYPTION_FAILED", "failed to decrypt", path)
    try:
        plaintext = context.key.aes.decrypt(
            payload[:IV_LENGTH], payload[IV_LENGTH:], context.aad(sequence, path)
        )
        value = parse_json(plaintext)
    except (InvalidTag, ValueError):
        raise _field_error("CONTINUUM_DECRYPTION_FAILED", "failed to decrypt", path) from None
    try:
        canonical = canonical_json(value)
    except ContinuumError:
        canonical = None
    if canonical != plaintext:
        raise _field_error("CONTINUUM_NON_CANONICAL_JSON", "does not hold a value in RFC 8785 form", path)
    return value


def compute_seal(context: CipherContext, sequence: int, kind: str, meta: str, body: Any) -> str:
    """base64url HMAC-SHA256 over ``cp2|keyId|nonce|direction|sequence|kind|len(meta):meta|canonical(body)``."""
    return seal_canonical(context, sequence, kind, meta, canonical_json(body))


def seal_canonical(context: CipherContext, sequence: int, kind: str, meta: str, canonical: bytes) -> str:
    """The seal over a body already in its RFC 8785 form (so a sender serialises it once)."""
    mac = context.key.seal_hmac()
    mac.update(context.seal_prefix(sequence, kind, meta) + canonical)
    return b64url_encode(mac.finalize())


def seal_matches(
    context: CipherContext, sequence: int, kind: str, meta: str, body: Any, seal: object
) -> bool:
    """Whether a seal matches, compared in constant time; a body with no RFC 8785 form never matches."""
    if not isinstance(seal, str) or len(seal) != 43:
        return False
    given = b64url_decode(seal)
    if given is None:
        return False
    try:
        canonical = canonical_json(body)
    except ContinuumError:
        return False
    mac = context.key.seal_hmac()
    mac.update(context.seal_prefix(sequence, kind, meta) + canonical)
    try:
        mac.verify(given)
    except InvalidSignature:
        return False
    return True
