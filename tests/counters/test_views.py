"""Counter pages: the clerk's live panel and its event stream, the administrators' fleet page.
Each page: anonymous → login, wrong role → 403, out of scope → 404, permitted → 200."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from apps.accounts.models import Counter, Office, User
from apps.audit.models import AccessLog, Action
from apps.cards.models import Card
from apps.counters.models import Device, DeviceState
from apps.residents.models import Resident
from tests.actors import FIXTURES
from tests.counters.helpers import READS, post_signed, read_payload

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and LOGIN in response["Location"]


@pytest.fixture(autouse=True)
def short_streams(settings: Settings) -> None:
    # A test reads a stream to its end: with no time left the stream sends what is waiting
    # and ends at once.
    settings.COUNTER_STREAM_SECONDS = 0


def _stream(client: Client, **headers: str) -> str:
    response = client.get(reverse("counters:live_stream"), headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert "no-store" in response["Cache-Control"]
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


# --- the live page and the panel on the search page -----------------------------------------------


def test_live_page_access(
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    clerk_b: User,
    auditor: User,
    admin_user: User,
) -> None:
    url = reverse("counters:live")
    assert _to_login(client_for(None).get(url))
    assert client_for(auditor).get(url).status_code == 403
    assert client_for(admin_user).get(url).status_code == 403
    no_counter = client_for(clerk_b).get(url)
    assert no_counter.status_code == 200
    assert "担当窓口が設定されていません" in no_counter.content.decode()
    assert 'id="card-read-panel"' not in no_counter.content.decode()
    page = client_for(clerk_a).get(url).content.decode()
    assert 'id="card-read-panel"' in page
    assert reverse("counters:live_stream") in page
    assert "1番窓口" in page


def test_live_page_lists_the_counters_devices(
    client_for: Callable[[User | None], Client], clerk_a: User, device: Device
) -> None:
    page = client_for(clerk_a).get(reverse("counters:live")).content.decode()
    assert device.name in page


def test_search_page_carries_the_panel_for_a_clerk_with_a_counter(
    client_for: Callable[[User | None], Client], clerk_a: User, clerk_b: User
) -> None:
    url = reverse("residents:search")
    assert 'id="card-read-panel"' in client_for(clerk_a).get(url).content.decode()
    assert 'id="card-read-panel"' not in client_for(clerk_b).get(url).content.decode()


def test_nav_links(
    client_for: Callable[[User | None], Client], clerk_a: User, admin_user: User
) -> None:
    clerk_page = client_for(clerk_a).get(reverse("residents:search")).content.decode()
    assert reverse("counters:live") in clerk_page
    assert reverse("counters:devices") not in clerk_page
    admin_page = client_for(admin_user).get(reverse("counters:devices")).content.decode()
    assert reverse("counters:devices") in admin_page


# --- the event stream ---------------------------------------------------------------------------


def test_stream_access(
    client_for: Callable[[User | None], Client], clerk_b: User, auditor: User, admin_user: User
) -> None:
    url = reverse("counters:live_stream")
    assert _to_login(client_for(None).get(url))
    assert client_for(auditor).get(url).status_code == 403
    assert client_for(admin_user).get(url).status_code == 403
    assert client_for(clerk_b).get(url).status_code == 404  # no counter: nothing to stream


def test_stream_shows_the_resident_card_state_and_pin_tries(
    api: Client,
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
) -> None:
    payload = read_payload(
        pin_tries={"auth": 1, "signing": 5, "text": None, "resident": 3},
        pin_blocked={"auth": False, "signing": False, "text": True, "resident": False},
    )
    assert post_signed(api, device_key, READS, payload).status_code == 201
    body = _stream(client_for(clerk_a))
    assert "event: read" in body
    assert "山田\u3000花子" in body
    assert reverse("residents:detail", args=[card_holder.pk]) in body
    assert "交付済(有効)" in body  # the card's state
    assert "1 / 3" in body  # AUTH PIN: one try left
    assert "ロック中" in body  # the input-assist PIN is blocked
    assert payload["read_id"] in body
    log = AccessLog.objects.get(action=Action.CARD_READ)
    assert (log.actor, log.resident) == (clerk_a, card_holder)
    assert log.detail["read"] == payload["read_id"]


def test_stream_never_shows_another_offices_resident(
    api: Client,
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_b: Office,
) -> None:
    from datetime import date

    from apps.certificates.rules import CertificateKind
    from apps.certificates.services import certificate_issue

    outsider = make_resident(office_b, family_name="他所", given_name="太郎")
    card = make_card(outsider, applied_on=date(2024, 4, 1), issued_on=date(2024, 5, 1))
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="b0b0",
        issued_on=date(2024, 5, 1),
    )
    payload = read_payload(
        auth_certificate={**read_payload()["auth_certificate"], "serial": "b0b0"}
    )
    assert post_signed(api, device_key, READS, payload).status_code == 201
    body = _stream(client_for(clerk_a))
    assert "event: read" in body
    assert "他所" not in body
    assert str(outsider.pk) not in body
    assert "一致する住民の記録がありません" in body
    assert AccessLog.objects.get(action=Action.CARD_READ).resident is None


def test_stream_is_per_counter(
    api: Client,
    client_for: Callable[[User | None], Client],
    make_device: Callable[..., Device],
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
    office_a: Office,
    clerk_a: User,
) -> None:
    other_counter = Counter.objects.create(office=office_a, code="2", name="2番窓口")
    other_key = Ed25519PrivateKey.generate()
    make_device(other_key, counter=other_counter, name="2番窓口PC")
    assert post_signed(api, other_key, READS, read_payload()).status_code == 201
    assert "event: read" not in _stream(client_for(clerk_a))


def test_stream_resumes_after_the_last_event_id(
    api: Client,
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
) -> None:
    assert post_signed(api, device_key, READS, read_payload()).status_code == 201
    first = _stream(client_for(clerk_a))
    event_id = next(line[4:] for line in first.splitlines() if line.startswith("id: "))
    again = _stream(client_for(clerk_a), **{"Last-Event-ID": event_id})
    assert "event: read" not in again
    assert AccessLog.objects.filter(action=Action.CARD_READ).count() == 1


def test_stream_shows_only_the_newest_read(
    api: Client,
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
) -> None:
    first, second = read_payload(), read_payload()
    for payload in (first, second):
        assert post_signed(api, device_key, READS, payload).status_code == 201
    body = _stream(client_for(clerk_a))
    assert body.count("event: read") == 1
    assert second["read_id"] in body


def test_a_read_received_long_after_it_was_made_is_not_shown(
    api: Client,
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
) -> None:
    from datetime import UTC, datetime, timedelta

    old = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert post_signed(api, device_key, READS, read_payload(read_at=old)).status_code == 201
    body = _stream(client_for(clerk_a))
    assert "event: read" not in body
    assert "id: " in body  # the resume point still moves past it
    assert not AccessLog.objects.filter(action=Action.CARD_READ).exists()


def test_a_read_older_than_the_panel_window_is_not_replayed_on_page_load(
    api: Client,
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    device: Device,
    device_key: Ed25519PrivateKey,
    card_holder: Resident,
    settings: Settings,
) -> None:
    from apps.counters.models import CardRead

    assert post_signed(api, device_key, READS, read_payload()).status_code == 201
    settings.COUNTER_PANEL_RECENT_SECONDS = 0
    CardRead.objects.update(received_at="2026-01-01T00:00:00Z")
    page = client_for(clerk_a).get(reverse("counters:live")).content.decode()
    read_pk = CardRead.objects.get().pk
    assert f'data-after="{read_pk}"' in page


# --- the fleet page -------------------------------------------------------------------------------


def test_fleet_page_access(
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    supervisor_a: User,
    auditor: User,
    admin_user: User,
    device: Device,
) -> None:
    url = reverse("counters:devices")
    assert _to_login(client_for(None).get(url))
    for user in (clerk_a, supervisor_a, auditor):
        assert client_for(user).get(url).status_code == 403
    page = client_for(admin_user).get(url).content.decode()
    assert device.fingerprint in page
    assert "本庁 1番窓口" in page


def test_fleet_page_shows_heartbeats(
    api: Client,
    client_for: Callable[[User | None], Client],
    admin_user: User,
    device: Device,
    device_key: Ed25519PrivateKey,
) -> None:
    from tests.counters.helpers import HEARTBEATS

    heartbeat = {
        "sent_at": "2026-11-27T01:00:00Z",
        "agent_version": "9.8.7",
        "reader_name": "SONY RC-S380",
        "reader_status": "no_reader",
    }
    assert post_signed(api, device_key, HEARTBEATS, heartbeat).status_code == 204
    page = client_for(admin_user).get(reverse("counters:devices")).content.decode()
    assert "9.8.7" in page
    assert "SONY RC-S380" in page
    assert "リーダー未接続" in page


@pytest.fixture
def pending(make_device: Callable[..., Device]) -> Device:
    return make_device(Ed25519PrivateKey.generate(), state=DeviceState.PENDING, name="新PC")


def test_approve_access_and_effect(
    client_for: Callable[[User | None], Client],
    clerk_a: User,
    admin_user: User,
    pending: Device,
    counter_a: Counter,
) -> None:
    url = reverse("counters:device_approve", args=[pending.pk])
    data = {"counter": str(counter_a.pk)}
    assert _to_login(client_for(None).post(url, data))
    assert client_for(clerk_a).post(url, data).status_code == 403
    assert client_for(admin_user).get(url).status_code == 405
    response = client_for(admin_user).post(url, data)
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.state, pending.counter, pending.approved_by) == (
        DeviceState.APPROVED,
        counter_a,
        admin_user,
    )


def test_approve_needs_a_counter_and_a_pending_device(
    client_for: Callable[[User | None], Client],
    admin_user: User,
    pending: Device,
    device: Device,
    counter_a: Counter,
) -> None:
    admin = client_for(admin_user)
    response = admin.post(reverse("counters:device_approve", args=[pending.pk]), follow=True)
    assert "承認する窓口を選んでください" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == DeviceState.PENDING
    again = admin.post(
        reverse("counters:device_approve", args=[device.pk]),
        {"counter": str(counter_a.pk)},
        follow=True,
    )
    assert "承認待ちの端末だけを承認できます" in again.content.decode()


def test_revoke_access_and_effect(
    client_for: Callable[[User | None], Client], clerk_a: User, admin_user: User, device: Device
) -> None:
    url = reverse("counters:device_revoke", args=[device.pk])
    assert _to_login(client_for(None).post(url))
    assert client_for(clerk_a).post(url).status_code == 403
    assert client_for(admin_user).post(url).status_code == 302
    device.refresh_from_db()
    assert (device.state, device.revoked_by) == (DeviceState.REVOKED, admin_user)
    again = client_for(admin_user).post(url, follow=True)
    assert "既に失効しています" in again.content.decode()


def test_unknown_device_is_404(
    client_for: Callable[[User | None], Client], admin_user: User
) -> None:
    import uuid

    admin = client_for(admin_user)
    assert admin.post(reverse("counters:device_revoke", args=[uuid.uuid4()])).status_code == 404
    approve = reverse("counters:device_approve", args=[uuid.uuid4()])
    assert admin.post(approve).status_code == 404
