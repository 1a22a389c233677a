"""Key life cycle against the real middleware: X25519 agreement with a pinned fingerprint (a wrong
pin refused before any content leaves), explicit trust on first use, and rotation: a sealed
retired-key notice makes the client refresh and retry once, so the SDK never notices and the
upstream runs the request once; an unsealed or forged notice is never acted on."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from continuum_client import Agreement, AsyncContinuumTransport, ContinuumError, ContinuumTransport, SharedKey
from continuum_client.agreement import fingerprint
from continuum_client.encoding import b64url_encode
from relays import Captured, Relay
from sdk_requests import asend, chat_body, openai_headers, send

SECRET = "the launch code is 0000"


def agreement_key(key_id: str) -> dict[str, str]:
    return {"id": key_id, "privateKeyHex": os.urandom(32).hex()}


def ask(http: httpx.Client) -> httpx.Response:
    return send(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())


def reply(response: httpx.Response) -> str:
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def client(app: dict[str, Any], transport: httpx.BaseTransport) -> httpx.Client:
    return httpx.Client(base_url=app["url"], transport=transport, timeout=30)


class SilentServer:
    """A server that accepts connections, reads, and never answers, until the test ends. It gives up
    after a minute, so a client that would wait for ever fails the test rather than hanging it."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        held = []
        self._listener.settimeout(0.05)
        deadline = time.monotonic() + 60
        while not self._done.is_set() and time.monotonic() < deadline:
            try:
                held.append(self._listener.accept()[0])
            except OSError:
                continue
        for connection in held:
            connection.close()

    def __enter__(self) -> str:
        self._thread.start()
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self._listener.close()


