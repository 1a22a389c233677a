"""Field keys: a 32-byte AES-256-GCM key named by a key id, with the HMAC-SHA256 seal key derived
from it once by HKDF (``info = "continuum-proxy cp2 seal key"``), so the two uses never share key
material. Both primitives are set up once per key, not once per message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .encoding import b64url_decode
from .errors import ContinuumError

SEAL_KEY_INFO = b"continuum-proxy cp2 seal key"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}\Z")

KeyMaterial = Union[bytes, bytearray, memoryview, str]
"""32 raw bytes, or their hex, base64url or base64 encoding."""


def is_valid_key_id(key_id: object) -> bool:
    """Whether a key id is 1-64 characters of ``[A-Za-z0-9_-]``."""
    return isinstance(key_id, str) and _KEY_ID.match(key_id) is not None


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 (RFC 5869) with a 32-byte output."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def decode_key_material(material: KeyMaterial, where: str) -> bytes:
    """Exactly 32 bytes, or CONTINUUM_INVALID_OPTIONS (the value is never echoed)."""
    data: bytes | None
    if isinstance(material, str):
        text = material.strip()
        if _HEX_KEY.match(text):
            data = bytes.fromhex(text)
        else:
            data = b64url_decode(text.rstrip("=").replace("+", "-").replace("/", "_"))
    elif isinstance(material, (bytes, bytearray, memoryview)):
        data = bytes(material)
    else:
        data = None
    if data is None or len(data) != 32:
        raise ContinuumError("CONTINUUM_INVALID_OPTIONS", f"{where}: a key must be 32 bytes (AES-256)")
    return data


@dataclass(frozen=True, eq=False)
class FieldKey:
    """A field key ready for use. ``repr`` shows the id only."""

    id: str
    aes: AESGCM
    seal_key: bytes
    _seal_template: HMAC

    def seal_hmac(self) -> HMAC:
        """A fresh HMAC-SHA256 context under the seal key (copied, so the key is set up once)."""
        return self._seal_template.copy()

    def __repr__(self) -> str:
        return f"FieldKey(id={self.id!r})"


def create_field_key(key_id: str, material: KeyMaterial) -> FieldKey:
    """Builds a FieldKey; a bad id or key is CONTINUUM_INVALID_OPTIONS."""
    if not is_valid_key_id(key_id):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", "field key: key id must be 1-64 characters of [A-Za-z0-9_-]"
        )
    raw = decode_key_material(material, f'key "{key_id}"')
    seal_key = hkdf_sha256(raw, b"", SEAL_KEY_INFO)
    return FieldKey(key_id, AESGCM(raw), seal_key, HMAC(seal_key, hashes.SHA256()))
