"""R-AUD-3: revealing a My Number needs the designated-handler permission, a purpose and an
authentication within 5 minutes; it is shown for a limited time and rate-limited per user
with an alert to the supervisor."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.audit.models import AccessLog, Action, Alert, Outcome, Purpose
from apps.residents.models import Resident
from apps.residents.services import Reveal, RevealRefusal, resident_reveal_my_number

pytestmark = pytest.mark.django_db

NUMBER = "123456789018"


@pytest.fixture
def resident(make_resident: Callable[..., Resident], office_a: Office) -> Resident:
    return make_resident(office_a, my_number=NUMBER)


def _reveal(user: User, resident: Resident, *, seconds_ago: float | None = 5) -> Reveal:
    return resident_reveal_my_number(
        acting_user=user,
        resident=resident,
        purpose=Purpose.CARD_PROCEDURE,
        authenticated_seconds_ago=seconds_ago,
    )


def test_r_aud_3_only_a_designated_handler_may_reveal(
    resident: Resident, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    User.objects.filter(pk=clerk_a.pk).update(designated_handler=False)
    clerk_a.refresh_from_db()
    with pytest.raises(PermissionDenied):
        _reveal(clerk_a, resident)
    url = reverse("residents:reveal", args=[resident.pk])
    client = client_for(clerk_a)
    assert client.post(url, {"purpose": "card_procedure"}).status_code == 403
    page = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert "番号を表示" not in page  # the button is not offered
    assert "事務取扱担当者" in page


@pytest.mark.parametrize("seconds_ago", [None, 301, 3600])
def test_r_aud_3_a_stale_authentication_is_refused_and_logged(
    resident: Resident, clerk_a: User, seconds_ago: float | None
) -> None:
    reveal = _reveal(clerk_a, resident, seconds_ago=seconds_ago)
    assert reveal.my_number is None
    assert reveal.refusal is RevealRefusal.REAUTHENTICATE
    log = AccessLog.objects.get()
    assert (log.action, log.outcome, log.resident) == (
        Action.REVEAL_MY_NUMBER,
        Outcome.DENIED,
        resident,
    )


def test_r_aud_3_the_page_asks_to_re_authenticate_then_reveals(
    resident: Resident, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    client = client_for(clerk_a)
    session = client.session
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**r, "at": r["at"] - 600} for r in records]
    session.save()
    url = reverse("residents:reveal", args=[resident.pk])
    response = client.post(url, {"purpose": "card_procedure"})
    body = response.content.decode()
    assert "再認証" in body
    assert "1234 5678 9018" not in body
    client.post(reverse("account_reauthenticate"), {"password": "test-pass-123456"})
    body = client.post(url, {"purpose": "card_procedure"}).content.decode()
    assert "1234 5678 9018" in body
    assert 'data-reveal-seconds="30"' in body  # masked again after 30 seconds on screen


def test_r_aud_3_the_21st_reveal_in_an_hour_is_refused_and_alerts_the_supervisor(
    resident: Resident, clerk_a: User, settings: Any
) -> None:
    assert settings.MY_NUMBER_REVEALS_PER_HOUR == 20
    results = [_reveal(clerk_a, resident) for _ in range(22)]
    assert all(r.my_number == NUMBER for r in results[:20])
    assert [r.refusal for r in results[20:]] == [RevealRefusal.RATE_LIMITED] * 2
    assert AccessLog.objects.filter(outcome=Outcome.OK).count() == 20
    assert AccessLog.objects.filter(outcome=Outcome.DENIED).count() == 2
    alert = Alert.objects.get()  # one alert, not one per refusal
    assert (alert.kind, alert.actor, alert.office_id) == (
        Alert.Kind.REVEAL_RATE,
        clerk_a,
        clerk_a.office_id,
    )


@pytest.mark.django_db(transaction=True)
def test_r_aud_3_concurrent_reveals_cannot_race_past_the_limit(
    resident: Resident, clerk_a: User
) -> None:
    """Thirty reveals at once from one user (the 100-in-half-a-second attack)."""
    start = threading.Barrier(10)
    outcomes: list[str | None] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait()
            for _ in range(3):
                result = _reveal(clerk_a, resident)
                with lock:
                    outcomes.append(result.my_number)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - began < 60
    assert outcomes.count(NUMBER) == 20
    assert outcomes.count(None) == 10


def test_r_aud_3_the_supervisor_sees_and_acknowledges_the_alert(
    resident: Resident,
    clerk_a: User,
    supervisor_a: User,
    client_for: Callable[[User | None], Client],
    settings: Any,
) -> None:
    settings.MY_NUMBER_REVEALS_PER_HOUR = 1
    _reveal(clerk_a, resident)
    _reveal(clerk_a, resident)
    alert = Alert.objects.get()
    page = client_for(supervisor_a).get(reverse("audit:log")).content.decode()
    assert "個人番号の表示回数が上限を超えました" in page
    assert client_for(clerk_a).post(reverse("audit:alert_ack", args=[alert.pk])).status_code == 403
    response = client_for(supervisor_a).post(reverse("audit:alert_ack", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == supervisor_a
