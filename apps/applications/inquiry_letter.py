"""The inquiry-and-answer letter (照会書兼回答書) of an ordinary proxy's lock release
(R-PIN-1): posted to the holder's registered address; the holder answers on it, the proxy
brings it back, and its code ties the two visits.

R-MYN-2: no My Number on it. R-PIN-3: no PIN on it, only which PINs are to be released.
WeasyPrint with IPAex fonts, the same A4 window-envelope layout as the notices.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.template.loader import render_to_string

from apps.applications.models import CardProcedure
from apps.certificates.rules import PinKind, convenience_store_resettable
from apps.core.wareki import format_both

logging.getLogger("weasyprint").setLevel(logging.WARNING)


def format_letter_code(code: str) -> str:
    """``ABCD2345`` → ``ABCD-2345``: easier to read and type back."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def inquiry_letter_pdf(*, procedure: CardProcedure) -> bytes:
    from weasyprint import HTML

    application = procedure.application
    resident = application.resident
    if procedure.letter_code is None or procedure.letter_issued_on is None:
        raise ValueError("この手続に照会書はありません。")
    kinds = [PinKind(kind) for kind in procedure.pins]
    html = render_to_string(
        "applications/letters/inquiry_letter.html",
        {
            "city_name": settings.CITY_NAME,
            "city_contact": settings.CITY_CONTACT,
            "postal_code": resident.postal_code,
            "address": resident.address,
            "name": resident.full_name,
            "proxy_name": application.applicant_name,
            "code": format_letter_code(procedure.letter_code),
            "issued_on": format_both(procedure.letter_issued_on),
            "pins": [kind.label for kind in kinds],
            "store": [kind.label for kind in convenience_store_resettable(set(kinds))],
        },
    )
    return bytes(HTML(string=html).write_pdf() or b"")
