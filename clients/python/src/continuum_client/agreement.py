"""Key agreement without pre-shared keys (docs/PROTOCOL.md section 1): the server publishes a static
X25519 key (clients pin its SHA-256 fingerprint); the client sends an ephemeral X25519 public key
with its requests; both derive the field key with HKDF-SHA256 over the shared secret, salted with
both public keys."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .encoding import b64url_decode
from .errors import ContinuumError
from .keys import FieldKey, create_field_key, hkdf_sha256

AGREEMENT_INFO = b"continuum-proxy cp2 field key"
AGREEMENT_KEY_PATH = "/.well-known/continuum-key"
ALGORITHM = "X25519-HKDF-SHA256"


def _failed(message: str) -> ContinuumError:
    return ContinuumError("CONTINUUM_KEY_AGREEMENT_FAILED", message)


def fingerprint(public_key: bytes) -> str:
    """``sha256:`` and the hex SHA-256 of a raw 32-byte public key."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(public_key)
    return "sha256:" + digest.finalize().hex()


def public_bytes(public_key: X25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def import_public_key(encoded: object) -> tuple[X25519PublicKey, bytes]:
    """A published key: base64url of exactly 32 raw bytes."""
    raw = b64url_decode(encoded) if isinstance(encoded, str) else None
    if raw is None or len(raw) != 32:
        raise _failed("Server key must be 32 bytes of base64url")
    try:
        return X25519PublicKey.from_public_bytes(raw), raw
    except ValueError:
        raise _failed("Server key is not an X25519 public key") from None


def derive_agreed_key(
    key_id: str,
    own_private: X25519PrivateKey,
    peer_public: X25519PublicKey,
    client_public: bytes,
    server_public: bytes,
) -> FieldKey:
    """HKDF-SHA256(ikm = X25519(own, peer), salt = clientPublic || serverPublic, info = "continuum-proxy cp2 field key")."""
    try:
        shared = own_private.exchange(peer_public)
    except ValueError:
        # OpenSSL refuses a small-order peer key, whose secret would be all zeros.
        raise _failed("X25519 agreement produced a weak secret") from None
    if not any(shared):
        raise _failed("X25519 agreement produced a weak secret")
    return create_field_key(key_id, hkdf_sha256(shared, client_public + server_public, AGREEMENT_INFO))
