"""The one error the client raises, with the stable ``CONTINUUM_*`` codes of the TypeScript
implementation (``error_codes.json`` is generated from ``src/errors/codes.ts``, so a code means
the same thing on both sides). Messages never carry request content or key material."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping


@lru_cache(maxsize=1)
def error_codes() -> Mapping[str, Mapping[str, Any]]:
    """The code table: ``{code: {"status", "type", "retryable"}}``."""
    text = resources.files(__package__).joinpath("error_codes.json").read_text(encoding="utf-8")
    codes: Mapping[str, Mapping[str, Any]] = json.loads(text)["codes"]
    return codes


def is_error_code(value: object) -> bool:
    """Whether a value is one of the stable codes."""
    return isinstance(value, str) and value in error_codes()


class ContinuumError(Exception):
    """A failure with a stable ``code`` (``CONTINUUM_*``), its HTTP ``status`` and ``type``.

    ``details`` holds content-free facts (a JSON Pointer, a limit), never request content.
    """

    code: str
    status: int
    type: str
    retryable: bool
    details: dict[str, Any]

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        info = error_codes().get(code)
        if info is None:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.message = message
        self.status = status if status is not None else int(info["status"])
        self.type = str(info["type"])
        self.retryable = bool(info["retryable"])
        self.details = dict(details or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"ContinuumError({self.code!r}, {self.message!r})"

    def to_json(self) -> dict[str, Any]:
        """The error body the TypeScript implementation writes: ``{"error": {...}}``."""
        return {"error": {**self.details, "code": self.code, "message": self.message, "type": self.type}}
