"""The transports' own rules, without a server: options validated at construction, the path rule
(a body never goes in clear to a path the client does not know as plain), bounded reading of
hostile answers (huge, deep, endless lines), and secrets kept out of reprs and error messages."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest

from continuum_client import Agreement, AsyncContinuumTransport, ContinuumError, ContinuumTransport, SharedKey
from continuum_client.keys import create_field_key
from sdk_requests import chat_body, openai_headers, send

KEY = os.urandom(32)
SECRET = "the launch code is 0000"


class Recorder(httpx.MockTransport):
    """An attacker-controlled (or absent) server: records what reached it and answers as told."""

    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            request.read()
            self.seen.append(request)
            return answer if answer is not None else httpx.Response(200, json={"ok": True})

        super().__init__(handler)


def code_of(run: Any) -> str:
    with pytest.raises(ContinuumError) as raised:
        run()
    return raised.value.code


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"key_id": "k1"},
        {"key": KEY},
        {"key_id": "k1", "key": KEY, "keys": lambda: SharedKey("k1", KEY)},
        {"key_id": "bad id!", "key": KEY},
        {"key_id": "k1", "key": b"short"},
        {"key_id": "k1", "key": "not a key"},
        {"key_id": "k1", "key": KEY, "plain_paths": "/v1/files"},
        {"key_id": "k1", "key": KEY, "plain_paths": ["/v1/files/"]},
        {"key_id": "k1", "key": KEY, "max_response_bytes": 0},
        {"keys": "not callable"},
        {"agreement": {"fingerprint": "sha256:00"}},
        {"key_id": "k1", "key": KEY, "transport": httpx.AsyncHTTPTransport()},
    ],
)
def test_invalid_options_are_refused_at_construction(options: dict[str, Any]) -> None:
    assert code_of(lambda: ContinuumTransport(**options)) == "CONTINUUM_INVALID_OPTIONS"


def test_the_async_transport_refuses_a_sync_inner_transport_at_construction() -> None:
    # Before, the slip surfaced only on the first request, as an AttributeError (masked by another in aclose).
    refused = code_of(lambda: AsyncContinuumTransport(key_id="k1", key=KEY, transport=httpx.HTTPTransport()))
    assert refused == "CONTINUUM_INVALID_OPTIONS"


def test_key_material_encodings() -> None:
    for material in [KEY, KEY.hex(), KEY.hex().upper()]:
        ContinuumTransport(key_id="k1", key=material)
    import base64

    ContinuumTransport(key_id="k1", key=base64.urlsafe_b64encode(KEY).decode().rstrip("="))
    ContinuumTransport(key_id="k1", key=base64.b64encode(KEY).decode())


@pytest.mark.parametrize(
    "path",
    [
        "/v1/chat/completions/",
        "/v1//chat/completions",
        "/v1/chat%2Fcompletions",
        "/v1/chat/%2E%2E/chat/completions",
        "/v1/chat/completions%2e",
        "/V1/chat/completions",
        "/v1/chat/completion",
        "/v1/files",
        "/v1\\chat/completions",
    ],
)
def test_a_body_never_goes_in_clear_to_a_path_the_client_does_not_know(path: str) -> None:
    recorder = Recorder()
    transport = ContinuumTransport(key_id="k1", key=KEY, transport=recorder)
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        assert (
            code_of(lambda: send(http, path, chat_body(SECRET), openai_headers()))
            == "CONTINUUM_CLIENT_PATH_REFUSED"
        )
    assert recorder.seen == []


def test_declared_plain_paths_and_bodyless_requests_pass_untouched() -> None:
    recorder = Recorder()
    transport = ContinuumTransport(key_id="k1", key=KEY, transport=recorder, plain_paths=["/v1/files"])
    with httpx.Client(base_url="http://gpu.test/llm", transport=transport) as http:
        http.post("/v1/files", content=b"raw upload")
        http.get("/v1/models")
        http.get("/v1/anything/else")
        http.post("/api/show", json={"name": "llama3"})
    assert [request.content for request in recorder.seen] == [b"raw upload", b"", b"", b'{"name": "llama3"}']
    assert all("x-continuum-encryption" not in request.headers for request in recorder.seen)


@pytest.mark.parametrize("body", [b'"a bare string"', b"[1, 2]", b"null", b"{not json", b"", b'{"a": NaN}'])
def test_a_body_that_is_not_a_json_object_is_refused_before_sending(body: bytes) -> None:
    recorder = Recorder()
    transport = ContinuumTransport(key_id="k1", key=KEY, transport=recorder)
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        assert code_of(
            lambda: http.post(
                "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
            )
        ) == ("CONTINUUM_INVALID_JSON")
    assert recorder.seen == []


def test_what_the_request_carries_on_the_wire() -> None:
    recorder = Recorder(httpx.Response(502, text="bad gateway"))
    transport = ContinuumTransport(key_id="k1", key=KEY, transport=recorder, clock=lambda: 1_700_000_000_123)
    with httpx.Client(base_url="http://gpu.test/gpu1", transport=transport) as http:
        headers = {**openai_headers(), "X-Continuum-Seal": "forged", "Cache-Control": "no-store"}
        response = send(
            http, "/v1/chat/completions?api-version=1&b=x+y", chat_body(SECRET, temperature=0.5), headers
        )
    assert response.status_code == 502 and response.headers["x-should-retry"] == "false"
    sent = recorder.seen[0]
    assert sent.headers["x-continuum-encryption"] == "cp2"
    assert sent.headers["x-continuum-timestamp"] == "1700000000123"
    assert (
        sent.headers["x-continuum-seal"] != "forged" and len(sent.headers.get_list("x-continuum-seal")) == 1
    )
    assert len(sent.headers["x-continuum-nonce"]) == 22
    listed = sent.headers["x-continuum-sealed-headers"].split(",")
    assert listed == sorted(listed)
    assert {"authorization", "cache-control", "content-type", "user-agent", "x-stainless-retry-count"} <= set(
        listed
    )
    assert not {"host", "content-length", "accept-encoding", "connection"} & set(listed)
    body = json.loads(sent.content)
    assert body["model"] == "llama-3-8b" and body["temperature"] == 0.5
    assert body["messages"][0]["role"] == "user" and body["messages"][0]["content"].startswith("cp2.k1.")
    assert SECRET not in sent.content.decode()
    assert sent.url.query == b"api-version=1&b=x+y"


def _answer(status: int, body: bytes, content_type: str, encrypted: bool = True) -> httpx.Response:
    headers = {"content-type": content_type, "x-continuum-seal": "A" * 43}
    if encrypted:
        headers["x-continuum-encrypted"] = "1"
    return httpx.Response(status, headers=headers, content=body)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (_answer(200, b"x" * 5000, "application/json"), "CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE"),
        (_answer(200, b"[" * 1500 + b"]" * 1500, "application/json"), "CONTINUUM_RESPONSE_INTEGRITY_FAILED"),
        (_answer(200, b'{"a":1e400}', "application/json"), "CONTINUUM_RESPONSE_INTEGRITY_FAILED"),
        (_answer(200, b"{}", "text/plain"), "CONTINUUM_RESPONSE_INTEGRITY_FAILED"),
        (_answer(200, b"{}", "application/json", encrypted=False), "CONTINUUM_RESPONSE_INTEGRITY_FAILED"),
    ],
    ids=["too large", "too deep", "1e400", "not JSON", "unencrypted success"],
)
def test_hostile_json_answers(answer: httpx.Response, code: str) -> None:
    transport = ContinuumTransport(key_id="k1", key=KEY, transport=Recorder(answer), max_response_bytes=4096)
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        assert (
            code_of(lambda: send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())) == code
        )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"data: " + b"x" * (9 * 1024 * 1024), "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"),
        ((b"data: " + b"x" * 100 + b"\n") * 90_000, "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"),
        (b"data: \xff\xfe\n\n", "CONTINUUM_UPSTREAM_PROTOCOL_ERROR"),
        (b": only comments\n\n" * 100, "CONTINUUM_STREAM_TRUNCATED"),
        (b"", "CONTINUUM_STREAM_TRUNCATED"),
        (b'data: {"error":{"message":"re-enter your key"}}\n\n', "CONTINUUM_RESPONSE_INTEGRITY_FAILED"),
        (b"event: continuum.end\ndata: not json\n\n", "CONTINUUM_RESPONSE_INTEGRITY_FAILED"),
        (b"data: [DONE]\n\n", "CONTINUUM_STREAM_TRUNCATED"),
    ],
    ids=[
        "endless line",
        "endless event",
        "not UTF-8",
        "comments only",
        "empty",
        "in-band error",
        "bad end marker",
        "bare [DONE]",
    ],
)
def test_hostile_streams_are_bounded_and_refused(body: bytes, code: str) -> None:
    transport = ContinuumTransport(
        key_id="k1", key=KEY, transport=Recorder(_answer(200, body, "text/event-stream"))
    )
    with httpx.Client(base_url="http://gpu.test", transport=transport) as http:
        response = send(
            http, "/v1/chat/completions", chat_body(SECRET, stream=True), openai_headers(), stream=True
        )
        assert code_of(response.read) == code


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    key = create_field_key("k1", KEY)
    for text in [repr(key), repr(SharedKey("k1", KEY)), repr(Agreement(trust_on_first_use=True))]:
        assert KEY.hex() not in text and str(KEY) not in text
    error = ContinuumError(
        "CONTINUUM_DECRYPTION_FAILED", "Field /messages/0/content failed to decrypt", details={"path": "/x"}
    )
    assert error.to_json() == {
        "error": {
            "path": "/x",
            "code": "CONTINUUM_DECRYPTION_FAILED",
            "message": "Field /messages/0/content failed to decrypt",
            "type": "integrity_error",
        }
    }
