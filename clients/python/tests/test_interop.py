"""The Python client against the real TypeScript middleware (Express over the fake OpenAI,
Anthropic and Ollama upstreams, tests/interop_server.py), making the requests the official
SDKs make: chat, streaming, tools, embeddings, Anthropic messages and their stream, Ollama's
NDJSON, sync and async, at the root and under a mount prefix. Each test checks that the
upstream received the decrypted content and that neither prompt nor answer crossed the wire in
clear."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest

from continuum_client import AsyncContinuumTransport, ContinuumError, ContinuumTransport
from relays import AsyncRelay, Relay
from sdk_requests import (
    anthropic_headers,
    asend,
    asse_events,
    chat_body,
    chat_stream_text,
    embeddings_body,
    messages_body,
    openai_headers,
    send,
    sse_events,
    tools_body,
)

SECRET = "the launch code is 0000"


def shared_app(server: Any, upstream: str, mount: str = "") -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app(upstream, mount=mount, keys=[{"id": "k1", "keyHex": key}]), key


def client(app: dict[str, Any], key: str, relay: Relay) -> httpx.Client:
    transport = ContinuumTransport(key_id="k1", key=key, transport=relay)
    return httpx.Client(base_url=app["url"], transport=transport, timeout=30)


def last_upstream_body(server: Any, upstream: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(server.upstream_requests(upstream)[-1]["body"])
    return body


@pytest.fixture
def openai_app(server: Any) -> tuple[dict[str, Any], str]:
    return shared_app(server, "openai")


@pytest.fixture
def anthropic_app(server: Any) -> tuple[dict[str, Any], str]:
    return shared_app(server, "anthropic")


class TestOpenAI:
    @pytest.mark.parametrize("mount", ["", "/llm"])
    def test_chat_completion(self, server: Any, mount: str) -> None:
        app, key = shared_app(server, "openai", mount)
        relay = Relay()
        with client(app, key, relay) as http:
            response = send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
        assert response.status_code == 200
        answer = response.json()
        assert answer["choices"][0]["message"]["content"] == f"echo: {SECRET}"
        assert answer["usage"]["total_tokens"] == 57  # the vLLM transcript of test/kit
        assert "x-continuum-seal" not in response.headers
        assert last_upstream_body(server, "openai")["messages"][0]["content"] == SECRET
        assert "launch code" not in relay.wire_text()
        assert b"cp2.k1." in relay.exchanges[0].body

    def test_streaming_chat(self, server: Any, openai_app: tuple[dict[str, Any], str]) -> None:
        app, key = openai_app
        relay = Relay()
        with client(app, key, relay) as http:
            response = send(
                http, "/v1/chat/completions", chat_body(SECRET, stream=True), openai_headers(), stream=True
            )
            assert response.headers["content-type"].startswith("text/event-stream")
            events = list(sse_events(response))
            raw = response.read() if not response.is_stream_consumed else b""
        assert raw == b""
        assert chat_stream_text(events) == f"echo: {SECRET}"
        assert events[-1].json()["choices"][0]["finish_reason"] == "stop"
        assert "launch code" not in relay.wire_text()
        assert b"continuum.end" in relay.exchanges[0].response_body

    def test_tools_and_their_streamed_arguments(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        app, key = openai_app
        relay = Relay()
        with client(app, key, relay) as http:
            answer = send(http, "/v1/chat/completions", tools_body(SECRET), openai_headers()).json()
            streamed = send(
                http, "/v1/chat/completions", tools_body(SECRET, stream=True), openai_headers(), stream=True
            )
            events = list(sse_events(streamed))
        call = answer["choices"][0]["message"]["tool_calls"][0]
        assert call["function"]["name"] == "lookup"
        assert json.loads(call["function"]["arguments"]) == {"query": SECRET, "units": "metric"}
        pieces = [
            part["function"].get("arguments", "")
            for event in events
            for choice in event.json()["choices"]
            for part in choice["delta"].get("tool_calls", [])
        ]
        assert json.loads("".join(pieces)) == {"query": SECRET, "units": "metric"}
        assert last_upstream_body(server, "openai")["tools"][0]["function"]["name"] == "lookup"
        assert "launch code" not in relay.wire_text() and "lookup" not in relay.exchanges[0].body.decode()

    def test_embeddings(self, server: Any, openai_app: tuple[dict[str, Any], str]) -> None:
        app, key = openai_app
        relay = Relay()
        with client(app, key, relay) as http:
            answer = send(
                http, "/v1/embeddings", embeddings_body([SECRET, "second"]), openai_headers()
            ).json()
        assert [item["embedding"] for item in answer["data"]] == [
            [len(SECRET) / 10, 0.5, -0.25],
            [0.6, 0.5, -0.25],
        ]
        assert last_upstream_body(server, "openai")["input"] == [SECRET, "second"]
        assert "launch code" not in relay.wire_text() and "-0.25" not in relay.wire_text()

    def test_an_upstream_error_is_decrypted_for_the_sdk(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        app, key = openai_app
        relay = Relay()
        with client(app, key, relay) as http:
            response = send(
                http, "/v1/chat/completions", chat_body(SECRET, model="upstream-400"), openai_headers()
            )
        assert response.status_code == 400
        assert response.json()["error"]["message"] == f"bad request about {SECRET}"
        assert "launch code" not in relay.wire_text()

    def test_a_sealed_proxy_error_reaches_the_sdk_as_the_server_wrote_it(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        app, key = openai_app
        with client(app, key, Relay()) as http:
            response = send(
                http,
                "/v1/chat/completions",
                {"model": "llama-3-8b", "messages": "not a list"},
                openai_headers(),
            )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "CONTINUUM_SCHEMA_VIOLATION"
        # Its retry hint is the verified code's, not one from the wire.
        assert response.headers["x-should-retry"] == "false"

    def test_an_upstream_failure_mid_stream_is_the_sealed_failure_marker(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        app, key = openai_app
        with client(app, key, Relay()) as http:
            response = send(
                http,
                "/v1/chat/completions",
                chat_body(SECRET, model="cut-stream", stream=True),
                openai_headers(),
                stream=True,
            )
            seen = []
            with pytest.raises(ContinuumError) as failed:
                for event in sse_events(response):
                    seen.append(event)
        assert failed.value.code == "CONTINUUM_UPSTREAM_STREAM_ABORTED"
        assert chat_stream_text(seen).startswith("echo:")

    def test_a_header_value_beyond_ascii_is_sealed_and_sent_as_its_bytes(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        # httpx takes such a value only as bytes; HTTP allows them (obs-text) and Node reads them as Latin-1.
        app, key = openai_app
        server.clear_upstream("openai")
        transport = ContinuumTransport(key_id="k1", key=key)
        with httpx.Client(base_url=app["url"], transport=transport, timeout=30) as http:
            headers: dict[str, str | bytes] = {**openai_headers(), "X-Title": "Café Ünïcode".encode()}
            response = http.post("/v1/chat/completions", json=chat_body(SECRET), headers=headers)
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == f"echo: {SECRET}"
        sent = server.upstream_requests("openai")[-1]["headers"]
        assert sent["x-title"] == "Café Ünïcode".encode().decode("latin-1")

    def test_plain_routes_pass_through(self, server: Any, openai_app: tuple[dict[str, Any], str]) -> None:
        app, key = openai_app
        relay = Relay()
        with client(app, key, relay) as http:
            models = http.get("/v1/models", headers=openai_headers())
        assert models.status_code == 200
        assert models.json()["data"][0]["id"] == "meta-llama/Llama-3.1-8B-Instruct"
        assert header_absent(relay.exchanges[0].headers, "x-continuum-encryption")


def header_absent(headers: list[tuple[str, str]], name: str) -> bool:
    return all(key.lower() != name for key, _ in headers)


class TestAnthropic:
    def test_messages(self, server: Any, anthropic_app: tuple[dict[str, Any], str]) -> None:
        app, key = anthropic_app
        relay = Relay()
        with client(app, key, relay) as http:
            answer = send(http, "/v1/messages", messages_body(SECRET), anthropic_headers()).json()
            counted = send(
                http,
                "/v1/messages/count_tokens",
                {"messages": [{"role": "user", "content": SECRET}], "model": "claude"},
                anthropic_headers(),
            ).json()
        assert answer["content"] == [{"type": "text", "text": f"claude heard: {SECRET}"}]
        assert answer["stop_reason"] == "end_turn"
        assert counted == {"input_tokens": 15}
        assert "launch code" not in relay.wire_text()

    def test_streaming_messages_with_named_events(
        self, server: Any, anthropic_app: tuple[dict[str, Any], str]
    ) -> None:
        app, key = anthropic_app
        relay = Relay()
        with client(app, key, relay) as http:
            response = send(
                http,
                "/v1/messages",
                messages_body(SECRET, stream=True),
                anthropic_headers(helper=True),
                stream=True,
            )
            events = list(sse_events(response))
        names = [event.event for event in events]
        assert names[0] == "message_start" and names[-1] == "message_stop" and "ping" in names
        assert all(event.json()["type"] == event.event for event in events)
        text = "".join(
            event.json()["delta"]["text"] for event in events if event.event == "content_block_delta"
        )
        assert text == f"claude heard: {SECRET}"
        assert "launch code" not in relay.wire_text()

    def test_tool_use_streamed(self, server: Any, anthropic_app: tuple[dict[str, Any], str]) -> None:
        app, key = anthropic_app
        tools = [
            {
                "name": "get_weather",
                "description": "Weather",
                "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
            }
        ]
        with client(app, key, Relay()) as http:
            response = send(
                http,
                "/v1/messages",
                messages_body("weather in Paris", tools=tools, stream=True),
                anthropic_headers(),
                stream=True,
            )
            events = list(sse_events(response))
        partial = "".join(
            event.json()["delta"].get("partial_json", "")
            for event in events
            if event.event == "content_block_delta"
        )
        assert json.loads(partial) == {"location": "Paris", "unit": "celsius"}

    def test_an_upstream_error_event_reaches_the_sdk_sealed(
        self, server: Any, anthropic_app: tuple[dict[str, Any], str]
    ) -> None:
        app, key = anthropic_app
        with client(app, key, Relay()) as http:
            response = send(
                http,
                "/v1/messages",
                messages_body(SECRET, model="overloaded", stream=True),
                anthropic_headers(),
                stream=True,
            )
            events = list(sse_events(response))
        assert events[-1].event == "error"
        assert events[-1].json()["error"]["type"] == "overloaded_error"


def test_ollama_ndjson_stream(server: Any) -> None:
    app, key = shared_app(server, "ollama")
    relay = Relay()
    with client(app, key, relay) as http:
        response = send(
            http,
            "/api/chat",
            {"model": "llama3", "messages": [{"role": "user", "content": SECRET}]},
            {},
            stream=True,
        )
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert response.headers["content-type"] == "application/x-ndjson"
    assert "".join(line["message"]["content"] for line in lines) == f"llama replies: {SECRET}"
    assert lines[-1]["done"] is True
    assert "launch code" not in relay.wire_text()


class TestAsync:
    def test_chat_streaming_and_anthropic(self, server: Any) -> None:
        openai, openai_key = shared_app(server, "openai")
        anthropic, anthropic_key = shared_app(server, "anthropic")

        async def run() -> tuple[dict[str, Any], str, list[str]]:
            relay = AsyncRelay()
            transport = AsyncContinuumTransport(key_id="k1", key=openai_key, transport=relay)
            async with httpx.AsyncClient(base_url=openai["url"], transport=transport, timeout=30) as http:
                answer = (
                    await asend(
                        http, "/v1/chat/completions", chat_body(SECRET), openai_headers(asynchronous=True)
                    )
                ).json()
                streamed = await asend(
                    http,
                    "/v1/chat/completions",
                    chat_body(SECRET, stream=True),
                    openai_headers(asynchronous=True),
                    stream=True,
                )
                text = chat_stream_text([event async for event in asse_events(streamed)])
            assert "launch code" not in relay.wire_text()
            transport = AsyncContinuumTransport(key_id="k1", key=anthropic_key)
            async with httpx.AsyncClient(base_url=anthropic["url"], transport=transport, timeout=30) as http:
                response = await asend(
                    http,
                    "/v1/messages",
                    messages_body(SECRET, stream=True),
                    anthropic_headers(asynchronous=True),
                    stream=True,
                )
                names = [event.event or "" async for event in asse_events(response)]
            return answer, text, names

        answer, text, names = asyncio.run(run())
        assert answer["choices"][0]["message"]["content"] == f"echo: {SECRET}"
        assert text == f"echo: {SECRET}"
        assert names[0] == "message_start" and names[-1] == "message_stop"

    def test_concurrent_requests_share_one_transport(self, server: Any) -> None:
        app, key = shared_app(server, "openai")

        async def run() -> list[str]:
            transport = AsyncContinuumTransport(key_id="k1", key=key)
            async with httpx.AsyncClient(base_url=app["url"], transport=transport, timeout=30) as http:
                responses = await asyncio.gather(
                    *(
                        asend(http, "/v1/chat/completions", chat_body(f"prompt {index}"), openai_headers())
                        for index in range(12)
                    )
                )
            return [response.json()["choices"][0]["message"]["content"] for response in responses]

        assert asyncio.run(run()) == [f"echo: prompt {index}" for index in range(12)]
