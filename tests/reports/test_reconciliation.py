"""R-NOT-4: J-LIS's list of the expiry notices it posted, compared with the holders due that
month; the city writes to every holder missing from it, once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.certificates.models import Certificate
from apps.certificates.rules import CertificateKind
from apps.notices.letters import build_letter, render_letters_html
from apps.notices.models import Notice
from apps.notices.rules import NoticeKind
from apps.reports.models import NoticeReconciliation
from apps.reports.services import notices_reconcile
from apps.residents.models import Resident
from apps.residents.rules import Residence, ResidenceCategory

FEBRUARY = date(2026, 2, 1)  # its notices are for the expiries of 1–31 May 2026


@pytest.fixture
def holders(
    office_a: Office,
    office_b: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> dict[str, Resident]:
    def holder(office: Office, expires_on: date, **data: Any) -> Resident:
        resident = make_resident(office, **data)
        card = make_card(resident)
        Card.objects.filter(pk=card.pk).update(expires_on=expires_on)
        return resident

    made = {
        "listed": holder(office_a, date(2026, 5, 10)),
        "missing": holder(office_a, date(2026, 5, 31)),  # due 28 February: February's list
        # R-NOT-3: a card ending with the stay gets no national notice: not due from J-LIS.
        "stay": holder(
            office_a,
            date(2026, 5, 15),
            nationality="VN",
            residence=Residence(
                category=ResidenceCategory.MID_LONG_TERM, period_ends_on=date(2026, 5, 15)
            ),
        ),
        "cert_listed": holder(office_a, date(2027, 6, 1)),
        "cert_missing": holder(office_a, date(2027, 6, 2)),
        "june": holder(office_a, date(2026, 6, 1)),  # March's list
        "other_office": holder(office_b, date(2026, 5, 12)),
    }
    for key, expires_on in (
        ("cert_listed", date(2026, 5, 20)),
        ("cert_missing", date(2026, 5, 21)),
    ):
        card = Card.objects.get(resident=made[key])
        Certificate.objects.create(
            card=card,
            kind=CertificateKind.AUTH,
            serial=f"c{card.pk.hex[:8]}",
            issued_on=date(2021, 5, 21),
            expires_on=expires_on,
        )
    return made


def _list(holders: dict[str, Resident], *extra: str) -> bytes:
    lines = [
        "resident_code,kind,expires_on,posted_on",
        f"{holders['listed'].resident_code},card,2026-05-10,2026-02-02",
        f"{holders['cert_listed'].resident_code},certificate,2026-05-20,2026-02-02",
        # Posted to the listed holder about a certificate they do not have: not due.
        f"{holders['listed'].resident_code},certificate,2026-05-10,2026-02-02",
        f"{holders['other_office'].resident_code},card,2026-05-12,2026-02-03",
        "99999999999,card,2026-05-12,2026-02-03",  # nobody of ours
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.django_db
def test_r_not_4_the_city_writes_to_each_holder_missing_from_the_list_once(
    supervisor_a: User, holders: dict[str, Resident]
) -> None:
    result = notices_reconcile(
        acting_user=supervisor_a, month=FEBRUARY, content=_list(holders), filename="jlis.csv"
    )
    record = result.record
    assert result.created
    # Due: listed, missing (cards); cert_listed, cert_missing (certificates) = 4.
    assert (record.due_count, record.listed_count, record.other_office_count) == (4, 3, 2)
    assert (record.missing_count, record.extra_count, record.letters_created) == (2, 1, 2)
    letters = Notice.objects.filter(
        kind__in=[NoticeKind.CITY_CARD_EXPIRY, NoticeKind.CITY_CERTIFICATE_EXPIRY]
    )
    assert sorted((n.resident_id, n.kind, n.expires_on) for n in letters) == sorted(
        [
            (holders["missing"].pk, NoticeKind.CITY_CARD_EXPIRY.value, date(2026, 5, 31)),
            (
                holders["cert_missing"].pk,
                NoticeKind.CITY_CERTIFICATE_EXPIRY.value,
                date(2026, 5, 21),
            ),
        ]
    )
    assert all(n.batch_id is not None for n in letters)

    # The same file again: the first comparison, nothing written.
    again = notices_reconcile(
        acting_user=supervisor_a, month=FEBRUARY, content=_list(holders), filename="jlis.csv"
    )
    assert not again.created
    assert again.record.pk == record.pk
    # A corrected file (another line) is a new comparison, but nobody gets a second letter.
    corrected = notices_reconcile(
        acting_user=supervisor_a,
        month=FEBRUARY,
        content=_list(holders, "99999999998,card,2026-05-13,2026-02-04"),
        filename="jlis2.csv",
    )
    assert corrected.created
    assert corrected.record.missing_count == 2
    assert corrected.record.letters_created == 0
    assert letters.count() == 2


@pytest.mark.django_db
def test_r_not_4_the_citys_letter_says_why_it_comes(
    supervisor_a: User, holders: dict[str, Resident]
) -> None:
    notices_reconcile(acting_user=supervisor_a, month=FEBRUARY, content=_list(holders), filename="")
    notice = Notice.objects.get(kind=NoticeKind.CITY_CARD_EXPIRY)
    html = render_letters_html([build_letter(notice, letter_date=date(2026, 3, 2))])
    assert "マイナンバーカード有効期限通知書" in html
    assert "J-LIS" in html
    certificate = Notice.objects.get(kind=NoticeKind.CITY_CERTIFICATE_EXPIRY)
    letter = build_letter(certificate, letter_date=date(2026, 3, 2))
    assert letter.certificates == (CertificateKind.AUTH.label,)


@pytest.mark.django_db
def test_r_not_4_a_bad_list_changes_nothing_and_says_which_line(
    supervisor_a: User, clerk_a: User, holders: dict[str, Resident]
) -> None:
    bad = _list(holders, "123,card,2026-05-13,2026-02-04")
    with pytest.raises(ValidationError, match="7行目: 住民票コードは11桁"):
        notices_reconcile(acting_user=supervisor_a, month=FEBRUARY, content=bad, filename="x")
    with pytest.raises(PermissionDenied):
        notices_reconcile(acting_user=clerk_a, month=FEBRUARY, content=_list(holders), filename="x")
    assert not NoticeReconciliation.objects.exists()
    assert not Notice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_r_not_4_two_imports_at_once_write_one_comparison_and_one_letter_each(
    supervisor_a: User, holders: dict[str, Resident]
) -> None:
    content = _list(holders)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            notices_reconcile(
                acting_user=supervisor_a, month=FEBRUARY, content=content, filename="a.csv"
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert NoticeReconciliation.objects.count() == 1
    assert Notice.objects.count() == 2


@pytest.mark.django_db
def test_r_not_4_the_page_imports_and_shows_the_comparison(
    supervisor_a: User,
    auditor: User,
    holders: dict[str, Resident],
    client_for: Callable[[User | None], Client],
) -> None:
    client = client_for(supervisor_a)
    upload = SimpleUploadedFile("jlis.csv", _list(holders), content_type="text/csv")
    response = client.post(
        reverse("reports:reconciliation_import"), {"month": "2026-02", "file": upload}
    )
    assert response.status_code == 302
    page = client.get(reverse("reports:reconciliation")).content.decode()
    assert "発送漏れ 2件" in page
    assert holders["missing"].resident_code in page
    assert holders["listed"].resident_code not in page
    assert 'data-label="発送漏れ" data-value="2"' in page
    bad = SimpleUploadedFile("bad.csv", b"nonsense\n", content_type="text/csv")
    refused = client.post(
        reverse("reports:reconciliation_import"), {"month": "2026-02", "file": bad}
    )
    assert refused.status_code == 400
    assert "1行目は" in refused.content.decode()
    # The auditor reads the comparison, and may not import.
    audit = client_for(auditor)
    seen = audit.get(reverse("reports:reconciliation")).content.decode()
    assert holders["missing"].resident_code in seen
    assert "取り込んで突合する" not in seen
    assert audit.post(reverse("reports:reconciliation_import"), {}).status_code == 403
