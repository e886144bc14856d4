"""Who did it, for the card changes (issue 10): every history row an address change, a
continued-use registration and an expiry change write names the clerk and the step
(R-CHG-1, R-CHG-4, R-VAL-7, R-CRT-4: the revoked SIGNING row included)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.applications.services_changes import (
    AddressChangeInput,
    Applicant,
    ContinuedUseInput,
    address_change_receive,
    continued_use_receive,
    continued_use_void_due,
)
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue
from tests.actors import FIXTURES
from tests.applications.helpers import LICENSE
from tests.applications.test_history_actors import _assert_named, _marks, _rows_since

pytestmark = pytest.mark.django_db


def test_r_chg_1_every_history_row_of_an_address_change_names_the_clerk(
    clerk_a: User, make_resident: Any, make_card: Any, office_a: Office
) -> None:
    today = timezone.localdate()
    holder = make_resident(office_a)
    card = make_card(
        holder, issued_on=today - timedelta(days=400), applied_on=today - timedelta(days=420)
    )
    certificate_issue(
        acting_user=FIXTURES,
        card=card,
        kind=CertificateKind.SIGNING,
        serial="5a5a",
        issued_on=card.issued_on,
    )
    marks = _marks()
    address_change_receive(
        acting_user=clerk_a,
        resident=holder,
        data=AddressChangeInput(
            applicant=Applicant(documents=LICENSE), address="みどり市本町1丁目"
        ),
        on=today,
    )
    rows = _rows_since(marks)
    _assert_named(rows, clerk_a, "address_change_receive")
    tables = {type(row).__name__ for row in rows}
    assert {"ApplicationEvent", "EndorsementEvent", "CertificateEvent", "ResidentEvent"} <= tables


def test_r_chg_4_continued_use_rows_name_the_clerk_and_the_job(
    clerk_a: User, make_resident: Any, make_card: Any, office_a: Office
) -> None:
    today = timezone.localdate()
    holder = make_resident(office_a)
    make_card(holder, issued_on=today - timedelta(days=400), applied_on=today - timedelta(days=420))
    marks = _marks()
    continued_use_receive(
        acting_user=clerk_a,
        resident=holder,
        data=ContinuedUseInput(
            applicant=Applicant(documents=LICENSE),
            planned_move_out_on=today - timedelta(days=3),
            moved_in_on=today - timedelta(days=2),
            move_in_notice_on=today,
            address="みどり市緑町1丁目",
            register_now=False,
        ),
        on=today,
    )
    rows = _rows_since(marks)
    _assert_named(rows, clerk_a, "continued_use_receive")
    assert "ContinuedUseEvent" in {type(row).__name__ for row in rows}

    marks = _marks()
    assert continued_use_void_due(on=today + timedelta(days=91)) == 1
    for row in _rows_since(marks):
        metadata = row.pgh_context.metadata
        assert metadata.get("system") == "applications.continued_use_void_due", metadata