class TestAgreement:
    @pytest.mark.parametrize("mount", ["", "/llm"])
    def test_a_pinned_key_agrees_and_encrypts(self, server: Any, mount: str) -> None:
        app = server.app("openai", mount=mount, agreementKeys=[agreement_key("agree-1")])
        relay = Relay()
        transport = ContinuumTransport(
            agreement=Agreement(fingerprint=app["agreement"]["fingerprint"]), transport=relay
        )
        with client(app, transport) as http:
            assert reply(ask(http)) == f"echo: {SECRET}"
            assert reply(ask(http)) == f"echo: {SECRET}"
        # One key fetch at the mount point, then two requests under the agreed key.
        assert [exchange.method for exchange in relay.exchanges] == ["GET", "POST", "POST"]
        assert relay.exchanges[0].url == f"{app['url']}/.well-known/continuum-key"
        assert b"cp2.agree-1." in relay.exchanges[1].body
        assert "launch code" not in relay.wire_text()

    def test_a_wrong_pin_is_refused_before_content_leaves(self, server: Any) -> None:
        app = server.app("openai", agreementKeys=[agreement_key("agree-1")])
        relay = Relay()
        wrong = fingerprint(os.urandom(32))
        with client(app, ContinuumTransport(agreement=Agreement(fingerprint=wrong), transport=relay)) as http:
            with pytest.raises(ContinuumError) as refused:
                ask(http)
        assert refused.value.code == "CONTINUUM_SERVER_KEY_MISMATCH"
        assert [exchange.method for exchange in relay.exchanges] == ["GET"]

    def test_a_key_document_swapped_on_the_path_is_refused(self, server: Any) -> None:
        app = server.app("openai", agreementKeys=[agreement_key("agree-1")])
        attacker = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        relay = Relay()

        def swap(captured: Captured) -> Captured:
            if captured.method == "GET":
                document = json.loads(captured.response_body)
                document["publicKey"] = b64url_encode(attacker)
                captured.response_body = json.dumps(document).encode()
            return captured

        relay.rewrite_response = swap
        with client(
            app,
            ContinuumTransport(
                agreement=Agreement(fingerprint=app["agreement"]["fingerprint"]), transport=relay
            ),
        ) as http:
            with pytest.raises(ContinuumError) as refused:
                ask(http)
        assert refused.value.code == "CONTINUUM_SERVER_KEY_MISMATCH"
        assert len(relay.exchanges) == 1

    def test_a_key_endpoint_that_never_answers_times_out_as_the_client_says(self) -> None:
        # The key fetch is a request of the caller's: it keeps the client's timeout, or a server (or
        # anyone on the path) that accepts and never answers holds every request, sync and async.
        with SilentServer() as url:
            pinned = Agreement(fingerprint=fingerprint(os.urandom(32)))
            transport = ContinuumTransport(agreement=pinned)
            with httpx.Client(base_url=url, transport=transport, timeout=0.5) as http:
                with pytest.raises(httpx.ReadTimeout):
                    ask(http)

            async def run() -> None:
                transport = AsyncContinuumTransport(agreement=pinned)
                async with httpx.AsyncClient(base_url=url, transport=transport, timeout=0.5) as http:
                    await asend(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())

            with pytest.raises(httpx.ReadTimeout):
                asyncio.run(run())

    def test_neither_pin_nor_trust_on_first_use_is_a_configuration_error(self) -> None:
        for options in [
            {},
            {"fingerprint": "sha256:" + "0" * 64, "trust_on_first_use": True},
            {"fingerprint": "SHA256:AB"},
        ]:
            with pytest.raises(ContinuumError) as refused:
                Agreement(**options)
            assert refused.value.code == "CONTINUUM_INVALID_OPTIONS"

    def test_trust_on_first_use_follows_a_sealed_rotation_only(self, server: Any) -> None:
        app = server.app("openai", agreementKeys=[agreement_key("agree-1")], graceMs=0)
        relay = Relay()
        transport = ContinuumTransport(agreement=Agreement(trust_on_first_use=True), transport=relay)
        with client(app, transport) as http:
            assert reply(ask(http)) == f"echo: {SECRET}"
            server.clear_upstream("openai")
            rotated = server.rotate(app, agreementKey=agreement_key("agree-2"))
            relay.exchanges.clear()
            # The old key is retired: a sealed notice names the successor; the client trusts it and retries.
            assert reply(ask(http)) == f"echo: {SECRET}"
            assert [exchange.method for exchange in relay.exchanges] == ["POST", "GET", "POST"]
            assert relay.exchanges[0].status == 401
            assert (
                json.loads(relay.exchanges[0].response_body)["error"]["successor"]["fingerprint"]
                == rotated["fingerprint"]
            )
            assert b"cp2.agree-2." in relay.exchanges[2].body
            assert len(server.upstream_requests("openai")) == 1

    def test_trust_on_first_use_refuses_a_key_no_sealed_notice_named(self, server: Any) -> None:
        app = server.app("openai", agreementKeys=[agreement_key("agree-1")], graceMs=0)
        relay = Relay()
        transport = ContinuumTransport(agreement=Agreement(trust_on_first_use=True), transport=relay)
        with client(app, transport) as http:
            assert reply(ask(http)) == f"echo: {SECRET}"
            server.rotate(app, agreementKey=agreement_key("agree-2"))
            attacker = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

            def swap(captured: Captured) -> Captured:
                if captured.method == "GET":
                    captured.response_body = json.dumps(
                        {
                            "keyId": "agree-9",
                            "algorithm": "X25519-HKDF-SHA256",
                            "publicKey": b64url_encode(attacker),
                            "fingerprint": fingerprint(attacker),
                        }
                    ).encode()
                return captured

            relay.rewrite_response = swap
            with pytest.raises(ContinuumError) as refused:
                ask(http)
        assert refused.value.code == "CONTINUUM_SERVER_KEY_MISMATCH"

    def test_a_pin_is_not_moved_by_a_rotation(self, server: Any) -> None:
        app = server.app("openai", agreementKeys=[agreement_key("agree-1")], graceMs=0)
        transport = ContinuumTransport(agreement=Agreement(fingerprint=app["agreement"]["fingerprint"]))
        with client(app, transport) as http:
            assert reply(ask(http)) == f"echo: {SECRET}"
            server.rotate(app, agreementKey=agreement_key("agree-2"))
            with pytest.raises(ContinuumError) as refused:
                ask(http)
        assert refused.value.code == "CONTINUUM_SERVER_KEY_MISMATCH"

    def test_async_agreement(self, server: Any) -> None:
        app = server.app("openai", agreementKeys=[agreement_key("agree-1")])

        async def run() -> list[str]:
            transport = AsyncContinuumTransport(
                agreement=Agreement(fingerprint=app["agreement"]["fingerprint"])
            )
            async with httpx.AsyncClient(base_url=app["url"], transport=transport, timeout=30) as http:
                answers = await asyncio.gather(
                    *(
                        asend(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
                        for _ in range(4)
                    )
                )
            return [reply(answer) for answer in answers]

        assert asyncio.run(run()) == [f"echo: {SECRET}"] * 4


class TestRotation:
    def test_a_key_provider_is_asked_again_after_a_sealed_retirement(self, server: Any) -> None:
        old, new = os.urandom(32).hex(), os.urandom(32).hex()
        app = server.app("openai", keys=[{"id": "k-old", "keyHex": old}], graceMs=0)
        current = [SharedKey("k-old", old)]
        asked: list[str] = []

        def provider() -> SharedKey:
            asked.append(current[0].key_id)
            return current[0]

        relay = Relay()
        with client(app, ContinuumTransport(keys=provider, transport=relay)) as http:
            assert reply(ask(http)) == f"echo: {SECRET}"
            server.rotate(app, key={"id": "k-new", "keyHex": new})
            current[0] = SharedKey("k-new", new)
            server.clear_upstream("openai")
            assert reply(ask(http)) == f"echo: {SECRET}"
            assert reply(ask(http)) == f"echo: {SECRET}"
        assert asked == ["k-old", "k-new"]
        assert [exchange.status for exchange in relay.exchanges] == [200, 401, 200, 200]
        assert len(server.upstream_requests("openai")) == 2

    def test_an_async_provider(self, server: Any) -> None:
        old, new = os.urandom(32).hex(), os.urandom(32).hex()
        app = server.app("openai", keys=[{"id": "k-old", "keyHex": old}], graceMs=0)
        current = [SharedKey("k-old", old)]

        async def provider() -> SharedKey:
            await asyncio.sleep(0)
            return current[0]

        async def run() -> list[str]:
            transport = AsyncContinuumTransport(keys=provider)
            async with httpx.AsyncClient(base_url=app["url"], transport=transport, timeout=30) as http:
                first = await asend(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
                server.rotate(app, key={"id": "k-new", "keyHex": new})
                current[0] = SharedKey("k-new", new)
                second = await asend(http, "/v1/chat/completions", chat_body(SECRET), openai_headers())
            return [reply(first), reply(second)]

        assert asyncio.run(run()) == [f"echo: {SECRET}"] * 2

    def test_a_fixed_key_retries_once_then_hands_the_sealed_notice_to_the_sdk(self, server: Any) -> None:
        old, new = os.urandom(32).hex(), os.urandom(32).hex()
        app = server.app("openai", keys=[{"id": "k-old", "keyHex": old}], graceMs=0)
        relay = Relay()
        with client(app, ContinuumTransport(key_id="k-old", key=old, transport=relay)) as http:
            server.rotate(app, key={"id": "k-new", "keyHex": new})
            response = ask(http)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "CONTINUUM_KEY_RETIRED"
        assert len(relay.exchanges) == 2

    def test_a_retired_key_without_a_sealed_notice_is_not_retried(self, server: Any) -> None:
        key = os.urandom(32).hex()
        app = server.app(
            "openai", keys=[{"id": "k1", "keyHex": key}, {"id": "k2", "keyHex": os.urandom(32).hex()}]
        )
        asked: list[int] = []

        def provider() -> SharedKey:
            asked.append(1)
            return SharedKey("k1", key)

        relay = Relay()
        with client(app, ContinuumTransport(keys=provider, transport=relay)) as http:
            server.retire(app, "k1")
            response = ask(http)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "CONTINUUM_UNAUTHENTICATED_RESPONSE"
        assert len(relay.exchanges) == 1 and asked == [1]
