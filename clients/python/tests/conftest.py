"""Shared fixtures: the repository's shared protocol vectors, and the real TypeScript middleware
started once per session (tests/interop_server.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS_FILE = REPO_ROOT / "test" / "fixtures" / "protocol-vectors.json"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """test/fixtures/protocol-vectors.json, generated from the server and the TypeScript client."""
    data: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def server() -> Iterator[Any]:
    from interop_server import InteropServer

    running = InteropServer.start(REPO_ROOT)
    try:
        yield running
    finally:
        running.stop()
