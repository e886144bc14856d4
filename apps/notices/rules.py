"""Pure rules about expiry notices and the renewal window.

No Django, no database, no clock: every date is a parameter. Rule ids refer to
``docs/rules.md``.
"""

from __future__ import annotations

import calendar
import enum
import unicodedata
from datetime import date, timedelta
from typing import Final

from apps.cards.rules import add_months
from apps.core.csvsafe import csv_safe

__all__ = [
    "NOTICE_LEAD_MONTHS",
    "REFERENCE_PREFIX",
    "InvalidReferenceCodeError",
    "NoticeKind",
    "add_months",
    "card_ends_with_period_of_stay",
    "csv_safe",
    "expiry_window",
    "format_reference_code",
    "latest_expiry_due_for_notice",
    "luhn_check_digit",
    "notice_due_on",
    "parse_reference_code",
    "reference_code_for",
    "renewal_opens_on",
]

# R-NOT-1: "about 3 months before" the expiry of the card or of a certificate.
NOTICE_LEAD_MONTHS: Final = 3


def notice_due_on(expires_on: date) -> date:
    """The day an expiry notice becomes due: expiry minus 3 calendar months (R-NOT-1).

    Policy R-NOT-1: clamped to the end of a shorter month, so 2024-05-31 → 2024-02-29 and
    2025-05-31 → 2025-02-28. The same rule serves card and certificate expiries.
    """
    return add_months(expires_on, -NOTICE_LEAD_MONTHS)


def renewal_opens_on(expires_on: date) -> date:
    """The first day a renewal may be applied for: the day after :func:`notice_due_on` (R-NOT-1).

    2024-12-31 → 2024-10-01; 2024-03-15 → 2023-12-16. Renewal stays possible after the expiry
    (R-REI table), so there is no closing day.
    """
    return notice_due_on(expires_on) + timedelta(days=1)


def latest_expiry_due_for_notice(on: date) -> date:
    """The last expiry date whose notice is due on or before ``on`` (R-NOT-1).

    ``notice_due_on`` never decreases as the expiry moves later, so the expiries due for a
    notice on ``on`` are exactly those ``<= latest_expiry_due_for_notice(on)``: a range the
    notice job can scan by index. Plain ``on + 3 months`` is wrong at month ends: on
    2024-02-29 the expiries 2024-05-30 and 2024-05-31 are due too (both clamp to 29 Feb).
    """
    target = add_months(on, NOTICE_LEAD_MONTHS)
    if on.day == calendar.monthrange(on.year, on.month)[1]:
        # ``on`` is a month end: every later day of the target month clamps back onto it.
        return target.replace(day=calendar.monthrange(target.year, target.month)[1])
    return target


def expiry_window(on: date) -> tuple[date, date]:
    """The expiries the job on ``on`` looks at: from ``on`` through the last one due (R-NOT-1).

    The lower bound is ``on`` itself: a card that expired yesterday is past any notice (its
    holder renews after expiry at the counter, R-REI table), while one expiring today still
    gets its notice if a failed run missed it earlier (R-NOT-2: none missed).
    """
    return on, latest_expiry_due_for_notice(on)


# --- kinds of notice ----------------------------------------------------------------------------


class NoticeKind(enum.StrEnum):
    """What a letter is about. One notice per holder per event and kind (R-NOT-2)."""

    # R-NOT-1: the card's expiry; lists the certificates that end with it (R-CRT-5).
    CARD_EXPIRY = "card_expiry"
    # R-NOT-1: a certificate expiry on a day other than the card's (both certificates of one
    # card ending the same day are one event for the holder: one letter).
    CERTIFICATE_EXPIRY = "cert_expiry"
    # R-NOT-3: the city's own reminder to a foreign resident whose card ends with the stay.
    STAY_REMINDER = "stay_reminder"
    # R-ISS-1: the card has arrived at the city, come and collect it.
    PICKUP = "pickup"
    # R-NOT-4: the city's own letter to a holder missing from J-LIS's list of the national
    # notices it posted (the reconciliation of apps.reports): about the card's expiry, or a
    # certificate's.
    CITY_CARD_EXPIRY = "city_card"
    CITY_CERTIFICATE_EXPIRY = "city_cert"

    @property
    def label(self) -> str:
        """The Japanese name a clerk (and the letter) uses."""
        return NOTICE_KIND_LABELS[self]


