"""Client-side cost of the Python client per request, in-process (no sockets, like the Node
``cipher`` suite): sealing a 2 KB chat request and verifying and decrypting its 0.7 KB answer,
and verifying and decrypting a 1,000-chunk SSE stream. Each case is measured twice: the
protocol work alone (ClientCore and StreamOpener), and the whole path an SDK call takes through
``httpx.Client`` and ``ContinuumTransport`` over an in-memory server answer (httpx's own
request and response handling included). The server's answers are sealed in advance under a
fixed nonce, so only client work is timed. Run: ``sh clients/python/python.sh clients/python/bench/client_cost.py``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import cryptography  # noqa: E402
import httpx  # noqa: E402

from continuum_client import ContinuumTransport  # noqa: E402
from continuum_client.exchange import ClientCore  # noqa: E402
from continuum_client.field_cipher import CipherContext, compute_seal  # noqa: E402
from continuum_client.field_map import encrypt_fields  # noqa: E402
from continuum_client.key_source import ResolvedKey  # noqa: E402
from continuum_client.keys import create_field_key  # noqa: E402
from continuum_client.routes import RouteTable  # noqa: E402
from continuum_client.stream_opener import StreamOpener  # noqa: E402

KEY = os.urandom(32)
NONCE = os.urandom(16)
FIELD_KEY = create_field_key("bench", KEY)
ROUTES = RouteTable.builtin()
CHAT = ROUTES.lookup_suffix("POST", "/v1/chat/completions")
assert CHAT is not None and CHAT.route.stream is not None

# The Node suites' 2 KB chat request (bench/support/chat-load.ts) and 0.7 KB answer (bench/cipher.bench.ts).
CHAT_BODY = {
    "model": "bench",
    "max_tokens": 128,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. " * 10},
        {"role": "user", "content": "Summarise the following text. " * 55},
    ],
}
ANSWER = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": "bench",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "x" * 512}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 500, "completion_tokens": 128, "total_tokens": 628},
}
CHUNK = {
    "id": "chatcmpl-bench",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": "bench",
    "choices": [{"index": 0, "delta": {"content": "token "}, "finish_reason": None}],
}
HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "OpenAI/Python 1.99.9",
    "Authorization": "Bearer sk-bench",
    "X-Stainless-Lang": "python",
    "x-stainless-retry-count": "0",
}


def response_context() -> CipherContext:
    from continuum_client.encoding import b64url_encode

    return CipherContext(FIELD_KEY, b64url_encode(NONCE), "response")


def sealed_answer() -> tuple[bytes, str]:
    context = response_context()
    body = encrypt_fields(CHAT.route.response_tree, ANSWER, context, 0)
    return json.dumps(body, separators=(",", ":")).encode(), compute_seal(context, 0, "response", "200", body)


def sealed_stream(count: int) -> bytes:
    context = response_context()
    parts = []
    for sequence in range(count):
        event = encrypt_fields(CHAT.route.stream.tree, CHUNK, context, sequence)  # type: ignore[union-attr]
        event["continuum_seal"] = compute_seal(context, sequence, "event", "", event)
        parts.append(f"data: {json.dumps(event, separators=(',', ':'))}\n\n")
    marker = {"continuum_end": {"events": count}}
    marker["continuum_seal"] = compute_seal(context, count, "end", str(count), marker)  # type: ignore[assignment]
    parts.append(
        f"event: continuum.end\ndata: {json.dumps(marker, separators=(',', ':'))}\n\ndata: [DONE]\n\n"
    )
    return "".join(parts).encode()


def micros(run: Callable[[], Any], rounds: int, per_round: int = 1, repeats: int = 5) -> tuple[float, float]:
    """Microseconds per call: the lowest of ``repeats`` medians (each over ``rounds`` samples of
    ``per_round`` calls), and the p99 of every sample. On a machine shared with other work the
    lowest median is the one least disturbed by it; the p99 shows the disturbance."""
    for _ in range(max(rounds // 10, 5)):
        run()
    medians = []
    samples: list[float] = []
    for _ in range(repeats):
        batch = []
        for _ in range(rounds):
            started = time.perf_counter_ns()
            run()
            batch.append((time.perf_counter_ns() - started) / 1000 / per_round)
        medians.append(statistics.median(batch))
        samples.extend(batch)
    samples.sort()
    return min(medians), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    answer_body, answer_seal = sealed_answer()
    answer_headers = {
        "content-type": "application/json",
        "x-continuum-encrypted": "1",
        "x-continuum-seal": answer_seal,
    }
    stream_body = sealed_stream(1000)
    stream_headers = {"content-type": "text/event-stream; charset=utf-8", "x-continuum-encrypted": "1"}
    core = ClientCore(ROUTES, (), lambda: int(time.time() * 1000), 1 << 26, nonce=lambda: NONCE)
    resolved = ResolvedKey(FIELD_KEY, {"x-continuum-key-id": "bench"})
    request_bytes = json.dumps(CHAT_BODY).encode()
    assert len(request_bytes) > 2000
    url = "http://gpu.test/v1/chat/completions"

    # The caller's request and the server's answer exist without the client (httpx builds them):
    # this row times only what the client adds.
    caller = httpx.Request("POST", url, headers=HEADERS, content=request_bytes)
    wire_answer = httpx.Response(200, headers=answer_headers, content=answer_body)

    def exchange() -> None:
        match = core.classify(caller)
        assert match is not None
        sealed = core.seal(core.plan(caller, match, request_bytes), resolved)
        opened = core.open_json(sealed, wire_answer, answer_body)
        assert opened.response.status_code == 200

    pieces = [stream_body[start : start + 16384] for start in range(0, len(stream_body), 16384)]

    def stream() -> None:
        opener = StreamOpener(CHAT.route.stream, response_context())  # type: ignore[arg-type]
        out = 0
        for piece in pieces:
            out += len(opener.push(piece))
        out += len(opener.finish())
        assert opener.events == 1000 and out > 0

    def answers(request: httpx.Request) -> httpx.Response:
        streaming = b'"stream":true' in request.content
        return httpx.Response(
            200,
            headers=stream_headers if streaming else answer_headers,
            content=stream_body if streaming else answer_body,
        )

    transport = ContinuumTransport(
        key_id="bench", key=KEY, transport=httpx.MockTransport(answers), _nonce=lambda: NONCE
    )
    client = httpx.Client(transport=transport)

    def sdk_call() -> None:
        request = client.build_request("POST", url, json=CHAT_BODY, headers=HEADERS)
        assert client.send(request).json()["usage"]["total_tokens"] == 628

    plain_answer = json.dumps(ANSWER).encode()
    plain_client = httpx.Client(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(
                200, headers={"content-type": "application/json"}, content=plain_answer
            )
        )
    )

    def plain_call() -> None:
        request = plain_client.build_request("POST", url, json=CHAT_BODY, headers=HEADERS)
        assert plain_client.send(request).json()["usage"]["total_tokens"] == 628

    def sdk_stream() -> None:
        request = client.build_request("POST", url, json={**CHAT_BODY, "stream": True}, headers=HEADERS)
        response = client.send(request, stream=True)
        size = sum(len(chunk) for chunk in response.iter_bytes())
        assert size > 0

    rows = [
        (
            "2 KB chat request: classify, encrypt, seal; verify and decrypt the 0.7 KB answer",
            micros(exchange, 1000),
        ),
        (
            "the same SDK call through httpx.Client and ContinuumTransport (in-memory answer)",
            micros(sdk_call, 1000),
        ),
        ("the same call through httpx.Client without encryption (the floor)", micros(plain_call, 1000)),
        ("1,000-chunk SSE stream: verify, decrypt, re-frame (per chunk)", micros(stream, 10, 1000)),
        (
            "the same stream through httpx.Client and ContinuumTransport (per chunk)",
            micros(sdk_stream, 10, 1000),
        ),
    ]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), httpx {httpx.__version__}, "
        f"cryptography {cryptography.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load}\n"
    )
    print("| client-side operation (Python) | p50 µs | p99 µs |")
    print("| --- | --- | --- |")
    for name, (p50, p99) in rows:
        print(f"| {name} | {p50:.1f} | {p99:.1f} |")
    whole = micros(stream, 10)
    print(f"\nA whole 1,000-chunk stream: p50 {whole[0] / 1000:.1f} ms, p99 {whole[1] / 1000:.1f} ms.")


if __name__ == "__main__":
    main()
