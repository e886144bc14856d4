"""HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest (RFC 9530): signing.

The agent signs; the Madoguchi server verifies, with its own ``apps/counters/httpsig.py`` (the
one verifier: this package's tests check the agent's requests against that module). Keep this
module self-contained: it imports nothing from the agent and nothing but the standard library
and `cryptography`.

Profile (what both sides agree on, nothing more):
- covered components, in this order: "@method" "@path" "content-digest";
- label `sig1`; parameters created (unix seconds), nonce (>= 16 random bytes, base64url),
  keyid (the device key fingerprint, see `fingerprint`), alg="ed25519";
- headers: Content-Digest: sha-256=:<b64>:, Signature-Input: sig1=(...);..., Signature: sig1=:<b64>:
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ALG",
    "COVERED_COMPONENTS",
    "LABEL",
    "content_digest",
    "fingerprint",
    "new_nonce",
    "public_key_raw",
    "serialize_signature_params",
    "sign_request",
    "signature_base",
]

COVERED_COMPONENTS = ("@method", "@path", "content-digest")
LABEL = "sig1"
ALG = "ed25519"


# --- keys ---------------------------------------------------------------------------------------


def public_key_raw(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key_bytes: bytes) -> str:
    """`SHA256:` + unpadded standard base64 of SHA-256 over the raw 32-byte public key.

    Same shape as OpenSSH fingerprints, so an admin can compare it by eye with what the counter
    PC shows at enrollment.
    """
    if len(public_key_bytes) != 32:
        raise ValueError("an Ed25519 public key is 32 raw bytes")
    digest = hashlib.sha256(public_key_bytes).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


# --- digest and signature base ------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    """RFC 9530 Content-Digest field value with sha-256."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _sf_string(value: str) -> str:
    if not all(0x20 <= ord(c) <= 0x7E for c in value):
        raise ValueError("structured-field strings must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sf_bare(value: int | str | bool | bytes) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return _sf_string(value)


Params = list[tuple[str, int | str | bool | bytes]]


def serialize_signature_params(components: tuple[str, ...] | list[str], params: Params) -> str:
    """The `@signature-params` value: inner list of component names plus parameters."""
    inner = "(" + " ".join(_sf_string(c) for c in components) + ")"
    return inner + "".join(f";{k}" if v is True else f";{k}={_sf_bare(v)}" for k, v in params)


def signature_base(
    *, method: str, path: str, content_digest_value: str, params_value: str
) -> bytes:
    """RFC 9421 §2.5 signature base for this profile's three components."""
    lines = [
        f'"@method": {method.upper()}',
        f'"@path": {path}',
        f'"content-digest": {content_digest_value.strip()}',
        f'"@signature-params": {params_value}',
    ]
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError("newline in a covered component")
    return "\n".join(lines).encode("ascii")


# --- signing ------------------------------------------------------------------------------------


def new_nonce() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode("ascii").rstrip("=")


def sign_request(
    *,
    method: str,
    path: str,
    body: bytes,
    private_key: Ed25519PrivateKey,
    keyid: str | None = None,
    created: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers to add to a request: Content-Digest, Signature-Input, Signature.

    Sign at send time, not when the data was read: `created` must be within the server's skew
    window, and a retried request needs a fresh nonce.
    """
    if keyid is None:
        keyid = fingerprint(public_key_raw(private_key))
    created = int(time.time()) if created is None else created
    nonce = new_nonce() if nonce is None else nonce
    digest = content_digest(body)
    params_value = serialize_signature_params(
        COVERED_COMPONENTS,
        [("created", created), ("nonce", nonce), ("keyid", keyid), ("alg", ALG)],
    )
    base = signature_base(
        method=method, path=path, content_digest_value=digest, params_value=params_value
    )
    sig = private_key.sign(base)
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{LABEL}={params_value}",
        "Signature": f"{LABEL}=:{base64.b64encode(sig).decode('ascii')}:",
    }
