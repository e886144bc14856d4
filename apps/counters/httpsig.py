"""Verifying the reader agent's signed requests: RFC 9421 HTTP Message Signatures, Ed25519,
covering "@method", "@path" and Content-Digest (RFC 9530 sha-256), one fixed profile.

Pure: no Django, no database, no clock (`now` is a parameter). The agent signs with
`madoguchi_agent.httpsig.sign_request`; tests/counters/test_httpsig.py proves the two agree.
What the profile accepts, and nothing more:

    Content-Digest: sha-256=:<base64>:
    Signature-Input: sig1=("@method" "@path" "content-digest");created=<int>;nonce="<b64url>";
                     keyid="SHA256:<b64>";alg="ed25519"      (parameters in any order)
    Signature: sig1=:<base64 of 64 bytes>:
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LABEL = "sig1"
ALG = "ed25519"

_COMPONENTS = '("@method" "@path" "content-digest")'
# A parameter: an integer or a string (printable ASCII, `"` and `\` escaped).
_PARAM = re.compile(
    r';([a-z][a-z0-9_.*-]*)=(-?[0-9]{1,15}|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*")'
)
_SIGNATURE = re.compile(r"sig1=:([A-Za-z0-9+/]+={0,2}):")
_DIGEST = re.compile(r"\s*sha-256=:([A-Za-z0-9+/]+={0,2}):\s*")
_NONCE = re.compile(r"[A-Za-z0-9_-]{22,128}")  # >= 16 random bytes, base64url


class SignatureRejected(Exception):
    """The request is refused (401). `code` is stable for logs and the agent; `message` is for
    people. Neither contains anything from the body."""

    code = "bad_signature"
    message = "署名を確認できません。"


class MalformedSignature(SignatureRejected):
    code = "malformed_signature"
    message = "署名ヘッダーの形式が正しくありません。"


class UnknownKey(SignatureRejected):
    code = "unknown_key"
    message = "承認されていない端末の鍵です (未登録・承認待ち・失効)。"


class BadDigest(SignatureRejected):
    code = "bad_digest"
    message = "本文のダイジェスト (Content-Digest) が一致しません。"


class BadSignature(SignatureRejected):
    code = "bad_signature"
    message = "署名が正しくありません。"


class ClockSkew(SignatureRejected):
    code = "clock_skew"
    message = "端末の時計がサーバーと90秒以上ずれています。"


class ReplayedNonce(SignatureRejected):
    code = "replayed_nonce"
    message = "この署名は既に使われています (nonce の再利用)。"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parsed signature headers of one request."""

    keyid: str
    nonce: str
    created: int
    expires: int | None
    params_value: str  # the `@signature-params` value exactly as received
    signature: bytes
    digest_value: str  # the Content-Digest field value, trimmed
    digest: bytes


def fingerprint(public_key: bytes) -> str:
    """`SHA256:` + unpadded base64 of SHA-256 over the raw 32-byte key (the keyid)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public_key).digest()).decode().rstrip("=")


def _string(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def parse(headers: Mapping[str, str]) -> SignedRequest:
    """Parse the three headers strictly (a request outside the profile is malformed)."""
    lower = {name.lower(): value for name, value in headers.items()}
    sig_input = lower.get("signature-input", "").strip()
    sig = lower.get("signature", "").strip()
    digest_value = lower.get("content-digest", "").strip()
    if not sig_input or not sig:
        raise MalformedSignature("Signature-Input and Signature are required")
    label, _, params_value = sig_input.partition("=")
    if label != LABEL or not params_value.startswith(_COMPONENTS):
        raise MalformedSignature('expected sig1=("@method" "@path" "content-digest")')
    params: dict[str, str] = {}
    position = len(_COMPONENTS)
    while position < len(params_value):
        match = _PARAM.match(params_value, position)
        if match is None or match.group(1) in params:
            raise MalformedSignature("bad or repeated signature parameter")
        params[match.group(1)] = match.group(2)
        position = match.end()
    created, nonce = params.get("created", ""), params.get("nonce", "")
    keyid, alg, expires = params.get("keyid", ""), params.get("alg", ""), params.get("expires")
    if not created.lstrip("-").isdigit() or not keyid.startswith('"') or alg != f'"{ALG}"':
        raise MalformedSignature('created, keyid and alg="ed25519" are required')
    if not nonce.startswith('"') or not _NONCE.fullmatch(_string(nonce)):
        raise MalformedSignature("nonce must be 16 or more random bytes in base64url")
    if expires is not None and not expires.lstrip("-").isdigit():
        raise MalformedSignature("expires must be an integer")
    sig_match = _SIGNATURE.fullmatch(sig)
    if sig_match is None:
        raise MalformedSignature("expected Signature: sig1=:<base64>:")
    if not digest_value:
        raise BadDigest("Content-Digest is required")
    digest_match = next(
        (m for m in map(_DIGEST.fullmatch, digest_value.split(",")) if m is not None), None
    )
    if digest_match is None:
        raise BadDigest("Content-Digest has no sha-256 member")
    try:
        signature = base64.b64decode(sig_match.group(1), validate=True)
        digest = base64.b64decode(digest_match.group(1), validate=True)
    except binascii.Error:
        raise MalformedSignature("bad base64") from None
    return SignedRequest(
        keyid=_string(keyid),
        nonce=_string(nonce),
        created=int(created),
        expires=int(expires) if expires is not None else None,
        params_value=params_value,
        signature=signature,
        digest_value=digest_value,
        digest=digest,
    )


def signature_base(*, method: str, path: str, signed: SignedRequest) -> bytes:
    """RFC 9421 §2.5 signature base of this profile's three components."""
    lines = (
        f'"@method": {method.upper()}',
        f'"@path": {path}',
        f'"content-digest": {signed.digest_value}',
        f'"@signature-params": {signed.params_value}',
    )
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise MalformedSignature("non-ASCII in a covered component") from None


def verify(
    *,
    signed: SignedRequest,
    public_key: bytes,
    method: str,
    path: str,
    body: bytes,
    now: float,
    max_skew: int,
) -> None:
    """Digest, then signature, then clock. The clock is checked last so that a skew report
    always concerns a genuine device whose clock is off. The nonce is the caller's job (it
    needs the store) and comes after this."""
    if not hmac.compare_digest(signed.digest, hashlib.sha256(body).digest()):
        raise BadDigest("Content-Digest does not match the body")
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        key.verify(signed.signature, signature_base(method=method, path=path, signed=signed))
    except (InvalidSignature, ValueError):
        raise BadSignature("signature does not verify") from None
    if abs(now - signed.created) > max_skew:
        raise ClockSkew(f"created is {int(now - signed.created)} s from the server clock")
    if signed.expires is not None and now > signed.expires:
        raise ClockSkew("signature expired")
