"""Fuzzing the API from its OpenAPI schema (schemathesis), as each persona and as a signed
device: whatever arrives, the answer is never a 5xx. Bounded: FUZZ_EXAMPLES cases per persona
(positive and negative), through Django's test client inside one test transaction.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode

from apps.accounts.models import Counter, User
from apps.counters.httpsig import fingerprint
from apps.counters.models import Device
from apps.counters.services import device_approve
from tests.auth import mfa_login
from tests.counters.helpers import raw_public_key, signed_headers

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
PERSONAS = ["anonymous", "clerk_a", "clerk_b", "supervisor_a", "auditor", "admin_user", "device"]


def _schema() -> Any:
    document = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    return schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))


def _cases(*, device: bool) -> st.SearchStrategy[Any]:
    """The device's endpoints (signed) for the device, the session API for everyone else."""
    schema = _schema()
    schema = (
        schema.include(path_regex="^/api/v1/") if device else schema.exclude(path_regex="^/api/v1/")
    )
    return st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )


def _send(client: Client, case: Any, *, device_key: Ed25519PrivateKey | None) -> Any:
    path = case.formatted_path
    query = {
        k: v if isinstance(v, str | int | float) else json.dumps(v)
        for k, v in (case.query or {}).items()
    }
    headers = {
        k: str(v)
        for k, v in (case.headers or {}).items()
        if k.lower() not in {"content-type", "content-length", "host"}
    }
    method = case.method.lower()
    body = case.body
    kwargs: dict[str, Any] = {}
    raw = b""
    if body is not NOT_SET and method != "get":
        media = case.media_type or "application/json"
        if "json" in media:
            raw = json.dumps(body, ensure_ascii=False, default=str).encode()
            kwargs = {"data": raw, "content_type": "application/json"}
        elif "multipart" in media and isinstance(body, dict):
            form: dict[str, Any] = {}
            for key, value in body.items():
                if isinstance(value, bytes):
                    form[key] = SimpleUploadedFile(f"{key}.csv", value)
                else:
                    form[key] = value if isinstance(value, str) else json.dumps(value, default=str)
            kwargs = {"data": form}
        else:
            raw = body if isinstance(body, bytes) else str(body).encode()
            kwargs = {"data": raw, "content_type": media}
    if device_key is not None:
        headers.update(signed_headers(device_key, method=case.method.upper(), path=path, body=raw))
    if query:
        from urllib.parse import urlencode

        path = f"{path}?{urlencode(query, doseq=True)}"
    return getattr(client, method)(path, headers=headers, **kwargs)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_api_answer_is_a_server_error(
    request: pytest.FixtureRequest, persona: str, counter_a: Counter, admin_user: User
) -> None:
    device_key = None
    client = Client()
    if persona == "device":
        device_key = Ed25519PrivateKey.generate()
        raw = raw_public_key(device_key)
        device = Device.objects.create(name="fuzz", fingerprint=fingerprint(raw), public_key=raw)
        device_approve(acting_user=admin_user, device=device, counter=counter_a)
    elif persona != "anonymous":
        mfa_login(client, request.getfixturevalue(persona))
    failures: list[str] = []
    statuses: list[int] = []

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(device=persona == "device"))
    def run(case: Any) -> None:
        response = _send(client, case, device_key=device_key)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} → {response.status_code}")

    run()
    assert failures == []
    if persona in {"clerk_a", "supervisor_a", "device"}:
        # The cases got past the gate: the handlers themselves were fuzzed.
        assert sum(1 for status in statuses if status not in {401, 403}) > len(statuses) // 3
