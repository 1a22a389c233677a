"""What an attacker on the path can do, and what the Python client makes of it, against the real
middleware: a relay that flips a byte, drops, reorders, injects or cuts events, forges or replays
answers, or rewrites the request. The client trusts only what is authenticated: every change to
an answer is an error or an unauthenticated status, never content; an unsealed error never makes
the SDK retry; a request the relay changed is refused by the server before the upstream runs."""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import replace
from typing import Any, Callable

import httpx
import pytest

from continuum_client import AsyncContinuumTransport, ContinuumError, ContinuumTransport, SharedKey
from relays import AsyncRelay, Captured, Relay, flip_in, header, with_header
from sdk_requests import (
    asend,
    asse_events,
    chat_body,
    chat_stream_text,
    messages_body,
    anthropic_headers,
    openai_headers,
    send,
    sse_events,
)

SECRET = "the launch code is 0000"


@pytest.fixture(scope="module")
def openai_app(server: Any) -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app("openai", keys=[{"id": "k1", "keyHex": key}]), key


@pytest.fixture(scope="module")
def anthropic_app(server: Any) -> tuple[dict[str, Any], str]:
    key = os.urandom(32).hex()
    return server.app("anthropic", keys=[{"id": "k1", "keyHex": key}]), key


def client(app: tuple[dict[str, Any], str], relay: Relay) -> httpx.Client:
    return httpx.Client(
        base_url=app[0]["url"],
        transport=ContinuumTransport(key_id="k1", key=app[1], transport=relay),
        timeout=30,
    )


def code_of(run: Callable[[], Any]) -> str:
    with pytest.raises(ContinuumError) as raised:
        run()
    return raised.value.code


def answering(status: int, headers: list[tuple[str, str]], body: bytes) -> Callable[[Captured], Captured]:
    """A relay's own answer to any request: a forgery, or the bytes of an earlier answer replayed."""
    return lambda captured: replace(captured, status=status, response_headers=headers, response_body=body)


def replaying(recorded: Captured) -> Callable[[Captured], Captured]:
    return answering(recorded.status, recorded.response_headers, recorded.response_body)


def rewrite_body(change: Callable[[bytes], bytes]) -> Callable[[Captured], Captured]:
    def rewrite(captured: Captured) -> Captured:
        captured.response_body = change(captured.response_body)
        return captured

    return rewrite


def stream_text(app: tuple[dict[str, Any], str], relay: Relay, to_the_end: bool = False) -> str:
    """The streamed answer as the SDK reads it; ``to_the_end`` reads past ``[DONE]`` (the SDKs stop there)."""
    with client(app, relay) as http:
        response = send(
            http, "/v1/chat/completions", chat_body(SECRET, stream=True), openai_headers(), stream=True
        )
        if to_the_end:
            response.read()
            response = httpx.Response(200, content=response.content)
        return chat_stream_text(list(sse_events(response)))


SSE_EVENT = re.compile(rb"(?:event: [^\n]*\n)?data: [^\n]*\n\n")


def events_of(body: bytes) -> list[bytes]:
    parts = SSE_EVENT.findall(body)
    assert b"".join(parts) == body
    return parts


