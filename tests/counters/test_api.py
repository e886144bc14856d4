"""The reader agent's push API: enrollment, reads, heartbeats, and every rejection of the
device-signature profile (reader_agent/README.md): unknown, pending and revoked keys, bad
digest, reused nonce, clock skew over 90 seconds, bad signature. Requests are signed with the
agent's own signer."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client, override_settings
from django.urls import reverse
from pytest_django.fixtures import Settings

from apps.accounts.models import Counter, User
from apps.counters.httpsig import fingerprint
from apps.counters.models import CardRead, Device, DeviceNonce, DeviceState
from apps.counters.services import device_revoke
from apps.residents.models import Resident
from tests.counters.helpers import (
    ENROLL,
    HEARTBEATS,
    MY_NUMBER,
    READS,
    b64,
    encode,
    post_signed,
    raw_public_key,
    read_payload,
    signed_headers,
    text_block,
)

pytestmark = pytest.mark.django_db


def _enroll_body(key: Ed25519PrivateKey, name: str = "1番窓口PC") -> dict[str, str]:
    raw = raw_public_key(key)
    return {"name": name, "public_key": b64(raw), "fingerprint": fingerprint(raw)}


# --- enrollment -----------------------------------------------------------------------------------


def test_enroll_creates_a_pending_device_once(api: Client, device_key: Ed25519PrivateKey) -> None:
    first = post_signed(api, device_key, ENROLL, _enroll_body(device_key))
    assert first.status_code == 201
    assert first.json()["state"] == "pending"
    again = post_signed(api, device_key, ENROLL, _enroll_body(device_key, name="改名"))
    assert again.status_code == 200
    device = Device.objects.get()
    assert (device.state, device.name) == (DeviceState.PENDING, "改名")
    assert bytes(device.public_key) == raw_public_key(device_key)


def test_enroll_of_a_revoked_key_does_not_revive_it(
    api: Client,
    make_device: Callable[..., Device],
    device_key: Ed25519PrivateKey,
    counter_a: Counter,
) -> None:
    make_device(device_key, state=DeviceState.REVOKED, counter=counter_a)
    response = post_signed(api, device_key, ENROLL, _enroll_body(device_key))
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert Device.objects.get().state == DeviceState.REVOKED


def test_enroll_needs_proof_of_possession(api: Client, device_key: Ed25519PrivateKey) -> None:
    body = encode(_enroll_body(device_key))
    unsigned = api.post(ENROLL, data=body, content_type="application/json")
    assert unsigned.status_code == 401
    other = Ed25519PrivateKey.generate()
    by_other = post_signed(api, other, ENROLL, _enroll_body(device_key))
    assert by_other.status_code == 401
    assert Device.objects.count() == 0


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(fingerprint="SHA256:" + "A" * 43),
        lambda b: b.update(public_key=b64(b"short")),
        lambda b: b.update(public_key="not base64!"),
        lambda b: b.update(name=""),
        lambda b: b.pop("fingerprint"),
    ],
    ids=["fingerprint-mismatch", "short-key", "bad-base64", "no-name", "no-fingerprint"],
)
def test_enroll_bad_body_is_400(
    api: Client, device_key: Ed25519PrivateKey, mutate: Callable[[dict[str, Any]], object]
) -> None:
    body = _enroll_body(device_key)
    mutate(body)
    assert post_signed(api, device_key, ENROLL, body).status_code == 400
    assert Device.objects.count() == 0


@override_settings(COUNTER_MAX_PENDING_DEVICES=2)
def test_pending_devices_are_capped(api: Client) -> None:
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    codes = [post_signed(api, key, ENROLL, _enroll_body(key)).status_code for key in keys]
    assert codes == [201, 201, 429]
    assert Device.objects.filter(state=DeviceState.PENDING).count() == 2
    # A device already known is answered even when the cap is reached.
    assert post_signed(api, keys[0], ENROLL, _enroll_body(keys[0])).status_code == 200


def test_enroll_accepts_no_get(api: Client) -> None:
    assert api.get(ENROLL).status_code == 405


# --- reads: accepted ------------------------------------------------------------------------------


def test_a_signed_read_is_stored(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    payload = read_payload()
    response = post_signed(api, device_key, READS, payload)
    assert response.status_code == 201, response.content
    read = CardRead.objects.get()
    assert str(read.read_id) == payload["read_id"]
    assert (read.device, read.counter, read.resident) == (device, device.counter, card_holder)
    device.refresh_from_db()
    assert device.last_read_at is not None


def test_duplicate_read_id_is_stored_once(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    payload = read_payload()
    assert post_signed(api, device_key, READS, payload).status_code == 201
    again = post_signed(api, device_key, READS, payload)  # the agent's retry: fresh nonce
    assert again.status_code == 200
    assert again.json() == {"duplicate": True}
    assert CardRead.objects.count() == 1


def test_a_text_read_keeps_no_personal_data(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    payload = read_payload(kind="text", text=text_block())
    response = post_signed(api, device_key, READS, payload)
    assert response.status_code == 201
    read = CardRead.objects.get()
    assert read.resident == card_holder
    stored = json.dumps(
        {f.attname: str(getattr(read, f.attname)) for f in CardRead._meta.concrete_fields},
        ensure_ascii=False,
    )
    for secret in (MY_NUMBER, "花子", "旭町", "1985"):
        assert secret not in stored
    assert MY_NUMBER not in response.content.decode()


def test_a_partly_unknown_birth_date_on_the_card_is_taken(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    payload = read_payload(kind="text", text=text_block(birth_date="1985-00-00", sex="0"))
    assert post_signed(api, device_key, READS, payload).status_code == 201
    assert CardRead.objects.get().text_mismatches == ["birth_date", "sex"]


# --- reads: every rejection -----------------------------------------------------------------------


def _rejected(response: Any, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert "Signature" in response["WWW-Authenticate"]


def test_unknown_key_is_rejected(api: Client, device: Device, card_holder: Resident) -> None:
    stranger = Ed25519PrivateKey.generate()
    _rejected(post_signed(api, stranger, READS, read_payload()), "unknown_key")
    assert CardRead.objects.count() == 0


def test_pending_key_is_rejected(
    api: Client, make_device: Callable[..., Device], card_holder: Resident
) -> None:
    key = Ed25519PrivateKey.generate()
    make_device(key, state=DeviceState.PENDING)
    _rejected(post_signed(api, key, READS, read_payload()), "unknown_key")
    _rejected(post_signed(api, key, HEARTBEATS, _heartbeat()), "unknown_key")
    assert CardRead.objects.count() == 0


def test_revoked_key_is_rejected(
    api: Client,
    device: Device,
    device_key: Ed25519PrivateKey,
    admin_user: User,
    card_holder: Resident,
) -> None:
    assert post_signed(api, device_key, READS, read_payload()).status_code == 201
    device_revoke(acting_user=admin_user, device=device)
    _rejected(post_signed(api, device_key, READS, read_payload()), "unknown_key")
    _rejected(post_signed(api, device_key, HEARTBEATS, _heartbeat()), "unknown_key")
    assert CardRead.objects.count() == 1


def test_bad_digest_is_rejected(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    body = encode(read_payload())
    headers = signed_headers(device_key, path=READS, body=body)
    tampered = body.replace(b'"auth":2', b'"auth":3')
    response = api.post(READS, data=tampered, content_type="application/json", headers=headers)
    _rejected(response, "bad_digest")
    assert CardRead.objects.count() == 0


def test_reused_nonce_is_rejected(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    nonce = "n" * 24
    assert post_signed(api, device_key, READS, read_payload(), nonce=nonce).status_code == 201
    # Same nonce, a new body: a captured signature header replayed on other content.
    _rejected(post_signed(api, device_key, READS, read_payload(), nonce=nonce), "replayed_nonce")
    # The exact request replayed byte for byte.
    body = encode(read_payload())
    headers = signed_headers(device_key, path=READS, body=body)
    first = api.post(READS, data=body, content_type="application/json", headers=headers)
    assert first.status_code == 201
    _rejected(
        api.post(READS, data=body, content_type="application/json", headers=headers),
        "replayed_nonce",
    )
    assert CardRead.objects.count() == 2


# A few seconds past the limit: a loaded CI machine can take a second between signing and
# checking, which turned +91 into an accepted +90.
@pytest.mark.parametrize("offset", [-95, 95, -600])
def test_clock_skew_over_90_seconds_is_rejected(
    api: Client, device: Device, device_key: Ed25519PrivateKey, offset: int
) -> None:
    created = int(time.time()) + offset
    response = post_signed(api, device_key, READS, read_payload(), created=created)
    _rejected(response, "clock_skew")
    assert CardRead.objects.count() == 0
    assert DeviceNonce.objects.count() == 0  # a refused request never reaches the nonce store


@pytest.mark.parametrize("offset", [-85, 85])
def test_clock_skew_within_90_seconds_is_accepted(
    api: Client, device: Device, device_key: Ed25519PrivateKey, offset: int
) -> None:
    created = int(time.time()) + offset
    assert post_signed(api, device_key, READS, read_payload(), created=created).status_code == 201


def test_bad_signature_is_rejected(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    impostor = Ed25519PrivateKey.generate()
    response = post_signed(api, impostor, READS, read_payload(), keyid=device.fingerprint)
    _rejected(response, "bad_signature")
    # Signed for another path (a heartbeat signature replayed on the reads endpoint).
    body = encode(read_payload())
    headers = signed_headers(device_key, path=HEARTBEATS, body=body)
    response = api.post(READS, data=body, content_type="application/json", headers=headers)
    _rejected(response, "bad_signature")
    assert CardRead.objects.count() == 0


def test_missing_signature_is_rejected(api: Client, device: Device) -> None:
    response = api.post(READS, data=encode(read_payload()), content_type="application/json")
    _rejected(response, "malformed_signature")


def test_old_nonces_are_pruned(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    old = int(time.time()) - 80
    assert post_signed(api, device_key, READS, read_payload(), created=old).status_code == 201
    assert DeviceNonce.objects.count() == 1
    from datetime import UTC, datetime

    DeviceNonce.objects.update(created=datetime.fromtimestamp(old - 60, tz=UTC))
    assert post_signed(api, device_key, READS, read_payload()).status_code == 201
    assert DeviceNonce.objects.count() == 1  # the stale one went, the new one stays


# --- reads: bad bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"read_id": "not-a-uuid"},
        {"kind": "photo"},
        {"kind": "text"},  # text kind without text
        {"text": text_block()},  # card kind with text
        {"read_at": "yesterday"},
        {"read_at": "2099-01-01T00:00:00Z"},
        {"pin_tries": {"auth": 4, "signing": 5, "text": 3, "resident": 3}},
        {"pin_tries": {"auth": 3}},
        {"pin_blocked": {"auth": "no", "signing": False, "text": False, "resident": False}},
        {"auth_certificate": {"serial": "AB:CD", "not_before": "x", "not_after": "y"}},
        {"kind": "text", "text": text_block(my_number="123456789011")},  # R-MYN-1 check digit
        {"kind": "text", "text": text_block(birth_date="10 Oct 1985")},
        {"kind": "text", "text": text_block(sex="3")},
        {"kind": "text", "text": text_block(name="")},
    ],
    ids=[
        "read-id",
        "kind",
        "text-missing",
        "text-on-card-read",
        "read-at",
        "read-at-future",
        "pin-over-limit",
        "pin-keys",
        "pin-blocked-type",
        "certificate",
        "my-number-check-digit",
        "birth-date",
        "sex",
        "empty-name",
    ],
)
def test_bad_read_bodies_are_400(
    api: Client, device: Device, device_key: Ed25519PrivateKey, overrides: dict[str, Any]
) -> None:
    response = post_signed(api, device_key, READS, read_payload(**overrides))
    assert response.status_code == 400, response.content
    assert CardRead.objects.count() == 0
    assert "123456789011" not in response.content.decode()  # never echoed


def test_non_json_body_is_400(api: Client, device: Device, device_key: Ed25519PrivateKey) -> None:
    assert post_signed(api, device_key, READS, b"{not json").status_code == 400


def test_oversized_body_is_refused_before_hashing(
    api: Client, device: Device, device_key: Ed25519PrivateKey
) -> None:
    body = b"{" + b" " * (70 * 1024) + b"}"
    response = post_signed(api, device_key, READS, body)
    assert response.status_code in (400, 401)
    assert CardRead.objects.count() == 0


# --- heartbeats -----------------------------------------------------------------------------------


def _heartbeat(**overrides: Any) -> dict[str, Any]:
    payload = {
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "agent_version": "0.1.0",
        "reader_name": "Virtual PCD 00 00",
        "reader_status": "ok",
    }
    payload.update(overrides)
    return payload


def test_heartbeat_updates_the_fleet_view(
    api: Client, device: Device, device_key: Ed25519PrivateKey
) -> None:
    response = post_signed(api, device_key, HEARTBEATS, _heartbeat())
    assert response.status_code == 204
    device.refresh_from_db()
    assert (device.agent_version, device.reader_name, device.reader_status) == (
        "0.1.0",
        "Virtual PCD 00 00",
        "ok",
    )
    assert device.last_heartbeat_at is not None
    no_reader = _heartbeat(reader_name=None, reader_status="no_reader")
    assert post_signed(api, device_key, HEARTBEATS, no_reader).status_code == 204
    device.refresh_from_db()
    assert (device.reader_name, device.reader_status) == ("", "no_reader")


def test_heartbeat_bad_status_is_400(
    api: Client, device: Device, device_key: Ed25519PrivateKey
) -> None:
    response = post_signed(api, device_key, HEARTBEATS, _heartbeat(reader_status="melting"))
    assert response.status_code == 400


def test_heartbeat_clock_skew_is_rejected(
    api: Client, device: Device, device_key: Ed25519PrivateKey
) -> None:
    created = int(time.time()) - 120
    _rejected(post_signed(api, device_key, HEARTBEATS, _heartbeat(), created=created), "clock_skew")


# --- a device key reads nothing back --------------------------------------------------------------


def _signed_get(api: Client, key: Ed25519PrivateKey, path: str) -> Any:
    headers = signed_headers(key, path=path, body=b"", method="GET")
    return api.get(path, headers=headers)


def test_a_device_key_cannot_get_anything(
    api: Client, device: Device, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    assert post_signed(api, device_key, READS, read_payload()).status_code == 201
    # The device endpoints take POST only, even with a valid signature.
    assert _signed_get(api, device_key, READS).status_code == 405
    assert _signed_get(api, device_key, HEARTBEATS).status_code == 405
    # Everything else ignores the signature: to it, the device is an anonymous visitor.
    login = reverse("account_login")
    for page in (
        reverse("residents:search"),
        reverse("residents:detail", args=[card_holder.pk]),
        reverse("counters:live"),
        reverse("counters:live_stream"),
        reverse("counters:devices"),
        reverse("audit:log"),
    ):
        response = _signed_get(api, device_key, page)
        assert response.status_code == 302, page
        assert login in response["Location"]
    assert _signed_get(api, device_key, reverse("api-schema")).status_code in (401, 403)


def test_other_methods_on_device_endpoints(
    api: Client, device: Device, device_key: Ed25519PrivateKey
) -> None:
    for method in ("put", "patch", "delete"):
        body = encode(read_payload())
        headers = signed_headers(device_key, path=READS, body=body, method=method.upper())
        response = getattr(api, method)(
            READS, data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 405


def test_enrolled_key_cannot_post_until_approved(
    api: Client, device_key: Ed25519PrivateKey, card_holder: Resident
) -> None:
    assert post_signed(api, device_key, ENROLL, _enroll_body(device_key)).status_code == 201
    _rejected(post_signed(api, device_key, READS, read_payload()), "unknown_key")


def test_read_ids_are_global(
    api: Client,
    make_device: Callable[..., Device],
    device: Device,
    device_key: Ed25519PrivateKey,
    counter_a: Counter,
    card_holder: Resident,
) -> None:
    other_key = Ed25519PrivateKey.generate()
    make_device(other_key, counter=counter_a, name="予備PC")
    payload = read_payload(read_id=str(uuid.uuid4()))
    assert post_signed(api, device_key, READS, payload).status_code == 201
    assert post_signed(api, other_key, READS, payload).json() == {"duplicate": True}
    assert CardRead.objects.get().device == device


def test_r_myn_2_an_error_report_of_a_text_read_shows_no_my_number(
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What production mails or logs for a crash (DEBUG off): no frame shows the card text."""
    import sys

    from django.core.signals import got_request_exception
    from django.test import Client
    from django.views.debug import ExceptionReporter

    def boom(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    captured: list[tuple[Any, Any]] = []

    def grab(sender: object, request: Any, **kwargs: Any) -> None:
        captured.append((request, sys.exc_info()))

    monkeypatch.setattr("apps.counters.services.pin_states_observe", boom)
    settings.DEBUG = False
    got_request_exception.connect(grab)
    try:
        client = Client(raise_request_exception=False)
        payload = read_payload(kind="text", text=text_block())
        response = post_signed(client, device_key, READS, payload)
    finally:
        got_request_exception.disconnect(grab)
    assert response.status_code == 500
    assert CardRead.objects.count() == 0  # nothing half-written
    request, exc_info = captured[0]
    reporter = ExceptionReporter(request, exc_info[0], exc_info[1], exc_info[2], is_email=True)
    for report in (reporter.get_traceback_text(), reporter.get_traceback_html()):
        assert "disk full" in report  # it is the full report, frames and all
        assert MY_NUMBER not in report
        assert "旭町" not in report
