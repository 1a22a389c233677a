"""The requests the official Python SDKs make, for a client the SDKs could not be installed for
here (PyPI is unreachable; only Debian's python3-httpx is). The openai (1.x) and anthropic (0.x)
SDKs build every call the same way: ``client.build_request(method, url, json=body, headers=...)``
with their default headers (JSON accept and content type, a User-Agent, the X-Stainless platform
headers, the credential, per-request retry count and timeout), then ``client.send(request,
stream=...)``; a stream is read with ``response.iter_bytes()`` through their SSE decoder, which
stops at ``data: [DONE]``. These helpers do exactly that, and decode streams as those SDKs do."""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Iterator

import httpx

PLATFORM = {
    "X-Stainless-Lang": "python",
    "X-Stainless-OS": "Linux",
    "X-Stainless-Arch": "x64",
    "X-Stainless-Runtime": "CPython",
    "X-Stainless-Runtime-Version": "3.11.2",
}


def openai_headers(api_key: str = "sk-test-openai", asynchronous: bool = False) -> dict[str, str]:
    return {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": "OpenAI/Python 1.99.9",
        **PLATFORM,
        "X-Stainless-Package-Version": "1.99.9",
        "X-Stainless-Async": "async:asyncio" if asynchronous else "false",
        "Authorization": f"Bearer {api_key}",
        "x-stainless-retry-count": "0",
        "x-stainless-read-timeout": "600",
    }


def anthropic_headers(
    api_key: str = "sk-ant-test", asynchronous: bool = False, helper: bool = False
) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": "Anthropic/Python 0.60.0",
        **PLATFORM,
        "X-Stainless-Package-Version": "0.60.0",
        "X-Stainless-Async": "async:asyncio" if asynchronous else "false",
        "X-Api-Key": api_key,
        "anthropic-version": "2023-06-01",
        "x-stainless-retry-count": "0",
        "x-stainless-timeout": "600",
    }
    if helper:
        headers["X-Stainless-Stream-Helper"] = "messages"
        headers["X-Stainless-Helper-Method"] = "stream"
    return headers


def chat_body(prompt: str, model: str = "llama-3-8b", **extra: Any) -> dict[str, Any]:
    """``client.chat.completions.create(model=..., messages=[...], **extra)``."""
    return {"messages": [{"role": "user", "content": prompt}], "model": model, **extra}


def tools_body(prompt: str, **extra: Any) -> dict[str, Any]:
    """A chat call with one function tool, as ``tools=[{"type": "function", ...}]``."""
    return chat_body(
        prompt,
        model="tool-call",
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Look a place up",
                    "parameters": {
                        "type": "object",
                        "properties": {"query": {"type": "string"}},
                        "required": ["query"],
                    },
                },
            }
        ],
        tool_choice="auto",
        **extra,
    )


def embeddings_body(inputs: list[str]) -> dict[str, Any]:
    """``client.embeddings.create(model=..., input=[...])`` (the SDK asks for base64 unless told float)."""
    return {"input": inputs, "model": "text-embedding-3-small", "encoding_format": "float"}


def messages_body(prompt: str, model: str = "claude-sonnet-4-20250514", **extra: Any) -> dict[str, Any]:
    """``client.messages.create(max_tokens=..., messages=[...], model=..., **extra)``."""
    return {"max_tokens": 1024, "messages": [{"role": "user", "content": prompt}], "model": model, **extra}


def send(
    client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str], stream: bool = False
) -> httpx.Response:
    request = client.build_request("POST", path, json=body, headers=headers)
    return client.send(request, stream=stream)


async def asend(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str], stream: bool = False
) -> httpx.Response:
    request = client.build_request("POST", path, json=body, headers=headers)
    return await client.send(request, stream=stream)


class SseEvent:
    def __init__(self, event: str | None, data: str) -> None:
        self.event = event
        self.data = data

    def json(self) -> Any:
        return json.loads(self.data)


class _Decoder:
    """The SDKs' SSE decoder: lines, ``event:`` and ``data:`` fields, dispatch at a blank line."""

    def __init__(self) -> None:
        self.buffer = b""
        self.event: str | None = None
        self.data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self.buffer += chunk
        events = []
        while True:
            cut = min(
                (index for index in (self.buffer.find(b"\n"), self.buffer.find(b"\r")) if index != -1),
                default=-1,
            )
            if cut == -1:
                return events
            line = self.buffer[:cut].decode()
            self.buffer = (
                self.buffer[cut + 1 :].lstrip(b"\n")
                if self.buffer[cut : cut + 1] == b"\r"
                else self.buffer[cut + 1 :]
            )
            if line == "":
                if self.data or self.event:
                    events.append(SseEvent(self.event, "\n".join(self.data)))
                self.event, self.data = None, []
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    self.event = value
                elif field == "data":
                    self.data.append(value)


def sse_events(response: httpx.Response) -> Iterator[SseEvent]:
    """What ``openai.Stream`` / ``anthropic.Stream`` iterate over; stops at ``[DONE]``."""
    decoder = _Decoder()
    for chunk in response.iter_bytes():
        for event in decoder.feed(chunk):
            if event.data.startswith("[DONE]"):
                return
            yield event


async def asse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    decoder = _Decoder()
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            if event.data.startswith("[DONE]"):
                return
            yield event


def chat_stream_text(events: list[SseEvent]) -> str:
    return "".join(
        choice["delta"].get("content") or "" for event in events for choice in event.json()["choices"]
    )


def stream_chat(client: httpx.Client, prompt: str) -> str:
    """``client.chat.completions.create(..., stream=True)`` read to its end: the streamed text."""
    response = send(
        client, "/v1/chat/completions", chat_body(prompt, stream=True), openai_headers(), stream=True
    )
    try:
        return chat_stream_text(list(sse_events(response)))
    finally:
        response.close()


async def astream_chat(client: httpx.AsyncClient, prompt: str) -> str:
    """The same with ``AsyncOpenAI``."""
    response = await asend(
        client,
        "/v1/chat/completions",
        chat_body(prompt, stream=True),
        openai_headers(asynchronous=True),
        stream=True,
    )
    try:
        return chat_stream_text([event async for event in asse_events(response)])
    finally:
        await response.aclose()
