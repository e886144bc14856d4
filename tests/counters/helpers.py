"""Signing and payload helpers shared by the counters tests (and tests/agent).

Requests are signed with `reader_agent/madoguchi_agent/httpsig.py` (`sign_request`), loaded by
file path (it needs only `cryptography`), so the tests prove the agent and the server agree on
the RFC 9421 profile rather than testing the server against itself.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from apps.cards.models import Card
from apps.certificates.models import Certificate

AGENT_HTTPSIG = Path(__file__).resolve().parents[2] / "reader_agent/madoguchi_agent/httpsig.py"
READS = "/api/v1/reads"
HEARTBEATS = "/api/v1/heartbeats"
ENROLL = "/api/v1/devices/enroll"
AUTH_SERIAL = "a0001"
MY_NUMBER = "123456789018"


def _load_agent_httpsig() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agent_httpsig", AGENT_HTTPSIG)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


agent_httpsig = _load_agent_httpsig()


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return bytes(agent_httpsig.public_key_raw(key))


def signed_headers(
    key: Ed25519PrivateKey,
    *,
    path: str,
    body: bytes,
    method: str = "POST",
    created: int | None = None,
    nonce: str | None = None,
    keyid: str | None = None,
) -> dict[str, str]:
    return dict(
        agent_httpsig.sign_request(
            method=method,
            path=path,
            body=body,
            private_key=key,
            keyid=keyid,
            created=created,
            nonce=nonce,
        )
    )


def encode(payload: dict[str, Any]) -> bytes:
    # The agent's encoding: compact UTF-8 JSON (the digest covers these exact bytes).
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post_signed(
    client: Client,
    key: Ed25519PrivateKey,
    path: str,
    payload: dict[str, Any] | bytes,
    **sign: Any,
) -> Any:
    body = payload if isinstance(payload, bytes) else encode(payload)
    headers = signed_headers(key, path=path, body=body, **sign)
    return client.post(path, data=body, content_type="application/json", headers=headers)


def read_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "read_id": str(uuid.uuid4()),
        "kind": "card",
        "read_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "reader_name": "Virtual PCD 00 00",
        "agent_version": "0.1.0",
        "auth_certificate": {
            "serial": AUTH_SERIAL,
            "not_before": "2024-05-15T00:00:00Z",
            "not_after": "2029-10-10T14:59:59Z",
            "issuer": "CN=FICTIONAL JPKI CA",
        },
        "pin_tries": {"auth": 2, "signing": 5, "text": 3, "resident": 3},
        "pin_blocked": {"auth": False, "signing": False, "text": False, "resident": False},
        "text": None,
    }
    payload.update(overrides)
    return payload


def text_block(**overrides: str) -> dict[str, str]:
    block = {
        "my_number": MY_NUMBER,
        "name": "山田\u3000花子",
        "address": "みどり市旭町１丁目１番１号",
        "birth_date": "1985-10-10",
        "sex": "2",
    }
    block.update(overrides)
    return block


def holder_card() -> Card:
    return Certificate.objects.get(serial=AUTH_SERIAL).card


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
