"""RFC 9421 signing profile: the agent's requests, checked by the server's verifier
(tests/server_httpsig.py loads apps/counters/httpsig.py), round trip and every rejection."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from server_httpsig import (
    BadDigest,
    BadSignature,
    ClockSkew,
    MalformedSignature,
    ReplayedNonce,
    UnknownKey,
    verify_request,
)

from madoguchi_agent import httpsig
from madoguchi_agent.device import fingerprint as device_fingerprint
from madoguchi_agent.httpsig import fingerprint, public_key_raw, sign_request
from madoguchi_agent.signing import RequestSigner

NOW = 1_764_200_000
PATH = "/api/v1/reads"
BODY = b'{"read_id":"0b6c3c1e-1f52-4bb5-9d38-2f3f4c8c1a10","kind":"card"}'


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keyid(key: Ed25519PrivateKey) -> str:
    return fingerprint(public_key_raw(key))


class NonceStore:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, keyid: str, nonce: str) -> bool:
        if (keyid, nonce) in self.seen:
            return True
        self.seen.add((keyid, nonce))
        return False


def _verify(headers: dict[str, str], key: Ed25519PrivateKey, **kw: object) -> str:
    args: dict[str, object] = {
        "method": "POST",
        "path": PATH,
        "headers": headers,
        "body": BODY,
        "public_key_lookup": {fingerprint(public_key_raw(key)): public_key_raw(key)}.get,
        "now": NOW,
        "seen_nonce": NonceStore(),
    }
    args.update(kw)
    return verify_request(**args)  # type: ignore[arg-type]


def _sign(key: Ed25519PrivateKey, **kw: object) -> dict[str, str]:
    args: dict[str, object] = {
        "method": "POST",
        "path": PATH,
        "body": BODY,
        "private_key": key,
        "created": NOW,
    }
    args.update(kw)
    return sign_request(**args)  # type: ignore[arg-type]


def test_fingerprint_shape() -> None:
    raw = bytes(range(32))
    expected = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert fingerprint(raw) == "SHA256:" + expected
    assert "=" not in fingerprint(raw)
    assert device_fingerprint is fingerprint
    with pytest.raises(ValueError, match="32 raw bytes"):
        fingerprint(b"short")


def test_header_shapes(key: Ed25519PrivateKey, keyid: str) -> None:
    h = _sign(key, nonce="AAAAAAAAAAAAAAAAAAAAAAAA")
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert h["Content-Digest"] == f"sha-256=:{digest}:"
    assert h["Signature-Input"] == (
        f'sig1=("@method" "@path" "content-digest");created={NOW};'
        f'nonce="AAAAAAAAAAAAAAAAAAAAAAAA";keyid="{keyid}";alg="ed25519"'
    )
    assert h["Signature"].startswith("sig1=:")
    assert h["Signature"].endswith(":")


def test_signature_base_is_rfc9421_shape(key: Ed25519PrivateKey, keyid: str) -> None:
    h = _sign(key, nonce="AAAAAAAAAAAAAAAAAAAAAAAA")
    params = h["Signature-Input"].removeprefix("sig1=")
    base = httpsig.signature_base(
        method="post", path=PATH, content_digest_value=h["Content-Digest"], params_value=params
    )
    assert base.decode().split("\n") == [
        '"@method": POST',
        f'"@path": {PATH}',
        f'"content-digest": {h["Content-Digest"]}',
        f'"@signature-params": {params}',
    ]
    sig = base64.b64decode(h["Signature"].removeprefix("sig1=:").removesuffix(":"))
    key.public_key().verify(sig, base)  # raises if the base differs


def test_round_trip(key: Ed25519PrivateKey, keyid: str) -> None:
    assert _verify(_sign(key), key) == keyid


def test_round_trip_lowercase_headers_and_key_object(key: Ed25519PrivateKey, keyid: str) -> None:
    headers = {k.lower(): v for k, v in _sign(key).items()}
    lookup = {keyid: key.public_key()}.get
    assert _verify(headers, key, public_key_lookup=lookup) == keyid


def test_request_signer(key: Ed25519PrivateKey, keyid: str) -> None:
    signer = RequestSigner(key)
    assert signer.keyid == keyid
    h1 = signer.headers("POST", PATH, BODY)
    h2 = signer.headers("POST", PATH, BODY)
    assert h1["Signature-Input"] != h2["Signature-Input"]  # fresh nonce per request
    assert _verify(h1, key, now=int(h1["Signature-Input"].split("created=")[1].split(";")[0]))


def test_nonce_is_16_plus_random_bytes() -> None:
    n = httpsig.new_nonce()
    assert len(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))) >= 16


def test_unknown_key(key: Ed25519PrivateKey) -> None:
    with pytest.raises(UnknownKey):
        _verify(_sign(key), key, public_key_lookup=lambda _kid: None)


def test_bad_digest(key: Ed25519PrivateKey) -> None:
    with pytest.raises(BadDigest):
        _verify(_sign(key), key, body=BODY + b" ")


def test_missing_digest(key: Ed25519PrivateKey) -> None:
    h = _sign(key)
    del h["Content-Digest"]
    with pytest.raises(BadDigest):
        _verify(h, key)


def test_bad_signature_other_key(key: Ed25519PrivateKey, keyid: str) -> None:
    # Signed by another key but claiming this device's keyid.
    h = _sign(Ed25519PrivateKey.generate(), keyid=keyid)
    with pytest.raises(BadSignature):
        _verify(h, key)


@pytest.mark.parametrize(
    "change",
    [{"method": "PUT"}, {"path": "/api/v1/heartbeats"}],
)
def test_bad_signature_when_covered_component_changes(
    key: Ed25519PrivateKey, change: dict[str, str]
) -> None:
    with pytest.raises(BadSignature):
        _verify(_sign(key), key, **change)


def test_bad_signature_when_params_tampered(key: Ed25519PrivateKey) -> None:
    h = _sign(key)
    h["Signature-Input"] = h["Signature-Input"].replace(f"created={NOW}", f"created={NOW + 1}")
    with pytest.raises(BadSignature):
        _verify(h, key)


def test_replayed_nonce(key: Ed25519PrivateKey) -> None:
    store = NonceStore()
    h = _sign(key)
    _verify(h, key, seen_nonce=store)
    with pytest.raises(ReplayedNonce):
        _verify(h, key, seen_nonce=store)


def test_nonce_recorded_only_for_valid_requests(key: Ed25519PrivateKey) -> None:
    store = NonceStore()
    h = _sign(key)
    with pytest.raises(BadDigest):
        _verify(h, key, seen_nonce=store, body=b"other")
    assert not store.seen
    _verify(h, key, seen_nonce=store)


@pytest.mark.parametrize("offset", [91, -91, 3600])
def test_clock_skew(key: Ed25519PrivateKey, offset: int) -> None:
    with pytest.raises(ClockSkew):
        _verify(_sign(key, created=NOW - offset), key)


@pytest.mark.parametrize("offset", [90, -90, 0])
def test_clock_skew_limit_inclusive(key: Ed25519PrivateKey, offset: int) -> None:
    _verify(_sign(key, created=NOW - offset), key)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.pop("Signature"),
        lambda h: h.pop("Signature-Input"),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace("sig1", "sig2")}),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace(' "@path"', "")}),
        lambda h: h.update(
            {
                "Signature-Input": h["Signature-Input"].replace(
                    'alg="ed25519"', 'alg="rsa-pss-sha512"'
                )
            }
        ),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace(';alg="ed25519"', "")}),
        lambda h: h.update(
            {"Signature-Input": h["Signature-Input"].replace("created=", "created=x")}
        ),
        lambda h: h.update({"Signature": "sig1=not-bytes"}),
        lambda h: h.update({"Signature-Input": 'sig1=("@method"'}),
        lambda h: h.update({"Signature-Input": h["Signature-Input"] + ","}),
    ],
)
def test_malformed_headers(key: Ed25519PrivateKey, mutate: object) -> None:
    h = _sign(key)
    mutate(h)  # type: ignore[operator]
    with pytest.raises(MalformedSignature):
        _verify(h, key)


def test_short_nonce_rejected(key: Ed25519PrivateKey) -> None:
    with pytest.raises(MalformedSignature):
        _verify(_sign(key, nonce="abc"), key)


def test_extra_signature_members_are_outside_the_profile(key: Ed25519PrivateKey) -> None:
    # The server accepts exactly one signature, sig1: a request that carries a proxy's own
    # signature as well is not in the profile (the agent never sends one; nor do our proxies).
    h = _sign(key)
    h["Signature-Input"] = 'proxy=("@method");created=1, ' + h["Signature-Input"]
    h["Signature"] = "proxy=:AAAA:, " + h["Signature"]
    with pytest.raises(MalformedSignature):
        _verify(h, key)


def test_content_digest_with_two_algorithms(key: Ed25519PrivateKey, keyid: str) -> None:
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    digest = httpsig.content_digest(BODY) + f", sha-512=:{sha512}:"
    params = httpsig.serialize_signature_params(
        httpsig.COVERED_COMPONENTS,
        [("created", NOW), ("nonce", "B" * 24), ("keyid", keyid), ("alg", "ed25519")],
    )
    base = httpsig.signature_base(
        method="POST", path=PATH, content_digest_value=digest, params_value=params
    )
    sig = base64.b64encode(key.sign(base)).decode()
    headers = {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{sig}:",
    }
    assert _verify(headers, key) == keyid


def test_module_imports_nothing_from_the_agent() -> None:
    # The server's tests load httpsig.py by file path (tests/counters/helpers.py): it must stand
    # alone.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(httpsig))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in httpsig.py"
            assert node.module is not None
            assert node.module.split(".")[0] in {
                "__future__",
                "cryptography",
                "collections",
                "typing",
            }
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name in {"base64", "hashlib", "hmac", "secrets", "time"}
