"""base64url without padding (RFC 4648 section 5), decoded strictly: one spelling per byte string,
so a ciphertext or key cannot be rewritten into another string that decodes to the same bytes."""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*\Z")
_INDEX = {
    character: index
    for index, character in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
# The bits of the last character that encode nothing, by length modulo 4: they must be zero.
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}


def b64url_encode(data: bytes) -> str:
    """Encodes without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """Decodes, or returns None for anything but the one canonical spelling of some bytes."""
    if not isinstance(text, str) or not _ALPHABET.match(text) or len(text) % 4 == 1:
        return None
    if text and _INDEX[text[-1]] & _UNUSED_BITS[len(text) % 4]:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
