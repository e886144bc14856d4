"""HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest (RFC 9530).

Shared by the agent (signs) and the Madoguchi server (verifies). Keep this module
self-contained: it imports nothing from the agent and nothing but the standard library and
`cryptography`, so the server can import it, or copy it, as is.

Profile (what both sides agree on, nothing more):
- covered components, in this order: "@method" "@path" "content-digest";
- label `sig1`; parameters created (unix seconds), nonce (>= 16 random bytes, base64url),
  keyid (the device key fingerprint, see `fingerprint`), alg="ed25519";
- headers: Content-Digest: sha-256=:<b64>:, Signature-Input: sig1=(...);..., Signature: sig1=:<b64>:
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ALG",
    "COVERED_COMPONENTS",
    "LABEL",
    "MAX_SKEW_SECONDS",
    "BadDigest",
    "BadSignature",
    "ClockSkew",
    "MalformedSignature",
    "ReplayedNonce",
    "SignatureError",
    "UnknownKey",
    "content_digest",
    "fingerprint",
    "public_key_raw",
    "sign_request",
    "signature_base",
    "verify_request",
]

COVERED_COMPONENTS = ("@method", "@path", "content-digest")
LABEL = "sig1"
ALG = "ed25519"
MAX_SKEW_SECONDS = 90
MIN_NONCE_CHARS = 22  # 16 bytes in unpadded base64url
MAX_NONCE_CHARS = 128
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# --- errors -------------------------------------------------------------------------------------


class SignatureError(Exception):
    """Base: the request is not accepted. `code` is a stable string for logs and API errors."""

    code = "signature_error"


class UnknownKey(SignatureError):
    code = "unknown_key"


class BadDigest(SignatureError):
    code = "bad_digest"


class BadSignature(SignatureError):
    code = "bad_signature"


class MalformedSignature(BadSignature):
    """Headers missing or not in this profile's shape."""

    code = "malformed_signature"


class ReplayedNonce(SignatureError):
    code = "replayed_nonce"


class ClockSkew(SignatureError):
    code = "clock_skew"


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
    return inner + "".join(
        f";{k}" if v is True else f";{k}={_serialize_param_value(v)}" for k, v in params
    )


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
            raise MalformedSignature("newline in a covered component")
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


# --- a small RFC 8941 structured-field parser (dictionaries only) -------------------------------

Bare = int | str | bool | bytes
_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz*")
_KEY_REST = _KEY_FIRST | frozenset("0123456789_-.")
_TOKEN_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*")
_TOKEN_REST = _TOKEN_FIRST | frozenset("0123456789!#$%&'*+-.^_`|~:/")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


class _Token(str):
    """A structured-field token (unquoted), kept apart from strings when re-serializing."""


class _SF:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def _peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def _fail(self, what: str) -> MalformedSignature:
        return MalformedSignature(f"structured field: {what} at position {self.i}")

    def _skip(self, chars: str) -> None:
        while self._peek() and self._peek() in chars:
            self.i += 1

    def key(self) -> str:
        if self._peek() not in _KEY_FIRST or not self._peek():
            raise self._fail("bad key")
        start = self.i
        while self._peek() and self._peek() in _KEY_REST:
            self.i += 1
        return self.s[start : self.i]

    def bare(self) -> Bare:
        c = self._peek()
        if c == "-" or c.isdigit():
            start = self.i
            self.i += 1
            while self._peek().isdigit():
                self.i += 1
            text = self.s[start : self.i]
            if self._peek() == "." or text == "-" or len(text.lstrip("-")) > 15:
                raise self._fail("only integers are accepted")
            return int(text)
        if c == '"':
            self.i += 1
            out = []
            while True:
                ch = self._peek()
                if not ch:
                    raise self._fail("unterminated string")
                self.i += 1
                if ch == "\\":
                    nxt = self._peek()
                    if nxt not in ('"', "\\") or not nxt:
                        raise self._fail("bad escape")
                    out.append(nxt)
                    self.i += 1
                elif ch == '"':
                    return "".join(out)
                elif not 0x20 <= ord(ch) <= 0x7E:
                    raise self._fail("non-printable character in string")
                else:
                    out.append(ch)
        if c == ":":
            end = self.s.find(":", self.i + 1)
            if end < 0:
                raise self._fail("unterminated byte sequence")
            text = self.s[self.i + 1 : end]
            if any(ch not in _B64 for ch in text):
                raise self._fail("bad base64 in byte sequence")
            self.i = end + 1
            try:
                return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
            except ValueError:
                raise self._fail("bad base64 in byte sequence") from None
        if c == "?":
            val = self.s[self.i + 1 : self.i + 2]
            if val not in ("0", "1"):
                raise self._fail("bad boolean")
            self.i += 2
            return val == "1"
        if c and c in _TOKEN_FIRST:
            start = self.i
            while self._peek() and self._peek() in _TOKEN_REST:
                self.i += 1
            return _Token(self.s[start : self.i])
        raise self._fail("unexpected character")

    def params(self) -> Params:
        out: Params = []
        while self._peek() == ";":
            self.i += 1
            self._skip(" ")
            k = self.key()
            v: Bare = True
            if self._peek() == "=":
                self.i += 1
                v = self.bare()
            if any(k == seen for seen, _ in out):
                raise self._fail(f"duplicate parameter {k}")
            out.append((k, v))
        return out

    def member_value(self) -> tuple[Bare | list[tuple[Bare, Params]], Params]:
        if self._peek() == "(":
            self.i += 1
            items: list[tuple[Bare, Params]] = []
            while True:
                self._skip(" ")
                if self._peek() == ")":
                    self.i += 1
                    return items, self.params()
                item = self.bare()
                items.append((item, self.params()))
                if self._peek() not in (" ", ")"):
                    raise self._fail("bad inner list")
        item = self.bare()
        return item, self.params()

    def dictionary(self) -> dict[str, tuple[Bare | list[tuple[Bare, Params]], Params]]:
        out: dict[str, tuple[Bare | list[tuple[Bare, Params]], Params]] = {}
        self._skip(" \t")
        while self.i < len(self.s):
            k = self.key()
            if self._peek() == "=":
                self.i += 1
                out[k] = self.member_value()
            else:
                out[k] = (True, self.params())
            self._skip(" \t")
            if self.i >= len(self.s):
                break
            if self._peek() != ",":
                raise self._fail("expected a comma")
            self.i += 1
            self._skip(" \t")
            if self.i >= len(self.s):
                raise self._fail("trailing comma")
        return out


