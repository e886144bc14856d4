"""The device key signing each request at send time (the profile is in httpsig.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .httpsig import fingerprint, public_key_raw, sign_request


class RequestSigner:
    """Holds the device key and signs each request at send time (fresh created and nonce)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key_bytes = public_key_raw(private_key)
        self.keyid = fingerprint(self.public_key_bytes)

    def headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        return sign_request(
            method=method, path=path, body=body, private_key=self._key, keyid=self.keyid
        )

    def __repr__(self) -> str:
        return f"RequestSigner(keyid={self.keyid!r})"
