"""The printable receipt (領収書): Japanese, the city's name from settings, one A5 page.

WeasyPrint with the IPAex Gothic font (Debian fonts-ipaexfont): about 0.2 s a receipt, where
Noto CJK would cost seconds to subset (docs/architecture.md).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from apps.fees.models import Payment


def receipt_pdf(*, payment: Payment) -> bytes:
    from weasyprint import HTML  # heavy import, only where a PDF is made

    void = getattr(payment, "void", None) if payment.is_voided else None
    html = render_to_string(
        "fees/receipt_pdf.html",
        {"payment": payment, "void": void, "city_name": settings.CITY_NAME},
    )
    return bytes(HTML(string=html).write_pdf())


def receipt_filename(payment: Payment) -> str:
    # ASCII only, no personal data: the office code, fiscal year and number identify it.
    return f"receipt-{payment.office.code}-{payment.fiscal_year}-{payment.receipt_number:06d}.pdf"
