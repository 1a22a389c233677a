"""The shared protocol vectors (test/fixtures/protocol-vectors.json), which the TypeScript protocol
test checks against the server's code: the Python client must produce and accept exactly the same
bytes. Field layout and seals are also recomputed here from the raw primitives of the
``cryptography`` package, so the vectors are checked against the spec, not only against the code."""

from __future__ import annotations

import json
import random
import struct
from typing import Any, Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC

from conftest import REPO_ROOT
from continuum_client import ContinuumError
from continuum_client.agreement import derive_agreed_key, fingerprint, public_bytes
from continuum_client.canonical_json import canonical_json, format_number, parse_json
from continuum_client.encoding import b64url_decode, b64url_encode
from continuum_client.exchange import ClientCore
from continuum_client.field_cipher import CipherContext, compute_seal, decrypt_value, encrypt_value
from continuum_client.field_map import decrypt_fields, encrypt_fields
from continuum_client.key_source import ResolvedKey
from continuum_client.keys import create_field_key
from continuum_client.messages import open_response, verify_end_marker
from continuum_client.request_binding import (
    canonical_query,
    request_seal_meta,
    sealed_header_block,
    sealed_header_list,
)
from continuum_client.routes import RouteTable
from continuum_client.stream_opener import StreamOpener

ROUTES = RouteTable.builtin()


def fixed_ivs(hexes: list[str]) -> Any:
    pending: Iterator[str] = iter(hexes)
    return lambda: bytes.fromhex(next(pending))


def context(vectors: dict[str, Any], direction: str) -> CipherContext:
    key = create_field_key(vectors["context"]["keyId"], bytes.fromhex(vectors["context"]["keyHex"]))
    return CipherContext(key, vectors["context"]["nonce"], direction)


def raw_seal(seal_key: bytes, text: bytes) -> str:
    mac = HMAC(seal_key, hashes.SHA256())
    mac.update(text)
    return b64url_encode(mac.finalize())


class TestPublished:
    """docs/PROTOCOL.md section 9, from raw primitives."""

    def test_seal_key_is_hkdf_of_the_field_key(self, vectors: dict[str, Any]) -> None:
        published = vectors["published"]["fieldKey"]
        key = create_field_key(published["keyId"], bytes.fromhex(published["keyHex"]))
        assert key.seal_key.hex() == published["sealKeyHex"]

    def test_field_ciphertext_layout(self, vectors: dict[str, Any]) -> None:
        published = vectors["published"]
        field = published["field"]
        key = create_field_key("k1", bytes.fromhex(published["fieldKey"]["keyHex"]))
        request = CipherContext(key, field["nonce"], "request")
        iv = bytes.fromhex(field["ivHex"])
        assert encrypt_value(request, 0, field["path"], field["value"], lambda: iv) == field["ciphertext"]
        payload = b64url_decode(field["ciphertext"].split(".")[2])
        assert payload is not None and payload[:12] == iv
        raw = AESGCM(bytes.fromhex(published["fieldKey"]["keyHex"]))
        assert raw.decrypt(iv, payload[12:], field["aad"].encode()).decode() == field["plaintext"]
        assert decrypt_value(request, 0, field["path"], field["ciphertext"]) == field["value"]
        # Moved to another path, sequence or direction, it does not decrypt.
        for moved in [
            (0, "/messages/1/content", request),
            (1, field["path"], request),
            (0, field["path"], request.reversed()),
        ]:
            with pytest.raises(ContinuumError) as refused:
                decrypt_value(moved[2], moved[0], moved[1], field["ciphertext"])
            assert refused.value.code == "CONTINUUM_DECRYPTION_FAILED"

    def test_request_seal_from_its_parts(self, vectors: dict[str, Any]) -> None:
        published = vectors["published"]
        seal = published["requestSeal"]
        assert canonical_query(seal["search"]) == seal["canonicalQuery"]
        names = sealed_header_list(seal["headers"])
        assert ",".join(names) == seal["sealedHeaders"]
        meta = request_seal_meta(
            seal["method"],
            seal["routePath"],
            seal["canonicalQuery"],
            seal["timestamp"],
            sealed_header_block(names, seal["headers"].get),
        )
        assert meta == seal["meta"]
        assert canonical_json(seal["body"]).decode() == seal["canonicalBody"]
        request = context(vectors, "request")
        assert compute_seal(request, 0, "request", meta, seal["body"]) == seal["seal"]
        text = f"cp2|k1|{published['field']['nonce']}|request|0|request|{len(meta.encode())}:{meta}|{seal['canonicalBody']}"
        assert raw_seal(bytes.fromhex(published["fieldKey"]["sealKeyHex"]), text.encode()) == seal["seal"]

    def test_response_event_marker_and_error_seals(self, vectors: dict[str, Any]) -> None:
        published = vectors["published"]
        response = context(vectors, "response")
        assert (
            compute_seal(response, 0, "response", "200", published["responseSeal"]["body"])
            == published["responseSeal"]["seal"]
        )
        event = published["eventSeal"]
        assert (
            compute_seal(response, event["sequence"], "event", event["eventName"], event["event"])
            == event["seal"]
        )
        end = published["endMarker"]
        assert verify_end_marker(response, end["events"], end["marker"]) is None
        failure = published["failureMarker"]
        reported = verify_end_marker(response, failure["events"], failure["marker"])
        assert reported is not None and reported.code == failure["failure"]["code"]
        error = published["errorSeal"]
        assert compute_seal(response, 0, "error", str(error["status"]), error["body"]) == error["seal"]

    def test_markers_do_not_verify_at_another_count_or_as_each_other(self, vectors: dict[str, Any]) -> None:
        published = vectors["published"]
        response = context(vectors, "response")
        end = published["endMarker"]
        failure = published["failureMarker"]
        disguised = {
            "continuum_end": failure["marker"]["continuum_end"],
            "continuum_seal": end["marker"]["continuum_seal"],
        }
        for count, marker in [(end["events"] - 1, end["marker"]), (failure["events"], disguised)]:
            with pytest.raises(ContinuumError) as refused:
                verify_end_marker(response, count, marker)
            assert refused.value.code == "CONTINUUM_RESPONSE_INTEGRITY_FAILED"

    def test_key_agreement(self, vectors: dict[str, Any]) -> None:
        agreement = vectors["published"]["agreement"]
        server = X25519PrivateKey.from_private_bytes(bytes.fromhex(agreement["serverPrivateHex"]))
        client = X25519PrivateKey.from_private_bytes(bytes.fromhex(agreement["clientPrivateHex"]))
        server_public = public_bytes(server.public_key())
        client_public = public_bytes(client.public_key())
        assert b64url_encode(server_public) == agreement["serverPublic"]
        assert b64url_encode(client_public) == agreement["clientPublic"]
        on_client = derive_agreed_key(
            agreement["keyId"], client, server.public_key(), client_public, server_public
        )
        on_server = derive_agreed_key(
            agreement["keyId"], server, client.public_key(), client_public, server_public
        )
        assert on_client.seal_key.hex() == on_server.seal_key.hex() == agreement["sealKeyHex"]
        sealed = on_client.aes.encrypt(b"\0" * 12, b"x", b"")
        assert AESGCM(bytes.fromhex(agreement["fieldKeyHex"])).decrypt(b"\0" * 12, sealed, b"") == b"x"
        assert fingerprint(server_public).startswith("sha256:") and len(fingerprint(server_public)) == 71


