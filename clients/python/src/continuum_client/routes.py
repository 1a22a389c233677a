"""The routes the client encrypts, read from ``routes.json``: the built-in adapters' paths,
plain-field allow-lists and stream framing, generated from the TypeScript adapters by
``scripts/export-allow-lists.ts`` (a TypeScript test fails when the file is out of date), so both
clients encrypt exactly the same members. A route is found by the end of the request path,
behind any mount prefix."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Mapping

from .errors import ContinuumError
from .field_map import PlainFieldTree, compile_plain_fields


@dataclass(frozen=True)
class StreamDefinition:
    """How a route's answers stream: ``sse`` or ``ndjson``, the events' allow-list, a plain terminal sentinel."""

    framing: str
    tree: PlainFieldTree
    terminal: str | None


@dataclass(frozen=True)
class Route:
    adapter: str
    name: str
    method: str
    path: str
    header: str | None
    encrypted: bool
    request_tree: PlainFieldTree
    response_tree: PlainFieldTree
    stream: StreamDefinition | None
    _suffix: re.Pattern[str]

    def match_suffix(self, path: str) -> str | None:
        """The part of ``path`` this route's template matches at its end (templates start with ``/``)."""
        found = self._suffix.search(path)
        return None if found is None else found.group(0)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    #: The path the route matched, without mount prefix or query: what the request seal binds.
    route_path: str


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", path)
    source = "".join(
        "[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part) for part in parts
    )
    return re.compile(source + r"\Z")


def _invalid(why: str) -> ContinuumError:
    return ContinuumError("CONTINUUM_INVALID_OPTIONS", f"routes: {why}")


def _route(adapter: str, entry: Mapping[str, Any]) -> Route:
    try:
        path = str(entry["path"])
        if not path.startswith("/"):
            raise _invalid(f'{adapter} route "{entry["name"]}": path must start with "/"')
        encrypted = bool(entry["encrypted"])
        if encrypted and ("requestPlain" not in entry or "responsePlain" not in entry):
            raise _invalid(
                f'{adapter} route "{entry["name"]}": encrypted routes need requestPlain and responsePlain'
            )
        stream = entry.get("stream")
        return Route(
            adapter=adapter,
            name=str(entry["name"]),
            method=str(entry["method"]).upper(),
            path=path,
            header=entry.get("header"),
            encrypted=encrypted,
            request_tree=compile_plain_fields(entry.get("requestPlain", [])),
            response_tree=compile_plain_fields(entry.get("responsePlain", [])),
            stream=None
            if stream is None
            else StreamDefinition(
                framing=_framing(stream["framing"]),
                tree=compile_plain_fields(stream["plain"]),
                terminal=stream.get("terminal"),
            ),
            _suffix=_template(path),
        )
    except (KeyError, TypeError) as error:
        raise _invalid(f"malformed route of {adapter}") from error


def _framing(value: object) -> str:
    if value not in ("sse", "ndjson"):
        raise _invalid("stream framing must be sse or ndjson")
    return str(value)


class RouteTable:
    """Routes by method and path suffix. Build it from data with :meth:`from_data`; :meth:`builtin` is the default."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = list(routes)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RouteTable:
        """From the ``routes.json`` shape: ``{"adapters": [{"name", "routes": [...]}]}``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("adapters"), list):
            raise _invalid('expected {"adapters": [...]}')
        return cls(
            [
                _route(str(adapter["name"]), entry)
                for adapter in data["adapters"]
                for entry in adapter["routes"]
            ]
        )

    @classmethod
    def builtin(cls) -> RouteTable:
        """The built-in protocols (OpenAI, Anthropic, Triton, TGI, Ollama), as the TypeScript adapters define them."""
        global _builtin
        if _builtin is None:
            text = resources.files(__package__).joinpath("routes.json").read_text(encoding="utf-8")
            _builtin = cls.from_data(json.loads(text))
        return _builtin

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def lookup_suffix(self, method: str, path: str) -> RouteMatch | None:
        """The route whose template ends ``path``, the longest match winning. Routes told apart by a
        request header (all plain model lists) are not matched, as in the TypeScript client."""
        best: RouteMatch | None = None
        for route in self._routes:
            if route.method != method or route.header is not None:
                continue
            matched = route.match_suffix(path)
            if matched is not None and (best is None or len(matched) > len(best.route_path)):
                best = RouteMatch(route, matched)
        return best


_builtin: RouteTable | None = None
