"""Where the client's field key comes from: a pre-shared key, a key provider asked again after a
sealed retired-key notice, or key agreement with the server's published X25519 key. An agreement
key is trusted only when it matches a pinned fingerprint or, with the explicit trust-on-first-use
opt-in, when it is the first key seen at that mount point or the successor that a sealed
retirement notice of the trusted key named. The sources do no I/O themselves: the transports
hand them a ``fetch`` for the published key, sync or async."""

from __future__ import annotations

import inspect
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Tuple, Union

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from .agreement import AGREEMENT_KEY_PATH, derive_agreed_key, fingerprint, import_public_key, public_bytes
from .canonical_json import parse_json
from .encoding import b64url_encode
from .errors import ContinuumError
from .keys import FieldKey, KeyMaterial, create_field_key, is_valid_key_id

FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}\Z")

#: A fetch of the published key: URL in, HTTP status and body bytes out.
Fetch = Callable[[str], Tuple[int, bytes]]
AsyncFetch = Callable[[str], Awaitable[Tuple[int, bytes]]]


@dataclass(frozen=True)
class SharedKey:
    """A pre-shared key as a provider returns it. ``repr`` never shows the key."""

    key_id: str
    key: KeyMaterial = field(repr=False)


KeyProvider = Callable[[], Union[SharedKey, Awaitable[SharedKey]]]


@dataclass(frozen=True)
class Agreement:
    """Key agreement settings: pin ``fingerprint``, or opt in to ``trust_on_first_use``; not both.

    ``fingerprint`` is the server key's ``sha256:<hex>`` as published; any other key is refused with
    CONTINUUM_SERVER_KEY_MISMATCH before content leaves, so after a rotation the pin must be
    updated. With ``trust_on_first_use`` the first key fetched from each mount point is trusted
    (whoever controls the path on that first fetch can read and answer every request); a later,
    different key is refused unless a sealed retirement notice of the trusted key named it.
    ``url`` overrides where the key is published (default: the mount point plus
    ``/.well-known/continuum-key``).
    """

    fingerprint: str | None = None
    trust_on_first_use: bool = False
    url: str | None = None

    def __post_init__(self) -> None:
        pinned = self.fingerprint is not None
        if pinned and (not isinstance(self.fingerprint, str) or not FINGERPRINT.match(self.fingerprint)):
            raise ContinuumError(
                "CONTINUUM_INVALID_OPTIONS",
                'agreement fingerprint must be "sha256:" and 64 lower-case hex digits',
            )
        if not isinstance(self.trust_on_first_use, bool):
            raise ContinuumError(
                "CONTINUUM_INVALID_OPTIONS", "agreement trust_on_first_use must be a boolean"
            )
        if self.url is not None and not isinstance(self.url, str):
            raise ContinuumError("CONTINUUM_INVALID_OPTIONS", "agreement url must be a string")
        if pinned == self.trust_on_first_use:
            raise ContinuumError(
                "CONTINUUM_INVALID_OPTIONS",
                "agreement: give a fingerprint or trust_on_first_use, not both"
                if pinned
                else "agreement: pin the server key with fingerprint, or opt in to trust_on_first_use explicitly",
            )


@dataclass(frozen=True)
class ResolvedKey:
    """The field key of a request and the protocol headers that name it."""

    key: FieldKey
    headers: Dict[str, str]


def _from_shared(shared: Any) -> ResolvedKey:
    if not isinstance(shared, SharedKey):
        raise ContinuumError("CONTINUUM_INVALID_OPTIONS", "keys provider must return a SharedKey")
    return ResolvedKey(create_field_key(shared.key_id, shared.key), {"x-continuum-key-id": shared.key_id})


