"""R-AUD-1: every view that shows personal data writes its row, and so does every denied
attempt (clerk_b's 404s on office A's residents left no trace before)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.applications.rules import ApplicationKind
from apps.audit.models import AccessLog, Action, Outcome
from apps.fees.rules import Procedure, ReissueReason
from apps.fees.services import fee_quote, payment_record
from apps.residents.models import Resident
from tests.applications.helpers import receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(make_resident: Callable[..., Resident], office_a: Office) -> Resident:
    return make_resident(office_a, my_number="123456789018")


def _last() -> AccessLog:
    row = AccessLog.objects.order_by("-seq").first()
    assert row is not None
    return row


def test_r_aud_1_application_pages_are_logged(
    client_for: Callable[[User | None], Client], clerk_a: User, resident: Resident
) -> None:
    application = receive(clerk_a, resident, ApplicationKind.FIRST_ISSUE)
    client = client_for(clerk_a)
    assert client.get(reverse("applications:detail", args=[application.pk])).status_code == 200
    row = _last()
    assert (row.actor, row.action, row.resident, row.outcome) == (
        clerk_a,
        Action.VIEW_APPLICATION,
        resident,
        Outcome.OK,
    )
    assert row.detail == {"application": str(application.pk)}
    url = reverse("applications:new", args=[resident.pk, "reissue"])
    assert client.get(url).status_code == 200
    assert (_last().action, _last().resident) == (Action.VIEW_APPLICATION, resident)


def test_r_aud_1_receipts_and_the_payments_list_are_logged(
    client_for: Callable[[User | None], Client], clerk_a: User, resident: Resident
) -> None:
    quote = fee_quote(
        procedure=Procedure.REISSUE, reason=ReissueReason.LOST, on=timezone.localdate()
    )
    payment = payment_record(acting_user=clerk_a, resident=resident, quote=quote)
    client = client_for(clerk_a)
    assert client.get(reverse("fees:receipt", args=[payment.pk])).status_code == 200
    assert (_last().action, _last().resident) == (Action.VIEW_RECEIPT, resident)
    assert client.get(reverse("fees:payments")).status_code == 200
    assert (_last().action, _last().detail["list"], _last().detail["rows"]) == (
        Action.VIEW_LIST,
        "payments",
        1,
    )
    assert client.get(reverse("applications:uncollected")).status_code == 200
    assert (_last().action, _last().detail["list"]) == (Action.VIEW_LIST, "uncollected")


def test_r_aud_1_a_denied_look_at_another_offices_resident_is_logged(
    client_for: Callable[[User | None], Client], clerk_b: User, resident: Resident
) -> None:
    response = client_for(clerk_b).get(reverse("residents:detail", args=[resident.pk]))
    assert response.status_code == 404
    row = _last()
    assert (row.actor, row.action, row.outcome, row.resident) == (
        clerk_b,
        Action.DENIED,
        Outcome.DENIED,
        resident,
    )
    assert row.detail["view"] == "residents:detail"
    assert row.detail["status"] == 404


def test_r_aud_1_a_forbidden_page_is_logged(
    client_for: Callable[[User | None], Client], auditor: User
) -> None:
    assert client_for(auditor).get(reverse("residents:search")).status_code == 403
    row = _last()
    assert (row.actor, row.action, row.detail["status"]) == (auditor, Action.DENIED, 403)


def test_anonymous_requests_are_sent_to_sign_in_not_logged(
    client_for: Callable[[User | None], Client], resident: Resident
) -> None:
    client_for(None).get(reverse("residents:detail", args=[resident.pk]))
    assert not AccessLog.objects.exists()