NOTICE_KIND_LABELS: Final[dict[NoticeKind, str]] = {
    NoticeKind.CARD_EXPIRY: "有効期限通知書（カード）",
    NoticeKind.CERTIFICATE_EXPIRY: "有効期限通知書（電子証明書）",
    NoticeKind.STAY_REMINDER: "有効期限変更手続のお知らせ",
    NoticeKind.PICKUP: "交付通知書",
    NoticeKind.CITY_CARD_EXPIRY: "有効期限のお知らせ（カード・市から）",
    NoticeKind.CITY_CERTIFICATE_EXPIRY: "有効期限のお知らせ（電子証明書・市から）",
}


# --- R-NOT-3 ------------------------------------------------------------------------------------


def card_ends_with_period_of_stay(
    *, foreign: bool, card_expires_on: date, national_expires_on: date | None
) -> bool:
    """True if a foreign resident's card ends with the period of stay, not the national date.

    R-NOT-3: such holders get no national expiry notice; the city reminds them to apply for
    the expiry change (R-VAL-7) before the card expires. The card "ends with the stay" when
    its expiry is earlier than the national date (R-VAL-2) the card would otherwise have
    (R-VAL-6 takes the earlier of the two). Comparing with the national date rather than with
    the resident's current period of stay matters: a resident whose stay was already renewed
    but who has not yet had the card changed still holds a card ending with the old stay, and
    is exactly who needs the reminder. ``national_expires_on`` None means it could not be
    computed; the card then counts as national (the national notice is the safe default).
    """
    if not foreign or national_expires_on is None:
        return False
    return card_expires_on < national_expires_on


# --- reference codes on letters -----------------------------------------------------------------

# The prefix keeps a reference code apart from the 11-digit resident-register code and the
# 12-digit My Number, which are the other numbers a clerk types or scans at the counter.
REFERENCE_PREFIX: Final = "N"
REFERENCE_DIGITS: Final = 10


class InvalidReferenceCodeError(ValueError):
    """A reference code that cannot be one of ours; the message is Japanese."""


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit for ``digits``: catches one wrong digit and most swaps."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("チェックデジットの計算には半角数字が必要です。")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def reference_code_for(number: int) -> str:
    """The code printed (and in the QR code) on a letter: ``N`` + 10 digits + check digit.

    R-ISS-1 / R-MYN-2: the counter scans it to find the notice and its application; it is
    derived from the notice's own number and so carries nothing about the person, least of
    all the My Number. Example: 1 → ``N00000000018``.
    """
    if not 0 < number < 10**REFERENCE_DIGITS:
        raise ValueError("通知書の番号が範囲外です。")
    body = f"{number:0{REFERENCE_DIGITS}d}"
    return f"{REFERENCE_PREFIX}{body}{luhn_check_digit(body)}"


def format_reference_code(code: str) -> str:
    """The printed form, grouped for reading aloud on the phone: ``N-00000-00001-8``."""
    body = code[len(REFERENCE_PREFIX) :]
    return f"{REFERENCE_PREFIX}-{body[:5]}-{body[5:10]}-{body[10:]}"


_IGNORED_IN_CODES: Final = frozenset(" \u3000-\u2010\u2011\u2012\u2013\u2014\u2212\u30fc\uff0d")


def parse_reference_code(text: str) -> int:
    """The notice number in a typed or scanned reference code.

    Accepts the printed form with hyphens and spaces, full-width characters from a Japanese
    IME, a lower-case ``n``, and the 11 digits without the prefix. Raises
    :class:`InvalidReferenceCodeError` with a message that says what is wrong.
    """
    # NFKC is safe here (unlike for the My Number): the result must still be ASCII digits.
    cleaned = "".join(
        char for char in unicodedata.normalize("NFKC", text) if char not in _IGNORED_IN_CODES
    ).upper()
    if cleaned.startswith(REFERENCE_PREFIX):
        cleaned = cleaned[len(REFERENCE_PREFIX) :]
    if not cleaned:
        raise InvalidReferenceCodeError("整理番号を入力してください。")
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise InvalidReferenceCodeError(
            "整理番号は「N」と数字11桁です（例: N-00000-00001-8）。数字以外の文字が含まれています。"
        )
    if len(cleaned) != REFERENCE_DIGITS + 1:
        raise InvalidReferenceCodeError(f"整理番号の数字は11桁です（入力は{len(cleaned)}桁）。")
    body, check = cleaned[:REFERENCE_DIGITS], int(cleaned[REFERENCE_DIGITS])
    if luhn_check_digit(body) != check:
        raise InvalidReferenceCodeError(
            "整理番号の読み取りまたは入力に誤りがあります（検査数字が一致しません）。"
        )
    number = int(body)
    if number == 0:
        raise InvalidReferenceCodeError("整理番号が正しくありません。")
    return number


# --- CSV for the mailing vendor -----------------------------------------------------------------

# csv_safe (imported above from apps.core.csvsafe) makes each cell inert for spreadsheets.
