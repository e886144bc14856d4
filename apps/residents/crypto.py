"""Encryption and blind index of the My Number (R-MYN-2).

Ciphertext layout: b"v1:" + key id + b":" + 12-byte nonce + AES-256-GCM ciphertext and tag.
The associated data binds a ciphertext to its resident row, so a ciphertext copied onto
another row fails to decrypt instead of silently showing the wrong person's number.
The blind index is HMAC-SHA256 under a separate key: equality search without decryption,
and a stolen index alone cannot be reversed without that key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

_VERSION = b"v1"
_NONCE_BYTES = 12


class MyNumberDecryptionError(Exception):
    """The ciphertext is not for this row, or its key is unknown."""


def _aad(resident_id: uuid.UUID) -> bytes:
    return b"madoguchi:resident:" + resident_id.bytes + b":my_number"


@sensitive_variables("number")
def encrypt_my_number(number: str, *, resident_id: uuid.UUID) -> bytes:
    kid: str = settings.MY_NUMBER_ACTIVE_KEY_ID
    key = settings.MY_NUMBER_KEYS[kid]
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, number.encode("ascii"), _aad(resident_id))
    return _VERSION + b":" + kid.encode("ascii") + b":" + nonce + sealed


def ciphertext_key_id(blob: bytes) -> str:
    version, _, rest = bytes(blob).partition(b":")
    kid, sep, _ = rest.partition(b":")
    if version != _VERSION or not sep:
        raise MyNumberDecryptionError("unknown ciphertext format")
    return kid.decode("ascii")


@sensitive_variables()
def decrypt_my_number(blob: bytes, *, resident_id: uuid.UUID) -> str:
    blob = bytes(blob)
    kid = ciphertext_key_id(blob)
    key = settings.MY_NUMBER_KEYS.get(kid)
    if key is None:
        raise MyNumberDecryptionError(f"key {kid!r} is not configured")
    body = blob[len(_VERSION) + 1 + len(kid) + 1 :]
    nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, sealed, _aad(resident_id)).decode("ascii")
    except InvalidTag:
        raise MyNumberDecryptionError("ciphertext does not belong to this row") from None


@sensitive_variables("number")
def my_number_index(number: str) -> str:
    """Hex HMAC-SHA256 of the normalised number under the index key."""
    return hmac.new(
        settings.MY_NUMBER_INDEX_KEY, number.encode("ascii"), hashlib.sha256
    ).hexdigest()
