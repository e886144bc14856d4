"""The server's RFC 9421 verifier against the reader agent's signer (no database)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.counters import httpsig
from tests.counters.helpers import agent_httpsig, raw_public_key, signed_headers

PATH = "/api/v1/reads"
BODY = '{"read_id":"x","name":"窓口\u3000花子"}'.encode()
KEY = Ed25519PrivateKey.generate()
NOW = 1_800_000_000


def _verify(
    headers: dict[str, str], *, body: bytes = BODY, path: str = PATH, now: float = NOW
) -> httpsig.SignedRequest:
    signed = httpsig.parse(headers)
    httpsig.verify(
        signed=signed,
        public_key=raw_public_key(KEY),
        method="POST",
        path=path,
        body=body,
        now=now,
        max_skew=90,
    )
    return signed


def test_a_request_signed_by_the_agent_verifies() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    signed = _verify(headers)
    assert signed.keyid == agent_httpsig.fingerprint(raw_public_key(KEY))
    assert signed.created == NOW
    assert len(signed.nonce) >= 22


def test_fingerprints_agree_with_the_agent() -> None:
    raw = raw_public_key(KEY)
    assert httpsig.fingerprint(raw) == agent_httpsig.fingerprint(raw)


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=512), path=st.sampled_from([PATH, "/api/v1/heartbeats", "/x/y"]))
def test_any_body_and_path_signed_by_the_agent_verifies(body: bytes, path: str) -> None:
    headers = signed_headers(KEY, path=path, body=body, created=NOW)
    _verify(headers, body=body, path=path)


def test_header_names_are_case_insensitive() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    _verify({name.lower(): value for name, value in headers.items()})


def test_the_keyid_the_agent_signs_with_is_the_fingerprint_we_store() -> None:
    # The server's verifier is the only one: what it reads as the keyid is the fingerprint the
    # agent computes for its key (and the enrollment records).
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    assert _verify(headers).keyid == agent_httpsig.fingerprint(raw_public_key(KEY))
    assert _verify(headers).keyid == httpsig.fingerprint(raw_public_key(KEY))


def test_bad_digest() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    with pytest.raises(httpsig.BadDigest):
        _verify(headers, body=BODY + b" ")


def test_digest_recomputed_for_a_changed_body_breaks_the_signature() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    forged = BODY.replace(b"x", b"y")
    headers["Content-Digest"] = agent_httpsig.content_digest(forged)
    with pytest.raises(httpsig.BadSignature):
        _verify(headers, body=forged)


def test_missing_digest() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    del headers["Content-Digest"]
    with pytest.raises(httpsig.BadDigest):
        _verify(headers)


def test_signature_of_another_path_or_method_does_not_verify() -> None:
    headers = signed_headers(KEY, path="/api/v1/heartbeats", body=BODY, created=NOW)
    with pytest.raises(httpsig.BadSignature):
        _verify(headers)
    get_headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW, method="GET")
    with pytest.raises(httpsig.BadSignature):
        _verify(get_headers)


def test_signature_by_another_key_does_not_verify() -> None:
    other = Ed25519PrivateKey.generate()
    headers = signed_headers(
        other, path=PATH, body=BODY, created=NOW, keyid=httpsig.fingerprint(raw_public_key(KEY))
    )
    with pytest.raises(httpsig.BadSignature):
        _verify(headers)


def test_flipped_signature_bit_does_not_verify() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    raw = bytearray(base64.b64decode(headers["Signature"][len("sig1=:") : -1]))
    raw[0] ^= 1
    headers["Signature"] = "sig1=:" + base64.b64encode(bytes(raw)).decode() + ":"
    with pytest.raises(httpsig.BadSignature):
        _verify(headers)


def test_changed_parameter_breaks_the_signature() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    headers["Signature-Input"] = headers["Signature-Input"].replace(f"created={NOW}", "created=1")
    with pytest.raises(httpsig.BadSignature):
        _verify(headers)


@pytest.mark.parametrize("offset", [-91, 91, -3600])
def test_clock_skew_over_90_seconds(offset: int) -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW + offset)
    with pytest.raises(httpsig.ClockSkew):
        _verify(headers)


@pytest.mark.parametrize("offset", [-90, 0, 90])
def test_clock_skew_up_to_90_seconds_is_accepted(offset: int) -> None:
    _verify(signed_headers(KEY, path=PATH, body=BODY, created=NOW + offset))


def test_real_clock_round_trip() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY)
    _verify(headers, now=time.time())


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.pop("Signature"),
        lambda h: h.pop("Signature-Input"),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace("sig1=", "sig2=")}),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace(' "@path"', "")}),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace("ed25519", "rsa")}),
        lambda h: h.update({"Signature-Input": h["Signature-Input"] + ";created=1"}),
        lambda h: h.update({"Signature": "sig1=:not base64!:"}),
        lambda h: h.update({"Signature": h["Signature"].replace("sig1", "sig2")}),
    ],
    ids=[
        "no-signature",
        "no-input",
        "other-label",
        "path-not-covered",
        "other-alg",
        "repeated-param",
        "bad-base64",
        "label-mismatch",
    ],
)
def test_malformed_headers(mutate: Callable[[dict[str, str]], object]) -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW)
    mutate(headers)
    with pytest.raises(httpsig.MalformedSignature):
        _verify(headers)


def test_short_nonce_is_malformed() -> None:
    headers = signed_headers(KEY, path=PATH, body=BODY, created=NOW, nonce="abc")
    with pytest.raises(httpsig.MalformedSignature):
        _verify(headers)


def test_content_digest_with_several_algorithms_uses_sha256() -> None:
    # RFC 9530 allows several digests in one field; the signature covers the whole field.
    import hashlib

    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    digest_value = f"sha-512=:{sha512}:, " + agent_httpsig.content_digest(BODY)
    params = agent_httpsig.serialize_signature_params(
        agent_httpsig.COVERED_COMPONENTS,
        [("created", NOW), ("nonce", "A" * 24), ("keyid", "SHA256:x"), ("alg", "ed25519")],
    )
    base = agent_httpsig.signature_base(
        method="POST", path=PATH, content_digest_value=digest_value, params_value=params
    )
    headers = {
        "Content-Digest": digest_value,
        "Signature-Input": f"sig1={params}",
        "Signature": "sig1=:" + base64.b64encode(KEY.sign(base)).decode() + ":",
    }
    _verify(headers)
    with pytest.raises(httpsig.BadDigest):
        _verify(headers, body=b"other")