class TestJsonAnswers:
    def test_a_flipped_byte_in_a_ciphertext_or_a_plain_field(
        self, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        for needle in [b'"content":"cp2.k1.', b'"model":"', b'"total_tokens":']:
            relay = Relay()
            relay.rewrite_response = rewrite_body(lambda body, needle=needle: flip_in(body, needle, 3))
            with client(openai_app, relay) as http:
                assert code_of(
                    lambda: send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
                ) == ("CONTINUUM_RESPONSE_INTEGRITY_FAILED")

    def test_a_changed_status_breaks_the_seal(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = Relay()

        def to_201(captured: Captured) -> Captured:
            captured.status = 201
            return captured

        relay.rewrite_response = to_201
        with client(openai_app, relay) as http:
            assert code_of(
                lambda: send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
            ) == ("CONTINUUM_RESPONSE_INTEGRITY_FAILED")

    def test_a_plain_success_written_on_the_path_is_refused(
        self, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        relay = Relay()
        forged = json.dumps(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": "forged"}}]}
        ).encode()

        def forge(captured: Captured) -> Captured:
            captured.response_headers = with_header(captured.response_headers, "x-continuum-encrypted", None)
            captured.response_body = forged
            return captured

        relay.rewrite_response = forge
        with client(openai_app, relay) as http:
            assert code_of(
                lambda: send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
            ) == ("CONTINUUM_RESPONSE_INTEGRITY_FAILED")

    def test_replayed_answers_do_not_open_for_another_request(
        self, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        relay = Relay()
        with client(openai_app, relay) as http:
            send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
            send(
                http, "/v1/chat/completions", chat_body(SECRET, stream=True), openai_headers(), stream=True
            ).read()
            recorded_json, recorded_stream = relay.exchanges[0], relay.exchanges[1]
            for recorded, stream in [(recorded_json, False), (recorded_stream, True)]:
                relay.answer = replaying(recorded)

                def again() -> None:
                    response = send(
                        http,
                        "/v1/chat/completions",
                        chat_body(SECRET, stream=stream),
                        openai_headers(),
                        stream=stream,
                    )
                    list(sse_events(response)) if stream else response.json()

                assert code_of(again) == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"

    def test_unsealed_errors_carry_only_their_status_and_are_never_retried(
        self, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        for status, extra in [
            (429, [("retry-after", "0"), ("x-should-retry", "true")]),
            (401, []),
            (500, []),
            (307, [("location", "http://evil.test/")]),
        ]:
            relay = Relay()
            body = json.dumps(
                {
                    "error": {
                        "code": "CONTINUUM_KEY_RETIRED",
                        "message": f"{SECRET} leaked",
                        "type": "authentication_error",
                    }
                }
            ).encode()
            relay.answer = answering(status, [("content-type", "application/json"), *extra], body)
            asked: list[int] = []

            def provider() -> SharedKey:
                asked.append(1)
                return SharedKey("k1", openai_app[1])

            transport = ContinuumTransport(keys=provider, transport=relay)
            with httpx.Client(
                base_url=openai_app[0]["url"], transport=transport, follow_redirects=True
            ) as http:
                response = send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
            assert response.status_code == status
            assert response.headers["x-should-retry"] == "false"
            assert "location" not in response.headers and "retry-after" not in response.headers
            error = response.json()["error"]
            assert error["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE" and SECRET not in response.text
            assert len(relay.exchanges) == 1 and len(asked) == 1

    def test_a_sealed_error_of_another_request_is_unauthenticated(
        self, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        relay = Relay()
        with client(openai_app, relay) as http:
            sealed = send(http, "/v1/chat/completions", {"model": "x", "messages": "bad"}, openai_headers())
            assert sealed.json()["error"]["code"] == "CONTINUUM_SCHEMA_VIOLATION"
            recorded = relay.exchanges[0]
            relay.answer = replaying(recorded)
            replayed = send(http, "/v1/chat/completions", {"model": "x", "messages": "bad"}, openai_headers())
        assert replayed.json()["error"]["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE"

    def test_a_duplicate_member_appended_to_a_sealed_error_is_not_forwarded(
        self, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        relay = Relay()
        relay.rewrite_response = rewrite_body(
            lambda body: body[:-1] + b',"error":{"code":"CONTINUUM_KEY_RETIRED"}}'
        )
        with client(openai_app, relay) as http:
            response = send(http, "/v1/chat/completions", {"model": "x", "messages": "bad"}, openai_headers())
        assert response.json()["error"]["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE"


class AddedHeader(httpx.BaseTransport):
    """Adds a response header with bytes beyond ASCII (obs-text, as an upstream or a hop may send) to
    every answer, passing the rest through as it came."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        return httpx.Response(
            response.status_code,
            headers=[*response.headers.raw, (b"x-upstream-note", "Café".encode())],
            stream=response.stream,
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("answer", ["json", "stream", "sealed error"])
def test_a_response_header_beyond_ascii_does_not_break_the_answer(
    openai_app: tuple[dict[str, Any], str], answer: str
) -> None:
    transport = ContinuumTransport(key_id="k1", key=openai_app[1], transport=AddedHeader())
    stream = answer == "stream"
    body = {"model": "x", "messages": "bad"} if answer == "sealed error" else chat_body(SECRET, stream=stream)
    with httpx.Client(base_url=openai_app[0]["url"], transport=transport, timeout=30) as http:
        response = send(http, "/v1/chat/completions", body, openai_headers(), stream=stream)
        response.read()
    assert (b"x-upstream-note", "Café".encode()) in response.headers.raw
    if answer == "sealed error":
        assert response.json()["error"]["code"] == "CONTINUUM_SCHEMA_VIOLATION"
    elif stream:
        assert chat_stream_text(list(sse_events(response))) == f"echo: {SECRET}"
    else:
        assert response.json()["choices"][0]["message"]["content"] == f"echo: {SECRET}"


class TestStreams:
    def test_an_untouched_stream_opens(self, openai_app: tuple[dict[str, Any], str]) -> None:
        assert stream_text(openai_app, Relay()) == f"echo: {SECRET}"

    @pytest.mark.parametrize(
        "attack",
        [
            "flip a ciphertext",
            "flip a plain field",
            "drop an event",
            "swap two events",
            "inject an unsealed event",
            "inject an error frame",
            "inject after the end marker",
            "a second [DONE]",
            "move [DONE] before the end marker",
            "drop the end marker",
            "a failure marker with the end marker's seal",
            "end marker with another count",
        ],
    )
    def test_tampering_is_detected(self, openai_app: tuple[dict[str, Any], str], attack: str) -> None:
        def change(body: bytes) -> bytes:
            events = events_of(body)
            end = next(
                index for index, event in enumerate(events) if event.startswith(b"event: continuum.end")
            )
            if attack == "flip a ciphertext":
                events[2] = flip_in(events[2], b'"content":"cp2.k1.', 5)
            elif attack == "flip a plain field":
                events[2] = flip_in(events[2], b'"created":', 2)
            elif attack == "drop an event":
                del events[2]
            elif attack == "swap two events":
                events[1], events[2] = events[2], events[1]
            elif attack == "inject an unsealed event":
                events.insert(2, b'data: {"choices":[{"index":0,"delta":{"content":"INJECTED"}}]}\n\n')
            elif attack == "inject an error frame":
                events.insert(
                    2,
                    b'data: {"error":{"message":"please re-enter your password","type":"server_error"}}\n\n',
                )
            elif attack == "inject after the end marker":
                events.insert(end + 1, b'data: ["INJECTED"]\n\n')
            elif attack == "a second [DONE]":
                events.append(b"data: [DONE]\n\n")
            elif attack == "move [DONE] before the end marker":
                events.insert(end, events.pop())
            elif attack == "drop the end marker":
                del events[end]
            elif attack == "a failure marker with the end marker's seal":
                marker = json.loads(events[end].split(b"data: ", 1)[1])
                marker["continuum_end"]["error"] = {
                    "code": "CONTINUUM_UPSTREAM_STREAM_ABORTED",
                    "message": "x",
                }
                events[end] = b"event: continuum.end\ndata: " + json.dumps(marker).encode() + b"\n\n"
            elif attack == "end marker with another count":
                events[end] = events[end].replace(b'"events":', b'"events":1')
            return b"".join(events)

        relay = Relay()
        relay.rewrite_response = rewrite_body(change)
        code = code_of(lambda: stream_text(openai_app, relay, to_the_end=True))
        assert code in {"CONTINUUM_RESPONSE_INTEGRITY_FAILED", "CONTINUUM_STREAM_TRUNCATED"}
        if attack in {"drop the end marker", "move [DONE] before the end marker"}:
            assert code == "CONTINUUM_STREAM_TRUNCATED"

    @pytest.mark.parametrize("cut", ["at an event boundary", "inside an event", "inside a UTF-8 character"])
    @pytest.mark.parametrize("broken", [False, True])
    def test_truncation_is_detected(
        self, openai_app: tuple[dict[str, Any], str], cut: str, broken: bool
    ) -> None:
        def change(body: bytes) -> bytes:
            events = events_of(body)
            if cut == "at an event boundary":
                return b"".join(events[:3])
            if cut == "inside an event":
                return b"".join(events[:3]) + events[3][:40]
            return b"".join(events[:3]) + 'data: {"x":"é'.encode()[:-1]

        relay = Relay()
        relay.rewrite_response = rewrite_body(change)
        relay.break_connection = broken
        with client(openai_app, relay) as http:
            response = send(
                http, "/v1/chat/completions", chat_body(SECRET, stream=True), openai_headers(), stream=True
            )
            seen: list[Any] = []
            with pytest.raises(ContinuumError) as raised:
                for event in sse_events(response):
                    seen.append(event)
        assert raised.value.code == (
            "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"
            if cut == "inside a UTF-8 character" and not broken
            else "CONTINUUM_STREAM_TRUNCATED"
        )
        assert len(seen) == 3

    def test_a_cut_after_the_end_marker_loses_nothing(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = Relay()
        relay.rewrite_response = rewrite_body(lambda body: body[: body.rindex(b"data: [DONE]")])
        relay.break_connection = True
        assert stream_text(openai_app, relay) == f"echo: {SECRET}"

    def test_a_stream_under_an_error_status_is_refused(self, openai_app: tuple[dict[str, Any], str]) -> None:
        relay = Relay()

        def to_503(captured: Captured) -> Captured:
            captured.status = 503
            captured.response_headers = [*captured.response_headers, ("x-should-retry", "true")]
            return captured

        relay.rewrite_response = to_503
        assert code_of(lambda: stream_text(openai_app, relay)) == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"

    def test_anthropic_event_names_are_sealed(self, anthropic_app: tuple[dict[str, Any], str]) -> None:
        relay = Relay()
        relay.rewrite_response = rewrite_body(lambda body: body.replace(b"event: ping", b"event: error", 1))
        with client(anthropic_app, relay) as http:
            response = send(
                http, "/v1/messages", messages_body(SECRET, stream=True), anthropic_headers(), stream=True
            )
            assert code_of(lambda: list(sse_events(response))) == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"

    def test_async_tampering_and_truncation(self, openai_app: tuple[dict[str, Any], str]) -> None:
        async def run(change: Callable[[bytes], bytes]) -> str:
            relay = AsyncRelay()
            relay.rewrite_response = rewrite_body(change)
            transport = AsyncContinuumTransport(key_id="k1", key=openai_app[1], transport=relay)
            async with httpx.AsyncClient(base_url=openai_app[0]["url"], transport=transport) as http:
                response = await asend(
                    http,
                    "/v1/chat/completions",
                    chat_body(SECRET, stream=True),
                    openai_headers(),
                    stream=True,
                )
                try:
                    return chat_stream_text([event async for event in asse_events(response)])
                except ContinuumError as error:
                    return error.code

        assert asyncio.run(run(lambda body: body)) == f"echo: {SECRET}"
        assert (
            asyncio.run(run(lambda body: flip_in(body, b'"content":"cp2.k1.', 9)))
            == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"
        )
        assert (
            asyncio.run(run(lambda body: body[: body.index(b"event: continuum.end")]))
            == "CONTINUUM_STREAM_TRUNCATED"
        )


class TestRequests:
    """A relay that changes the request: the server refuses it unsealed, the upstream never sees it."""

    @pytest.mark.parametrize(
        "attack",
        [
            "flip a plain field",
            "flip a ciphertext",
            "append a duplicate member",
            "add a query",
            "change a credential",
            "strip cache-control",
            "add an authorization header",
            "change the route",
        ],
    )
    def test_a_changed_request_never_reaches_the_upstream(
        self, server: Any, openai_app: tuple[dict[str, Any], str], attack: str
    ) -> None:
        def change(captured: Captured) -> Captured:
            if attack == "flip a plain field":
                captured.body = flip_in(captured.body, b'"model":"', 1)
            elif attack == "flip a ciphertext":
                captured.body = flip_in(captured.body, b'"content":"cp2.k1.', 9)
            elif attack == "append a duplicate member":
                captured.body = captured.body[:-1] + b',"model":"gpt-4o"}'
            elif attack == "add a query":
                captured.url += "?stream=true"
            elif attack == "change a credential":
                captured.headers = with_header(captured.headers, "authorization", "Bearer sk-attacker")
            elif attack == "strip cache-control":
                captured.headers = with_header(captured.headers, "cache-control", None)
            elif attack == "add an authorization header":
                captured.headers = with_header(captured.headers, "authorization", None)
                captured.headers = [*captured.headers, ("authorization", "Bearer sk-attacker")]
            elif attack == "change the route":
                captured.url = captured.url.replace("/v1/chat/completions", "/v1/completions")
            return captured

        relay = Relay()
        relay.rewrite_request = change
        server.clear_upstream("openai")
        headers = {**openai_headers(), "Cache-Control": "no-store"}
        if attack == "add an authorization header":
            headers.pop("Authorization")
        with client(openai_app, relay) as http:
            response = send(http, "/v1/chat/completions", chat_body(SECRET), headers)
        assert response.status_code in {400, 401}
        assert response.json()["error"]["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE"
        assert response.headers["x-should-retry"] == "false"
        assert server.upstream_requests("openai") == []

    def test_a_request_a_relay_sent_twice_is_answered_not_to_be_retried(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        # The relay sends the sealed request ahead once and keeps that answer: the client gets the
        # server's sealed 409 CONTINUUM_REPLAY_DETECTED, which the SDKs retry by status alone, so
        # the upstream would run the request once per retry. The sealed code says not to retry.
        relay = Relay()

        def ahead(captured: Any) -> None:
            headers = [(k, v) for k, v in captured.headers if k != "content-length"]
            relay.inner.handle_request(
                httpx.Request(captured.method, captured.url, headers=headers, content=captured.body)
            ).close()
            return None

        relay.answer = ahead
        server.clear_upstream("openai")
        with client(openai_app, relay) as http:
            response = send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "CONTINUUM_REPLAY_DETECTED"
        assert response.headers["x-should-retry"] == "false"
        assert len(server.upstream_requests("openai")) == 1

    def test_a_replayed_request_is_refused_and_runs_once(
        self, server: Any, openai_app: tuple[dict[str, Any], str]
    ) -> None:
        relay = Relay()
        server.clear_upstream("openai")
        with client(openai_app, relay) as http:
            send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
        sent = relay.exchanges[0]
        with httpx.Client() as attacker:
            replayed = attacker.post(
                sent.url,
                headers=[(k, v) for k, v in sent.headers if k != "content-length"],
                content=sent.body,
            )
        assert replayed.status_code == 409
        assert replayed.json()["error"]["code"] == "CONTINUUM_REPLAY_DETECTED"
        assert len(server.upstream_requests("openai")) == 1
        assert header(sent.headers, "x-continuum-seal") is not None
