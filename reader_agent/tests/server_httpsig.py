"""The server's verifier, for the agent's tests: the agent's requests are checked by the code
that checks them in production (``apps/counters/httpsig.py`` of this repository), not by a
second verifier of the agent's own.

That module is pure (standard library and `cryptography`), so it is loaded by file path. The
checks run in the order the server's ``device_authenticate`` runs them: headers, an approved
key, digest, signature, clock, and last the nonce.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SERVER_HTTPSIG = Path(__file__).resolve().parents[2] / "apps" / "counters" / "httpsig.py"
MAX_SKEW_SECONDS = 90  # apps.counters.rules.MAX_SKEW_SECONDS


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("server_httpsig_module", SERVER_HTTPSIG)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


server = _load()
SignatureRejected = server.SignatureRejected
MalformedSignature = server.MalformedSignature
UnknownKey = server.UnknownKey
BadDigest = server.BadDigest
BadSignature = server.BadSignature
ClockSkew = server.ClockSkew
ReplayedNonce = server.ReplayedNonce


def verify_request(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_lookup: Callable[[str], bytes | Ed25519PublicKey | None],
    now: float,
    seen_nonce: Callable[[str, str], bool],
    max_skew: int = MAX_SKEW_SECONDS,
) -> str:
    """Verify as the server does; the keyid on success, a server exception otherwise."""
    signed = server.parse(headers)
    public_key = public_key_lookup(signed.keyid)
    if public_key is None:
        raise UnknownKey("no approved device has this key")
    if isinstance(public_key, Ed25519PublicKey):  # the server stores the raw 32 bytes
        public_key = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    server.verify(
        signed=signed,
        public_key=public_key,
        method=method,
        path=path,
        body=body,
        now=now,
        max_skew=max_skew,
    )
    if seen_nonce(signed.keyid, signed.nonce):
        raise ReplayedNonce("nonce already used")
    return str(signed.keyid)