class SharedKeySource:
    """A fixed pre-shared key, or a provider asked once and again after each sealed retirement notice."""

    def __init__(self, provider: KeyProvider, *, fixed: ResolvedKey | None = None) -> None:
        if not callable(provider):
            raise ContinuumError(
                "CONTINUUM_INVALID_OPTIONS", "keys must be a callable that returns a SharedKey"
            )
        self._provider = provider
        self._cached = fixed
        # A fixed key has nothing to refresh: a retry after a retirement notice uses it again, and fails again.
        self._fixed = fixed is not None
        self._lock = threading.Lock()

    @classmethod
    def fixed(cls, key_id: str, key: KeyMaterial) -> SharedKeySource:
        # Derived now: a bad id or key raises CONTINUUM_INVALID_OPTIONS at construction, not on a request.
        shared = SharedKey(key_id, key)
        return cls(lambda: shared, fixed=_from_shared(shared))

    def resolve(self, mount: str, fetch: Fetch) -> ResolvedKey:
        with self._lock:
            if self._cached is None:
                shared = self._provider()
                if inspect.isawaitable(shared):
                    close = getattr(shared, "close", None)
                    if close is not None:
                        close()
                    raise ContinuumError(
                        "CONTINUUM_INVALID_OPTIONS", "keys provider is async: use AsyncContinuumTransport"
                    )
                self._cached = _from_shared(shared)
            return self._cached

    async def aresolve(self, mount: str, fetch: AsyncFetch) -> ResolvedKey:
        cached = self._cached
        if cached is None:
            shared = self._provider()
            if inspect.isawaitable(shared):
                shared = await shared
            cached = self._cached = _from_shared(shared)
        return cached

    def refresh(self, mount: str, successor: str | None) -> None:
        if not self._fixed:
            self._cached = None


def _agreement_failed(message: str) -> ContinuumError:
    return ContinuumError("CONTINUUM_KEY_AGREEMENT_FAILED", message)


class AgreementKeySource:
    """Agrees a key with the key published at each mount point, under the trust rules above."""

    #: The published key is a small JSON object; anything larger is not one.
    MAX_PUBLISHED_BYTES = 64 * 1024

    def __init__(self, options: Agreement) -> None:
        self._options = options
        self._cache: dict[str, ResolvedKey] = {}
        # Trust on first use: the fingerprint trusted at each mount point.
        self._trusted: dict[str, str] = {}
        self._lock = threading.Lock()

    def url(self, mount: str) -> str:
        return self._options.url if self._options.url is not None else mount + AGREEMENT_KEY_PATH

    def _agree(self, mount: str, status: int, body: bytes) -> ResolvedKey:
        if status != 200:
            raise _agreement_failed(f"Server key not available (HTTP {status})")
        try:
            published = parse_json(body)
        except ValueError:
            raise _agreement_failed("Server key is not JSON") from None
        if not isinstance(published, dict) or not is_valid_key_id(published.get("keyId")):
            raise _agreement_failed("Server key has no valid keyId")
        server_key, server_bytes = import_public_key(published.get("publicKey"))
        actual = fingerprint(server_bytes)
        expected = self._options.fingerprint or self._trusted.get(mount)
        if published.get("fingerprint") != actual or (expected is not None and expected != actual):
            raise ContinuumError(
                "CONTINUUM_SERVER_KEY_MISMATCH",
                "Server agreement key does not match the pinned or trusted fingerprint",
            )
        if self._options.trust_on_first_use:
            self._trusted[mount] = actual
        ephemeral = X25519PrivateKey.generate()
        client_bytes = public_bytes(ephemeral.public_key())
        key_id = str(published["keyId"])
        key = derive_agreed_key(key_id, ephemeral, server_key, client_bytes, server_bytes)
        resolved = ResolvedKey(
            key, {"x-continuum-key-id": key_id, "x-continuum-ephemeral-key": b64url_encode(client_bytes)}
        )
        # The server publishes its key under its mount point, so agree per mount point, not per origin.
        self._cache[mount] = resolved
        return resolved

    def resolve(self, mount: str, fetch: Fetch) -> ResolvedKey:
        with self._lock:
            cached = self._cache.get(mount)
            if cached is not None:
                return cached
            status, body = fetch(self.url(mount))
            return self._agree(mount, status, body)

    async def aresolve(self, mount: str, fetch: AsyncFetch) -> ResolvedKey:
        cached = self._cache.get(mount)
        if cached is not None:
            return cached
        status, body = await fetch(self.url(mount))
        # Another task may have agreed meanwhile; _agree checks the trust rules again either way.
        return self._agree(mount, status, body)

    def refresh(self, mount: str, successor: str | None) -> None:
        """Drops agreed keys; called only after a sealed retirement notice, whose successor is then trusted."""
        self._cache.clear()
        if self._options.trust_on_first_use and isinstance(successor, str) and FINGERPRINT.match(successor):
            self._trusted[mount] = successor


KeySource = Union[SharedKeySource, AgreementKeySource]
