"""What a request seal covers besides the body (docs/PROTOCOL.md section 5): the method, the route
path, the query string in canonical form, the timestamp, and every header the client lists in
``x-continuum-sealed-headers``. A relay that adds ``?stream=true``, adds an ``authorization``
header or strips ``cache-control: no-store`` changes this metadata, and the seal no longer
verifies."""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence
from urllib.parse import quote, unquote_to_bytes

from .errors import ContinuumError

# Hop-by-hop and connection-level headers any hop may rewrite, the length the transport computes,
# and the protocol's own headers (bound by other means): no seal covers them.
UNSEALABLE = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "http2-settings",
        "content-length",
        "accept-encoding",
    }
)

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+\Z")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def is_sealable_header(name: str) -> bool:
    """Whether a (lower-case) header name may be listed in ``x-continuum-sealed-headers``."""
    return _TOKEN.match(name) is not None and name not in UNSEALABLE and not name.startswith("x-continuum-")


def sealed_header_list(names: Iterable[str]) -> list[str]:
    """The list a client sends for the headers it sends: every sealable name, lower case, sorted, once."""
    return sorted({name.lower() for name in names if is_sealable_header(name.lower())})


def _field_value(value: str) -> str:
    return value.strip(" \t")


def sealed_header_block(names: Sequence[str], get: Callable[[str], str | None]) -> str:
    """``name:value`` and LF for each listed header present, ``name`` and LF for one absent."""
    lines = []
    for name in names:
        value = get(name)
        lines.append(f"{name}\n" if value is None else f"{name}:{_field_value(value)}\n")
    return "".join(lines)


def _refused_query() -> ContinuumError:
    return ContinuumError(
        "CONTINUUM_INTEGRITY_FAILED", "The query string is not well-formed percent-encoded UTF-8"
    )


def _decode(text: str) -> str:
    text = text.replace("+", " ")
    if _PERCENT.search(text):
        raise _refused_query()
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise _refused_query() from None


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters stay, every other byte of the UTF-8 form is %XX (upper case).
    return quote(text, safe="")


def canonical_query(search: str) -> str:
    """The canonical form of a query string (with or without its ``?``); malformed encoding is refused."""
    text = search[1:] if search.startswith("?") else search
    pairs = []
    for piece in text.split("&"):
        if piece == "":
            continue
        name, equals, value = piece.partition("=")
        pairs.append(f"{_encode(_decode(name))}={_encode(_decode(value if equals else ''))}")
    return "&".join(pairs)


def request_seal_meta(method: str, route_path: str, query: str, timestamp: str, header_lines: str) -> str:
    """``METHOD SP route-path LF canonical-query LF timestamp LF sealed-header-lines``."""
    return f"{method.upper()} {route_path}\n{query}\n{timestamp}\n{header_lines}"
