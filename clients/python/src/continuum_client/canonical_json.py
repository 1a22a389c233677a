"""RFC 8785 (JCS) canonical JSON, and the strict JSON reading the protocol needs.

Seals and field plaintexts are computed over these bytes. The writer follows ECMAScript, as the
TypeScript implementation does: object keys sorted by UTF-16 code units, no whitespace, strings
as ``JSON.stringify`` writes them, numbers as ECMAScript's ``Number::toString`` (Python's
``repr`` gives the same shortest round-trip digits; only their layout differs). JSON numbers
are IEEE-754 doubles there, so an integer beyond 2**53 is written as the double it parses to.
Values JCS cannot represent (a non-finite number, a lone surrogate) are refused with
``CONTINUUM_NON_CANONICAL_JSON``, never written another way.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from .errors import ContinuumError

_encode_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
_SAFE_INTEGER = 2**53


def _refuse(problem: str) -> ContinuumError:
    return ContinuumError(
        "CONTINUUM_NON_CANONICAL_JSON", f"A JSON value {problem}; RFC 8785 cannot represent it"
    )


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def format_number(value: float) -> str:
    """ECMAScript ``Number::toString`` of a finite double (``-0`` is ``0``)."""
    if value != value or value in (math.inf, -math.inf):
        raise _refuse("holds a number outside the IEEE-754 double range")
    if value == 0:
        return "0"
    if value.is_integer() and -_SAFE_INTEGER < value < _SAFE_INTEGER:
        return str(int(value))
    sign = "-" if value < 0 else ""
    text = repr(abs(value))
    mantissa, _, exponent_text = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    stripped = all_digits.lstrip("0")
    # value = 0.<digits> x 10**point, as ECMAScript's k digits s and exponent n.
    point = len(whole) - (len(all_digits) - len(stripped)) + (int(exponent_text) if exponent_text else 0)
    digits = stripped.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    exponent = point - 1
    exponent_part = ("e+" if exponent >= 0 else "e-") + str(abs(exponent))
    if count == 1:
        return sign + digits + exponent_part
    return sign + digits[0] + "." + digits[1:] + exponent_part


def _integer(value: int) -> str:
    if -_SAFE_INTEGER < value < _SAFE_INTEGER:
        return str(value)
    try:
        return format_number(float(value))
    except OverflowError:
        raise _refuse("holds a number outside the IEEE-754 double range") from None


def _write(value: Any, parts: list[str], sort: bool) -> None:
    kind = type(value)
    if kind is str:
        parts.append(_encode_string(value))
    elif kind is dict:
        keys = list(value)
        if sort:
            keys.sort()
            if not "".join(keys).isascii():
                keys.sort(key=_utf16)
        parts.append("{")
        first = True
        for key in keys:
            if type(key) is not str:
                raise _refuse("has a member name that is not a string")
            if not first:
                parts.append(",")
            first = False
            parts.append(_encode_string(key))
            parts.append(":")
            _write(value[key], parts, sort)
        parts.append("}")
    elif kind is list or kind is tuple:
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts, sort)
        parts.append("]")
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is int:
        parts.append(_integer(value))
    elif kind is float:
        parts.append(format_number(value))
    else:
        raise _refuse(f"holds a {kind.__name__}, not a JSON value")


def _serialise(value: Any, sort: bool) -> bytes:
    parts: list[str] = []
    try:
        _write(value, parts, sort)
    except RecursionError:
        raise _refuse("is nested too deep") from None
    try:
        # A lone surrogate has no UTF-8 form: strict encoding is where it is caught.
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse("holds a string or member name with a lone UTF-16 surrogate") from None


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 form of a JSON value, as UTF-8 bytes."""
    if type(value) is str:
        # Most field plaintexts are one string: no container to walk.
        try:
            return _encode_string(value).encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse("holds a string or member name with a lone UTF-16 surrogate") from None
    return _serialise(value, True)


def ecmascript_json(value: Any) -> bytes:
    """``JSON.stringify`` of a JSON value: members in their order, numbers as ECMAScript writes them."""
    return _serialise(value, False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json(text: str | bytes) -> Any:
    """Parses JSON text strictly (UTF-8, no NaN or Infinity literals; the last duplicate member wins,
    as in ECMAScript). Raises ValueError on anything else, deep nesting included."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8")
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