class TestCanonicalForms:
    def test_canonical_json_cases(self, vectors: dict[str, Any]) -> None:
        for case in vectors["canonicalJson"]:
            if case["canonical"] is None:
                with pytest.raises(ContinuumError) as refused:
                    canonical_json(parse_json(case["json"]))
                assert refused.value.code == "CONTINUUM_NON_CANONICAL_JSON", case["json"]
            else:
                assert canonical_json(parse_json(case["json"])).decode() == case["canonical"], case["json"]

    def test_numbers_are_written_as_ecmascript_writes_them(self, vectors: dict[str, Any]) -> None:
        assert len(vectors["numbers"]) > 600
        for bits, expected in vectors["numbers"]:
            value = struct.unpack(">d", bytes.fromhex(bits))[0]
            assert format_number(value) == expected, bits

    def test_rfc_8785_reference_files(self) -> None:
        fixtures = REPO_ROOT / "test" / "fixtures" / "jcs"
        names = sorted(path.name for path in (fixtures / "input").iterdir())
        assert names
        for name in names:
            value = parse_json((fixtures / "input" / name).read_bytes())
            expected = (fixtures / "output" / name).read_bytes().rstrip(b"\n")
            assert canonical_json(value) == expected, name
        for bits, expected in json.loads((fixtures / "numbers.json").read_text()):
            value = struct.unpack(">d", bytes.fromhex(bits.rjust(16, "0")))[0]
            if expected is None:
                with pytest.raises(ContinuumError):
                    canonical_json([value])
            else:
                assert canonical_json(value).decode() == expected

    def test_strict_parsing(self) -> None:
        for text in ["NaN", "[Infinity]", "-Infinity", "{", "[1,]", "\ufeff{}", "01", "{'a':1}", "[1] x"]:
            with pytest.raises(ValueError):
                parse_json(text)
        with pytest.raises(ValueError):
            parse_json(b"[\xff]")
        with pytest.raises(ValueError):
            parse_json("[" * 100_000 + "]" * 100_000)

    def test_canonical_query_cases(self, vectors: dict[str, Any]) -> None:
        for case in vectors["canonicalQuery"]:
            if case["canonical"] is None:
                with pytest.raises(ContinuumError) as refused:
                    canonical_query(case["search"])
                assert refused.value.code == "CONTINUUM_INTEGRITY_FAILED", case["search"]
            else:
                assert canonical_query(case["search"]) == case["canonical"], case["search"]

    def test_sealed_header_cases(self, vectors: dict[str, Any]) -> None:
        for case in vectors["sealedHeaders"]:
            lowered = {name.lower(): value for name, value in case["headers"].items()}
            names = sealed_header_list(case["headers"])
            assert ",".join(names) == case["sealedHeaders"]
            assert sealed_header_block(names, lowered.get) == case["headerLines"]


