"""Letters: a batch rendered to a real PDF (WeasyPrint, IPAex) and read back; the CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from apps.accounts.models import Office
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.certificates.rules import CertificateKind
from apps.notices.letters import CSV_HEADER, batch_csv
from apps.notices.models import Notice, NoticeBatch
from apps.notices.rules import NoticeKind, format_reference_code, reference_code_for
from apps.notices.services import batch_render, notices_run
from apps.residents.models import Resident
from tests.conftest import valid_my_number

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> list[str]:
    # Extraction may break lines anywhere and keep or drop spaces: compare without them.
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]


def test_batch_pdf_has_one_japanese_letter_per_notice_and_no_my_number(
    settings: Any,
    office_a: Office,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
    certificate_on: Callable[..., Any],
) -> None:
    """R-NOT-1: the letter states the expiry and the renewal start; R-MYN-2: no My Number."""
    settings.CITY_NAME = "みどり市"
    settings.CITY_CONTACT = "みどり市役所 市民課 0144-00-0000"
    my_number = valid_my_number(424_242)
    holder = make_resident(
        office_a,
        my_number=my_number,
        family_name="髙橋",
        given_name="美咲",
        postal_code="053-0021",
        address="みどり市若草町3丁目2番1号",
    )
    card = card_expiring(holder, date(2027, 5, 31))
    certificate_on(card, date(2027, 5, 31), kind=CertificateKind.SIGNING)
    other = make_resident(office_a, postal_code="053-0099", address="みどり市旭町9丁目")
    card_expiring(other, date(2027, 5, 20))

    result = notices_run(on=date(2027, 2, 28), render=False)
    (batch_id,) = result.batch_ids
    assert batch_render(batch_id=batch_id) is True

    batch = NoticeBatch.objects.get(pk=batch_id)
    assert batch.render_state == NoticeBatch.RenderState.DONE
    assert batch.rendered_count == batch.notice_count == 2
    with default_storage.open(batch.pdf, "rb") as handle:
        pdf = handle.read()
    pages = _text(pdf)
    assert len(pages) == 2
    notice = Notice.objects.get(card=card)
    # Postal-code order: the holder (053-0021) first.
    first = pages[0]
    for expected in (
        "マイナンバーカード有効期限通知書",
        "〒053-0021",
        "みどり市若草町3丁目2番1号",
        "髙橋美咲様",
        "2027年5月31日/令和9年5月31日",  # the expiry, both calendars
        "2027年3月1日/令和9年3月1日から",  # R-NOT-1: renewal from the day after 28 Feb
        "署名用電子証明書",  # ends with the card, so it is in this letter
        format_reference_code(reference_code_for(notice.pk)),
        "みどり市役所市民課0144-00-0000",
    ):
        assert expected in first, expected
    assert "053-0099" in pages[1]
    for page in pages:
        assert my_number not in page
        assert my_number[-4:] not in page.replace("0144-00-0000", "")


def test_pickup_and_stay_reminder_letters(
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> None:
    """R-ISS-1: the pickup letter carries the reference code; under 15 needs the representative."""
    child = make_resident(office_a, birth_date=date(2016, 4, 2), given_name="陽翔")
    card = make_card(child, state=CardState.ARRIVED, issued_on=date(2027, 1, 5))
    result = notices_run(on=date(2027, 1, 8), render=False)
    batch_render(batch_id=result.batch_ids[0])
    batch = NoticeBatch.objects.get(pk=result.batch_ids[0])
    assert batch.kind == NoticeKind.PICKUP
    with default_storage.open(batch.pdf, "rb") as handle:
        (page,) = _text(handle.read())
    notice = Notice.objects.get(card=card)
    assert "マイナンバーカード交付通知書" in page
    assert format_reference_code(notice.reference_code) in page
    assert "法定代理人" in page


def test_csv_for_the_vendor_is_formula_safe(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> None:
    """Every cell that a spreadsheet would read as a formula starts with a quote."""
    resident = make_resident(
        office_a,
        family_name='=HYPERLINK("http://x")',
        address="+81 みどり市",
        postal_code="053-0001",
    )
    card_expiring(resident, date(2027, 5, 20))
    result = notices_run(on=date(2027, 3, 1), render=False)
    batch = NoticeBatch.objects.get(pk=result.batch_ids[0])
    raw = batch_csv(batch=batch)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    (row,) = rows[1:]
    notice = Notice.objects.get(card__resident=resident)
    assert row[0] == notice.reference_code
    assert row[1] == NoticeKind.CARD_EXPIRY.label
    assert row[3] == "'+81 みどり市"
    assert row[4].startswith("'=HYPERLINK")
    assert row[5] == "2027-05-20"
