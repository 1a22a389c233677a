"""The client's path rule (docs/PROTOCOL.md section 8). The server matches routes on exact paths,
so a variant such as ``/v1/chat/completions/``, ``/v1/chat//completions`` or
``/v1/chat%2Fcompletions`` is not the encrypted route to it, and behind a lenient host app it may
be served all the same. Such paths are refused before anything is sent, and a body goes in clear
only to a route known as plain or to a path the caller declared plain."""

from __future__ import annotations

import re
from typing import Iterable

from .errors import ContinuumError

# Encoded slash, backslash and dot: each lets one path mean two routes to different parsers.
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)
_BAD_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})")


def path_problem(path: str) -> str | None:
    """Why a path is not in normal form, or None when it is."""
    if not path.startswith("/"):
        return "does not start with /"
    if path == "/":
        return None
    if path.endswith("/"):
        return "ends with /"
    if "//" in path:
        return "has an empty segment"
    if "\\" in path:
        return "has a backslash"
    if _ENCODED_SEPARATOR.search(path):
        return "has an encoded slash, backslash or dot"
    if _BAD_PERCENT.search(path):
        return "has malformed percent-encoding"
    if any(segment in (".", "..") for segment in path.split("/")):
        return "has a dot segment"
    return None


def refuse_path(problem: str) -> ContinuumError:
    return ContinuumError(
        "CONTINUUM_CLIENT_PATH_REFUSED",
        f"Refused to send to a path that {problem}",
        details={"problem": problem},
    )


def validate_plain_paths(paths: Iterable[str] | None) -> tuple[str, ...]:
    """Validates the ``plain_paths`` option once: each a path in normal form such as ``/v1/files``."""
    if paths is None:
        return ()
    if isinstance(paths, str):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", "plain_paths must be a list of paths, not one string"
        )
    checked = tuple(paths)
    if any(not isinstance(path, str) or path == "/" or path_problem(path) is not None for path in checked):
        raise ContinuumError(
            "CONTINUUM_INVALID_OPTIONS", 'plain_paths must be paths in normal form, such as "/v1/files"'
        )
    return checked


def is_plain_path(plain_paths: tuple[str, ...], path: str) -> bool:
    """Whether a path in normal form ends with one of the declared plain paths."""
    return path_problem(path) is None and any(path.endswith(plain) for plain in plain_paths)
