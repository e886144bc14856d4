"""Who did it: every history row a counter procedure writes names its member of staff.

A lost card is reissued at the counter: received (the old card → LOST, its certificate
revoked), paid over the screen (the card ordered), its arrival imported, handed over (the lost
card voided, the new one active, its PINs set up); a second reissue "not due to the holder"
waits for a supervisor's approval. Every row that the pghistory triggers wrote in between, of
every tracked table, must name the person who did that step and the step itself.
"""

from __future__ import annotations

from typing import Any

import pghistory.models
import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.applications.models import Application
from apps.applications.rules import ApplicationKind
from apps.applications.services import (
    HandoverInput,
    application_hand_over,
    application_waiver_approve,
)
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from apps.fees.rules import ReissueReason
from tests.actors import FIXTURES
from tests.applications.helpers import LICENSE, arrive, receive
from tests.custody.helpers import ready_to_hand_over

pytestmark = pytest.mark.django_db


def _event_models() -> list[Any]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and not model._meta.proxy
    ]


def _marks() -> dict[Any, int]:
    return {
        model: (model.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first() or 0)
        for model in _event_models()
    }


def _rows_since(marks: dict[Any, int]) -> list[Any]:
    rows = []
    for model, last in marks.items():
        rows.extend(model.objects.filter(pgh_id__gt=last).select_related("pgh_context"))
    return rows


def _assert_named(rows: list[Any], user: User, step: str) -> None:
    assert rows, f"{step} wrote no history row"
    for row in rows:
        label = f"{type(row).__name__} #{row.pgh_id} ({step})"
        assert row.pgh_context is not None, f"{label} has no context"
        metadata = row.pgh_context.metadata
        assert metadata.get("user") == str(user.pk), f"{label} names {metadata.get('user')}"
        assert metadata.get(step), f"{label} does not name the step {step}: {metadata}"


def test_every_history_row_of_a_counter_procedure_names_its_member_of_staff(
    clerk_a: User,
    supervisor_a: User,
    client_for: Any,
    make_resident: Any,
    make_card: Any,
    office_a: Office,
) -> None:
    today = timezone.localdate()
    holder = make_resident(office_a)
    card = make_card(holder)
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.AUTH,
        serial="abc123",
        issued_on=card.issued_on,
    )

    marks = _marks()
    application = receive(
        clerk_a,
        holder,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.LOST,
        police_report_no="第12号",
        on=today,
    )
    rows = _rows_since(marks)
    _assert_named(rows, clerk_a, "application_receive")
    tables = {type(row).__name__ for row in rows}
    assert {"ApplicationEvent", "CardEvent", "CertificateEvent"} <= tables

    url = reverse("applications:pay", args=[application.pk])
    confirmation = client_for(clerk_a).get(url, {"method": "cash"})
    marks = _marks()
    response = client_for(clerk_a).post(
        url, {"method": "cash", "submission": confirmation.context["form"]["submission"].value()}
    )
    assert response.status_code == 302
    _assert_named(_rows_since(marks), clerk_a, "application_pay")

    marks = _marks()
    application.refresh_from_db()
    arrive(clerk_a, application, issued_on=today, on=today)
    _assert_named(_rows_since(marks), clerk_a, "arrivals_import")

    ready_to_hand_over(clerk_a, application)  # R-HND-1…5 (setup and read: before the marks)
    marks = _marks()
    application_hand_over(
        acting_user=clerk_a,
        application=Application.objects.get(pk=application.pk),
        data=HandoverInput(
            documents=LICENSE, pins_set=True, old_card_returned=False, extra_identity_check=True
        ),
        on=today,
    )
    rows = _rows_since(marks)
    _assert_named(rows, clerk_a, "application_hand_over")
    assert {"ApplicationEvent", "CardEvent"} <= {type(row).__name__ for row in rows}

    other = make_resident(office_a, family_name_kana="スズキ")
    make_card(other)
    marks = _marks()
    waiting = receive(
        clerk_a,
        other,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.NOT_HOLDER_FAULT,
        waiver_reason="ICチップ不良",
        on=today,
    )
    _assert_named(_rows_since(marks), clerk_a, "application_receive")
    marks = _marks()
    application_waiver_approve(acting_user=supervisor_a, application=waiting)
    _assert_named(_rows_since(marks), supervisor_a, "application_waiver_approve")


def test_fixtures_and_jobs_are_named_as_such(make_resident: Any, office_a: Office) -> None:
    marks = _marks()
    make_resident(office_a)
    rows = _rows_since(marks)
    assert rows
    assert all(row.pgh_context.metadata.get("system") == FIXTURES.name for row in rows)


def test_every_history_row_of_the_card_services_names_its_member_of_staff(
    clerk_a: User, make_resident: Any, make_card: Any, office_a: Office
) -> None:
    """The procedures on a card in use (certificates, lock release, return; the lifting in
    tests/counters): each step's rows name the clerk and the step (R-PIN-1, R-CRT-5)."""
    from apps.applications.card_services import (
        Applicant,
        CertificateInput,
        LockReleaseInput,
        ReturnInput,
        card_return,
        certificate_procedure,
        lock_release_answer_record,
        lock_release_complete,
        lock_release_receive,
    )
    from apps.applications.models import CardProcedure
    from apps.applications.rules import ApplicantType, IdentityDocument, ReturnReason
    from apps.certificates.rules import CertificateAction, PinKind
    from apps.fees.services import fee_schedule_seed_default

    fee_schedule_seed_default()
    holder = make_resident(office_a)
    card = make_card(holder)
    me = Applicant(documents=LICENSE)

    marks = _marks()
    certificate_procedure(
        acting_user=clerk_a,
        card=card,
        data=CertificateInput(
            action=CertificateAction.ISSUE, kind=CertificateKind.AUTH, applicant=me, serial="c0ffee"
        ),
        on=timezone.localdate(),
    )
    rows = _rows_since(marks)
    _assert_named(rows, clerk_a, "certificate_procedure")
    assert {"ApplicationEvent", "CardProcedureEvent", "CertificateEvent"} <= {
        type(row).__name__ for row in rows
    }

    proxy = Applicant(
        applicant_type=ApplicantType.PROXY,
        applicant_name="佐藤 次郎",
        documents=frozenset({*LICENSE, IdentityDocument.PROXY_LETTER}),
    )
    marks = _marks()
    application = lock_release_receive(
        acting_user=clerk_a,
        card=card,
        data=LockReleaseInput(applicant=proxy, pins=frozenset({PinKind.AUTH}), card_presented=True),
    )
    _assert_named(_rows_since(marks), clerk_a, "lock_release_receive")
    code = CardProcedure.objects.get(pk=application.pk).letter_code
    assert code is not None
    marks = _marks()
    lock_release_answer_record(
        acting_user=clerk_a,
        application=application,
        letter_code=code,
        documents=proxy.documents,
    )
    _assert_named(_rows_since(marks), clerk_a, "lock_release_answer_record")
    marks = _marks()
    lock_release_complete(acting_user=clerk_a, application=application)
    _assert_named(_rows_since(marks), clerk_a, "lock_release_complete")

    marks = _marks()
    card_return(
        acting_user=clerk_a,
        card=card,
        data=ReturnInput(reason=ReturnReason.VOLUNTARY, applicant=me),
    )
    rows = _rows_since(marks)
    _assert_named(rows, clerk_a, "card_return")
    assert {"CardEvent", "CertificateEvent"} <= {type(row).__name__ for row in rows}