def _request(case: dict[str, Any]) -> httpx.Request:
    return httpx.Request(
        case["method"],
        f"http://gpu.test{case['path']}{case['search']}",
        headers=case["headers"],
        content=case["bodyJson"].encode(),
    )


class TestMessages:
    def test_requests_encrypt_and_seal_to_the_same_bytes(self, vectors: dict[str, Any]) -> None:
        key = create_field_key(vectors["context"]["keyId"], bytes.fromhex(vectors["context"]["keyHex"]))
        nonce = b64url_decode(vectors["context"]["nonce"])
        assert vectors["requests"]
        for case in vectors["requests"]:
            core = ClientCore(
                ROUTES,
                (),
                lambda: int(case["timestamp"]),
                1 << 20,
                fixed_ivs(case["ivsHex"]),
                lambda: nonce or b"",
            )
            request = _request(case)
            match = core.classify(request)
            assert match is not None and match.route_path == case["routePath"], case["name"]
            sealed = core.seal(
                core.plan(request, match, request.read()), ResolvedKey(key, {"x-continuum-key-id": key.id})
            )
            sent = sealed.request.read()
            assert sent.decode() == case["canonicalEncryptedBody"], case["name"]
            assert json.loads(sent) == case["encryptedBody"]
            assert sealed.request.headers["content-length"] == str(len(sent))
            for name, value in case["protocolHeaders"].items():
                assert sealed.request.headers[name] == value, (case["name"], name)
            # What the server decrypts is what the caller wrote, numbers as the doubles JSON reads.
            server = context(vectors, "request")
            opened = decrypt_fields(match.route.request_tree, case["encryptedBody"], server, 0)
            assert canonical_json(opened) == canonical_json(parse_json(case["bodyJson"]))

    def test_responses_open_and_re_encrypt_to_the_same_bytes(self, vectors: dict[str, Any]) -> None:
        response = context(vectors, "response")
        for case in vectors["responses"]:
            match = ROUTES.lookup_suffix(case["method"], case["path"])
            assert match is not None
            tree = match.route.response_tree
            opened = open_response(tree, case["encryptedBody"], response, case["status"], case["seal"])
            assert opened == parse_json(case["bodyJson"]), case["name"]
            again = encrypt_fields(tree, parse_json(case["bodyJson"]), response, 0, fixed_ivs(case["ivsHex"]))
            assert again == case["encryptedBody"]
            with pytest.raises(ContinuumError):
                open_response(tree, case["encryptedBody"], response, case["status"] + 1, case["seal"])

    @pytest.mark.parametrize("chunking", ["whole", "bytes", "random"])
    def test_streams_open_to_what_the_typescript_client_hands_its_sdk(
        self, vectors: dict[str, Any], chunking: str
    ) -> None:
        response = context(vectors, "response")
        generator = random.Random(7)
        for case in vectors["streams"]:
            match = ROUTES.lookup_suffix(case["method"], case["path"])
            assert match is not None and match.route.stream is not None
            wire = case["wire"].encode()
            if chunking == "whole":
                pieces = [wire]
            elif chunking == "bytes":
                pieces = [wire[index : index + 1] for index in range(len(wire))]
            else:
                cuts = sorted(generator.sample(range(1, len(wire)), 40))
                pieces = [wire[start:end] for start, end in zip([0, *cuts], [*cuts, len(wire)])]
            opener = StreamOpener(match.route.stream, response)
            out = b""
            try:
                for piece in pieces:
                    out += opener.push(piece)
                out += opener.finish()
                error = None
            except ContinuumError as raised:
                error = raised.code
            assert error == case.get("error"), case["name"]
            assert frames(out.decode(), case["framing"]) == frames(case["plain"], case["framing"]), case[
                "name"
            ]


def frames(text: str, framing: str) -> list[tuple[str | None, Any]]:
    """The events of a plain stream as (name, parsed data): JSON numbers compare by value."""
    if framing == "ndjson":
        return [(None, json.loads(line)) for line in text.split("\n") if line]
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        name = None
        data = []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        joined = "\n".join(data)
        events.append((name, joined if joined == "[DONE]" else json.loads(joined)))
    return events


def test_client_path_rule(vectors: dict[str, Any]) -> None:
    core = ClientCore(ROUTES, (), lambda: 0, 1 << 20)
    assert len(vectors["paths"]) > 15
    for case in vectors["paths"]:
        request = httpx.Request(
            case["method"],
            f"http://gpu.test{case['path']}",
            content=b'{"model":"m"}' if case["body"] else None,
        )
        try:
            match = core.classify(request)
            outcome = "plain" if match is None else "encrypted"
        except ContinuumError as error:
            assert error.code == "CONTINUUM_CLIENT_PATH_REFUSED"
            outcome = "refused"
        assert outcome == case["outcome"], case
        if outcome == "encrypted":
            assert match is not None and match.route_path == case["routePath"]
