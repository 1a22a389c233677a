"""Regression: a request body over the server's body limit (10 MiB by default) made httpx fail with
a broken pipe (``httpx.WriteError``): the server answers 413 before it reads the body and closes
while the client is still writing, so its answer (unsealed: it comes before the request is
authenticated) is never read. The transports now refuse an encrypted body over
``max_request_bytes`` (default: the server's default limit) with CONTINUUM_BODY_TOO_LARGE before
anything is sent, sync and async, against the real middleware."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest

from continuum_client import AsyncContinuumTransport, ContinuumError, ContinuumTransport
from continuum_client.exchange import DEFAULT_MAX_REQUEST_BYTES
from relays import AsyncRelay, Relay
from sdk_requests import asend, chat_body, openai_headers, send

SERVER_BODY_LIMIT = 10 * 1024 * 1024  # continuum()'s `bodyLimit` default (src/proxy/proxy-options.ts)


@pytest.fixture(scope="module")
def openai_app(server: Any) -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app("openai", keys=[{"id": "k1", "keyHex": key}]), key


class _Measure(httpx.BaseTransport):
    """Records the size of the encrypted body and answers nothing the client believes."""

    def __init__(self) -> None:
        self.size = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.size = len(request.read())
        return httpx.Response(502)


def _encrypted_size(prompt_length: int) -> int:
    measure = _Measure()
    transport = ContinuumTransport(
        key_id="k1", key=os.urandom(32), transport=measure, max_request_bytes=1 << 40
    )
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        send(http, "/v1/chat/completions", chat_body("x" * prompt_length), openai_headers())
    return measure.size


@pytest.fixture(scope="module")
def at_the_limit() -> int:
    """The longest prompt whose encrypted request is at most the server's limit."""
    length = 7 * 1024 * 1024
    # Base64url: every 3 more bytes of plaintext are 4 more bytes on the wire.
    length += (SERVER_BODY_LIMIT - _encrypted_size(length)) * 3 // 4
    while _encrypted_size(length) > SERVER_BODY_LIMIT:
        length -= 1
    while _encrypted_size(length + 1) <= SERVER_BODY_LIMIT:
        length += 1
    assert _encrypted_size(length) <= SERVER_BODY_LIMIT < _encrypted_size(length + 1)
    return length


def _code(error: BaseException) -> str:
    assert isinstance(error, ContinuumError), repr(error)
    assert error.status == 413 and error.details == {"limit": DEFAULT_MAX_REQUEST_BYTES}
    return error.code


def test_the_default_is_the_servers_default_limit() -> None:
    assert DEFAULT_MAX_REQUEST_BYTES == SERVER_BODY_LIMIT


def test_an_eleven_mib_prompt_is_a_coded_refusal_not_a_broken_pipe(
    openai_app: tuple[dict[str, Any], str]
) -> None:
    app, key = openai_app
    transport = ContinuumTransport(key_id="k1", key=key)
    with httpx.Client(base_url=app["url"], transport=transport, timeout=30) as http:
        with pytest.raises(ContinuumError) as raised:  # before: httpx.WriteError, [Errno 32] Broken pipe
            send(http, "/v1/chat/completions", chat_body("x" * (11 * 1024 * 1024)), openai_headers())
    assert _code(raised.value) == "CONTINUUM_BODY_TOO_LARGE"


def test_a_body_over_the_limit_is_refused_before_anything_is_sent(
    openai_app: tuple[dict[str, Any], str], at_the_limit: int
) -> None:
    app, key = openai_app
    relay = Relay()
    with httpx.Client(
        base_url=app["url"], transport=ContinuumTransport(key_id="k1", key=key, transport=relay), timeout=30
    ) as http:
        with pytest.raises(ContinuumError) as raised:
            send(http, "/v1/chat/completions", chat_body("x" * (at_the_limit + 1)), openai_headers())
        assert _code(raised.value) == "CONTINUUM_BODY_TOO_LARGE"
        assert relay.exchanges == []
        # The largest body the server takes still goes through.
        answer = send(http, "/v1/chat/completions", chat_body("x" * at_the_limit), openai_headers())
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["message"]["content"] == "echo: " + "x" * at_the_limit


def test_the_async_transport_refuses_it_too(
    openai_app: tuple[dict[str, Any], str], at_the_limit: int
) -> None:
    app, key = openai_app

    async def run() -> None:
        relay = AsyncRelay()
        transport = AsyncContinuumTransport(key_id="k1", key=key, transport=relay)
        async with httpx.AsyncClient(base_url=app["url"], transport=transport, timeout=30) as http:
            with pytest.raises(ContinuumError) as raised:
                over = chat_body("x" * (at_the_limit + 1))
                await asend(http, "/v1/chat/completions", over, openai_headers())
            assert _code(raised.value) == "CONTINUUM_BODY_TOO_LARGE"
            assert relay.exchanges == []
            at = chat_body("x" * at_the_limit)
            answer = await asend(http, "/v1/chat/completions", at, openai_headers())
            assert answer.status_code == 200

    asyncio.run(run())


def test_past_the_servers_limit_the_server_refuses(
    openai_app: tuple[dict[str, Any], str], at_the_limit: int
) -> None:
    # Why the default is where it is: with the client's bound raised, the same body reaches the server,
    # which refuses it (httpcore 0.16 reports the broken pipe; later versions read the unsealed 413).
    app, key = openai_app
    transport = ContinuumTransport(key_id="k1", key=key, max_request_bytes=2 * SERVER_BODY_LIMIT)
    with httpx.Client(base_url=app["url"], transport=transport, timeout=30) as http:
        try:
            over = chat_body("x" * (at_the_limit + 1))
            answer = send(http, "/v1/chat/completions", over, openai_headers())
        except httpx.TransportError:
            return
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE"


def test_a_smaller_bound_is_kept_and_the_refusal_carries_no_content() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(502)

    transport = ContinuumTransport(
        key_id="k1", key=os.urandom(32), transport=httpx.MockTransport(handler), max_request_bytes=4096
    )
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        send(http, "/v1/chat/completions", chat_body("x" * 1000), openai_headers())
        with pytest.raises(ContinuumError) as raised:
            send(http, "/v1/chat/completions", chat_body("x" * 4000), openai_headers())
    assert raised.value.code == "CONTINUUM_BODY_TOO_LARGE" and raised.value.details == {"limit": 4096}
    assert "xxxx" not in str(raised.value)
    assert len(seen) == 1


@pytest.mark.parametrize("bound", [0, -1, True, 1.5, "10MiB", None])
def test_the_bound_is_validated_at_construction(bound: Any) -> None:
    for make in (ContinuumTransport, AsyncContinuumTransport):
        with pytest.raises(ContinuumError) as raised:
            make(key_id="k1", key=os.urandom(32), max_request_bytes=bound)
        assert raised.value.code == "CONTINUUM_INVALID_OPTIONS"