def _parse_dict(value: str) -> dict[str, tuple[Bare | list[tuple[Bare, Params]], Params]]:
    return _SF(value.strip()).dictionary()


def _serialize_param_value(v: Bare) -> str:
    if isinstance(v, _Token):
        return str(v)
    return _sf_bare(v)


# --- verification -------------------------------------------------------------------------------

PublicKeyLookup = Callable[[str], Ed25519PublicKey | bytes | None]
SeenNonce = Callable[[str, str], bool]


def verify_request(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_lookup: PublicKeyLookup,
    now: float,
    max_skew: int = MAX_SKEW_SECONDS,
    seen_nonce: SeenNonce,
) -> str:
    """Check a signed request and return its keyid (the device fingerprint).

    - `path`: the request path exactly as the client sent it, no query string
      (Django: `request.path`).
    - `headers`: any mapping; names are matched case-insensitively.
    - `public_key_lookup(keyid)`: the device's Ed25519 public key (object or 32 raw bytes),
      or None when the key is unknown or not approved.
    - `seen_nonce(keyid, nonce)`: record the nonce and return True if it was already recorded.
      Called last, only for otherwise valid requests, so junk cannot fill the store. Keep
      nonces for at least 2 x max_skew seconds.

    Raises UnknownKey, BadDigest, BadSignature (MalformedSignature), ClockSkew or ReplayedNonce.
    """
    h = {k.lower(): v for k, v in headers.items()}
    sig_input_raw = h.get("signature-input")
    sig_raw = h.get("signature")
    digest_raw = h.get("content-digest")
    if not sig_input_raw or not sig_raw:
        raise MalformedSignature("Signature-Input and Signature headers are required")
    if not digest_raw:
        raise BadDigest("Content-Digest header is required")

    inputs = _parse_dict(sig_input_raw)
    sigs = _parse_dict(sig_raw)
    if LABEL not in inputs or LABEL not in sigs:
        raise MalformedSignature(f"no signature labelled {LABEL}")
    inner, params = inputs[LABEL]
    signature, _ = sigs[LABEL]
    if not isinstance(inner, list) or not isinstance(signature, bytes):
        raise MalformedSignature("signature input must be an inner list, signature bytes")
    components = []
    for item, item_params in inner:
        if not isinstance(item, str) or isinstance(item, _Token) or item_params:
            raise MalformedSignature("component identifiers must be plain strings")
        components.append(item)
    if tuple(components) != COVERED_COMPONENTS:
        raise MalformedSignature(f"covered components must be {COVERED_COMPONENTS}")

    p = dict(params)
    created, nonce, keyid, alg = p.get("created"), p.get("nonce"), p.get("keyid"), p.get("alg")
    if not isinstance(created, int) or isinstance(created, bool):
        raise MalformedSignature("created must be an integer")
    if not isinstance(keyid, str) or isinstance(keyid, _Token) or not keyid:
        raise MalformedSignature("keyid must be a string")
    if not isinstance(nonce, str) or isinstance(nonce, _Token):
        raise MalformedSignature("nonce must be a string")
    if not MIN_NONCE_CHARS <= len(nonce) <= MAX_NONCE_CHARS or not set(nonce) <= _B64URL:
        raise MalformedSignature("nonce must be 16+ random bytes in base64url")
    if alg != ALG or isinstance(alg, _Token):
        raise MalformedSignature(f'alg must be "{ALG}"')

    key = public_key_lookup(keyid)
    if key is None:
        raise UnknownKey(f"unknown or unapproved key {keyid}")
    if isinstance(key, bytes):
        try:
            key = Ed25519PublicKey.from_public_bytes(key)
        except ValueError:
            raise UnknownKey("stored public key is not a valid Ed25519 key") from None

    digests = _parse_dict(digest_raw)
    sha256 = digests.get("sha-256")
    if sha256 is None or not isinstance(sha256[0], bytes):
        raise BadDigest("Content-Digest has no sha-256 value")
    if not hmac.compare_digest(sha256[0], hashlib.sha256(body).digest()):
        raise BadDigest("Content-Digest does not match the body")

    # Re-serialize rather than reuse the received text: RFC 9421 signs the canonical form.
    params_value = serialize_signature_params(components, params)
    try:
        base = signature_base(
            method=method, path=path, content_digest_value=digest_raw, params_value=params_value
        )
        key.verify(signature, base)
    except (InvalidSignature, UnicodeEncodeError):
        raise BadSignature("signature does not verify") from None

    # Checked after the signature so a skew report is about a genuine device (its clock is off).
    if abs(now - created) > max_skew:
        raise ClockSkew(f"created is {int(now - created)} s away from the server clock")
    expires = p.get("expires")
    if isinstance(expires, int) and not isinstance(expires, bool) and now > expires:
        raise ClockSkew("signature expired")

    if seen_nonce(keyid, nonce):
        raise ReplayedNonce("nonce already used")
    return keyid
