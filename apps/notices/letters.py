"""Letters: a batch rendered to one PDF (WeasyPrint, IPAex fonts) and one CSV for the vendor.

Layout: A4 portrait, folded in three for a 長形3号 window envelope; the address block sits
where the window is (23 mm from the left, 13 mm from the top, 90 × 45 mm). Fonts are IPAex
(Debian ``fonts-ipaexfont``): Noto CJK costs seconds per document to subset, IPAex
milliseconds a page (docs/architecture.md).

R-MYN-2: a letter never carries the My Number, not even its last digits. The QR code holds
the notice's reference code only.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import segno
from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string

from apps.certificates.models import Certificate, CertificateState
from apps.certificates.rules import CertificateKind
from apps.core.wareki import format_both
from apps.notices.models import Notice, NoticeBatch
from apps.notices.rules import (
    NoticeKind,
    csv_safe,
    format_reference_code,
    reference_code_for,
    renewal_opens_on,
)
from apps.residents.rules import needs_legal_representative

# WeasyPrint logs every rendering step at INFO: thousands of lines per batch in the worker log.
logging.getLogger("weasyprint").setLevel(logging.WARNING)

# Letters per WeasyPrint document: progress is reported after each, and the pages are joined.
CHUNK = 50


@dataclass(frozen=True)
class Letter:
    """Everything one letter prints; built from the database at render time."""

    kind: NoticeKind
    reference_code: str
    reference_display: str
    qr_svg_uri: str
    postal_code: str
    address: str
    name: str
    expires_on: str
    renewal_opens_on: str
    certificates: tuple[str, ...]
    needs_representative: bool
    letter_date: str


def _qr(code: str) -> str:
    return segno.make(code, error="m", micro=False).svg_data_uri(scale=1, border=2)


def _certificate_labels(notice: Notice) -> tuple[str, ...]:
    certificates: list[Certificate] = list(notice.card.certificates.all())
    if notice.kind in (NoticeKind.CERTIFICATE_EXPIRY, NoticeKind.CITY_CERTIFICATE_EXPIRY):
        # The certificates this event is about: those ending that day.
        certificates = [c for c in certificates if c.expires_on == notice.expires_on]
    kinds = sorted({c.kind for c in certificates})
    return tuple(CertificateKind(kind).label for kind in kinds)


def _notices(batch: NoticeBatch) -> Iterator[Notice]:
    active_certificates = Certificate.objects.filter(state=CertificateState.ACTIVE)
    return (
        Notice.objects.filter(batch=batch)
        .select_related("resident", "card")
        .prefetch_related(Prefetch("card__certificates", queryset=active_certificates))
        # The order the letters were numbered and cut into batches: postal code first.
        .order_by("resident__postal_code", "card_id", "expires_on")
        .iterator(chunk_size=CHUNK)
    )


def build_letter(notice: Notice, *, letter_date: date) -> Letter:
    resident = notice.resident
    code = reference_code_for(notice.pk)
    return Letter(
        kind=NoticeKind(notice.kind),
        reference_code=code,
        reference_display=format_reference_code(code),
        qr_svg_uri=_qr(code),
        postal_code=resident.postal_code,
        address=resident.address,
        name=resident.full_name,
        expires_on=format_both(notice.expires_on),
        renewal_opens_on=format_both(renewal_opens_on(notice.expires_on)),
        certificates=_certificate_labels(notice),
        # R-ISS-2: under 15 the legal representative comes to the handover.
        needs_representative=needs_legal_representative(
            birth_date=resident.birth_date, on=letter_date
        ),
        letter_date=format_both(letter_date),
    )


def render_letters_html(letters: list[Letter]) -> str:
    return render_to_string(
        "notices/letters/letters.html",
        {
            "letters": letters,
            "city_name": settings.CITY_NAME,
            "city_contact": settings.CITY_CONTACT,
        },
    )


def render_batch_pdf(
    *, batch: NoticeBatch, progress: Callable[[int], None] | None = None
) -> tuple[bytes, int]:
    """The batch's letters as one PDF, and how many letters it holds."""
    from weasyprint import HTML

    documents = []
    done = 0
    chunk: list[Letter] = []

    def flush() -> None:
        nonlocal done
        documents.append(HTML(string=render_letters_html(chunk)).render())
        done += len(chunk)
        chunk.clear()
        if progress is not None:
            progress(done)

    for notice in _notices(batch):
        chunk.append(build_letter(notice, letter_date=batch.run_on))
        if len(chunk) == CHUNK:
            flush()
    if chunk or not documents:
        flush()
    pages = [page for document in documents for page in document.pages]
    pdf = documents[0].copy(pages).write_pdf()
    return bytes(pdf or b""), done


CSV_HEADER = ("整理番号", "通知種別", "郵便番号", "住所", "氏名", "有効期限", "作成基準日")


def batch_csv(*, batch: NoticeBatch) -> bytes:
    """The mailing list for the vendor: one row per letter, in the PDF's order.

    UTF-8 with a byte-order mark so that Excel opens it as UTF-8; every cell passes
    :func:`csv_safe` (no formula injection through a name or an address).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for notice in _notices(batch):
        resident = notice.resident
        row = (
            reference_code_for(notice.pk),
            NoticeKind(notice.kind).label,
            resident.postal_code,
            resident.address,
            resident.full_name,
            notice.expires_on.isoformat(),
            notice.created_on.isoformat(),
        )
        writer.writerow([csv_safe(value) for value in row])
    return out.getvalue().encode("utf-8-sig")
