"""Pure rules about the two electronic certificates and the four PINs.

No Django, no database, no clock: every date is a parameter. Rule ids refer to
``docs/rules.md``.

R-PIN-3: a PIN is never stored or logged by this system. The functions here look at a PIN only
to check its format, and no message they raise contains it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Final

from apps.cards.rules import nth_birthday_after
from apps.residents.rules import age_on

# --- R-CRT: certificates ------------------------------------------------------------------------


class CertificateKind(enum.StrEnum):
    """The two e-certificates on the card (R-CRT-1)."""

    SIGNING = "signing"
    AUTH = "auth"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return CERTIFICATE_KIND_LABELS[self]


CERTIFICATE_KIND_LABELS: Final[dict[CertificateKind, str]] = {
    CertificateKind.SIGNING: "署名用電子証明書",
    CertificateKind.AUTH: "利用者証明用電子証明書",
}

# R-CRT-1: valid to the 5th birthday after the certificate's own issue date.
CERTIFICATE_BIRTHDAYS: Final = 5
# R-CRT-2: below this age (on the issue date) there is no SIGNING certificate and the AUTH one
# needs the legal representative.
CERTIFICATE_MIN_AGE: Final = 15


def certificate_expiry(*, birth_date: date, issued_on: date, card_expires_on: date) -> date:
    """The last day a certificate is valid (R-CRT-1).

    The holder's 5th birthday after the certificate's issue date ("after" excludes the issue
    date, R-VAL-4; 29 February births per R-VAL-5), never past the card's expiry. Applies to
    both kinds. A certificate cannot be issued on a card that has already expired.
    """
    if card_expires_on < issued_on:
        raise ValueError("有効期限が切れたカードには電子証明書を発行できません。")
    fifth_birthday = nth_birthday_after(
        birth_date=birth_date, after=issued_on, n=CERTIFICATE_BIRTHDAYS
    )
    return min(fifth_birthday, card_expires_on)


def under_certificate_age(*, birth_date: date, on: date) -> bool:
    """True if the holder is under 15 on ``on`` (R-CRT-2).

    Also decides who sets the AUTH PIN: for an under-15 it is the legal representative
    (R-CRT-2, p.4 ※2).
    """
    return age_on(birth_date=birth_date, on=on) < CERTIFICATE_MIN_AGE


def may_issue(
    *,
    kind: CertificateKind,
    birth_date: date,
    on: date,
    adult_ward: bool,
    legal_rep_requests: bool = False,
) -> bool:
    """Whether a certificate of ``kind`` may be issued on ``on`` (R-CRT-2, R-CRT-3).

    SIGNING: never for a holder under 15 on ``on`` or an adult ward; the legal
    representative's request does not change that. AUTH: always for a holder of 15 or more who
    is not an adult ward; for an under-15 or an adult ward only if the legal representative
    asks. A holder who has turned 15 may add SIGNING later (R-CRT-3): call again with the new
    date. The 15th birthday counts as reached on the day itself (R-VAL-2 policy, R-VAL-5).
    """
    restricted = under_certificate_age(birth_date=birth_date, on=on) or adult_ward
    if kind is CertificateKind.SIGNING:
        return not restricted
    return legal_rep_requests or not restricted


# --- R-PIN: the four PINs -----------------------------------------------------------------------


class PinKind(enum.StrEnum):
    """The four PINs on the card (R-PIN table)."""

    SIGNING = "signing"
    AUTH = "auth"
    RESIDENT = "resident"
    TEXT = "text"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return PIN_KIND_LABELS[self]


PIN_KIND_LABELS: Final[dict[PinKind, str]] = {
    PinKind.SIGNING: "署名用電子証明書暗証番号",
    PinKind.AUTH: "利用者証明用電子証明書暗証番号",
    PinKind.RESIDENT: "住民基本台帳用暗証番号",
    PinKind.TEXT: "券面事項入力補助用暗証番号",
}

# R-PIN table: wrong entries in a row before the PIN locks. The count does not reset by itself.
PIN_MAX_TRIES: Final[dict[PinKind, int]] = {
    PinKind.SIGNING: 5,
    PinKind.AUTH: 3,
    PinKind.RESIDENT: 3,
    PinKind.TEXT: 3,
}

SIGNING_PIN_MIN_LENGTH: Final = 6
SIGNING_PIN_MAX_LENGTH: Final = 16
FOUR_DIGIT_PIN_LENGTH: Final = 4

_SIGNING_PIN_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def normalize_pin(kind: PinKind, pin: str) -> str:
    """Check a PIN's format (R-PIN table) and return the form the card expects.

    SIGNING: 6–16 characters of A–Z and 0–9 after upper-casing, with at least one letter and
    one digit; returned upper-cased. The others: exactly 4 ASCII digits, returned unchanged.
    Raises ``ValueError`` with a Japanese message that never contains the PIN.

    R-PIN-3: never store or log the PIN, the input or the result.
    """
    label = kind.label
    if kind is PinKind.SIGNING:
        # isascii() first: str.upper() maps some non-ASCII letters onto A–Z ("ı" → "I",
        # "ſ" → "S"), which the card would not accept.
        if not pin.isascii():
            raise ValueError(f"{label}は半角英数字で入力してください。")
        upper = pin.upper()
        if not SIGNING_PIN_MIN_LENGTH <= len(upper) <= SIGNING_PIN_MAX_LENGTH:
            raise ValueError(
                f"{label}は{SIGNING_PIN_MIN_LENGTH}〜{SIGNING_PIN_MAX_LENGTH}文字です"
                f"（入力は{len(upper)}文字）。"
            )
        if not set(upper) <= _SIGNING_PIN_ALPHABET:
            raise ValueError(f"{label}に使えるのは英字（A〜Z）と数字（0〜9）のみです。")
        if upper.isdigit() or upper.isalpha():
            raise ValueError(f"{label}は英字と数字をそれぞれ1文字以上含めてください。")
        return upper
    if not (len(pin) == FOUR_DIGIT_PIN_LENGTH and pin.isascii() and pin.isdigit()):
        raise ValueError(f"{label}は半角数字4桁です。")
    return pin


def validate_pin_format(kind: PinKind, pin: str) -> None:
    """Raise ``ValueError`` unless ``pin`` has the format of ``kind`` (R-PIN table).

    See :func:`normalize_pin` for the formats. R-PIN-3: never store or log the PIN; only the
    lock state and remaining tries are kept.
    """
    normalize_pin(kind, pin)


def pin_may_reset_at_convenience_store(kind: PinKind) -> bool:
    """Only the SIGNING PIN can be reset at a convenience store (R-PIN-2).

    The three 4-digit PINs are reset or unlocked only at the counter of the resident's own
    city (R-PIN-1).
    """
    return kind is PinKind.SIGNING


def newer_observation(*, read_at: datetime, observed_at: datetime | None) -> bool:
    """Outbox reads can arrive after later ones: only a newer read may move a PIN counter."""
    return observed_at is None or read_at >= observed_at


# --- counter procedures on the certificates (R-CRT-2…5) ----------------------------------------


class CertificateAction(enum.StrEnum):
    """What the certificate procedure at the counter does (R-CRT-3, R-CRT-4)."""

    ISSUE = "issue"  # with a new card, or added later to a card in use (R-CRT-3)
    RENEW = "renew"  # a new certificate of the same kind replaces the one on the card
    REVOKE = "revoke"  # the holder asks to end it; the card stays

    @property
    def label(self) -> str:
        return CERTIFICATE_ACTION_LABELS[self]


CERTIFICATE_ACTION_LABELS: Final[dict[CertificateAction, str]] = {
    CertificateAction.ISSUE: "発行（新規・追加）",
    CertificateAction.RENEW: "更新",
    CertificateAction.REVOKE: "失効（廃止）",
}


def issue_refusal(
    *,
    kind: CertificateKind,
    birth_date: date,
    on: date,
    adult_ward: bool,
    legal_rep_requests: bool = False,
) -> str | None:
    """Why a certificate of ``kind`` may not be issued on ``on``, in words for the clerk, or
    None when it may (R-CRT-2, R-CRT-3; the same decision as :func:`may_issue`).

    SIGNING: refused to a holder under 15 on ``on`` (the 15th birthday itself is allowed) and
    to an adult ward, whoever asks. AUTH for either: only at the legal representative's
    request. The reason says which, so the screen can show it.
    """
    under_15 = under_certificate_age(birth_date=birth_date, on=on)
    if kind is CertificateKind.SIGNING:
        if under_15:
            return (
                "15歳未満の方には署名用電子証明書を発行できません"
                "（15歳の誕生日から追加で発行できます）。"
            )
        if adult_ward:
            return "成年被後見人の方には署名用電子証明書を発行できません。"
        return None
    if (under_15 or adult_ward) and not legal_rep_requests:
        who = "15歳未満の方" if under_15 else "成年被後見人の方"
        return f"{who}の利用者証明用電子証明書は、法定代理人の申請がある場合のみ発行できます。"
    return None


# --- lock release and PIN reset (R-PIN-1, R-PIN-2) ---------------------------------------------


# R-PIN-1: the ordinary proxy's lock release takes two visits, tied by the inquiry-and-answer
# letter (照会書兼回答書) the city posts to the holder's registered address.
PROXY_VISITS: Final = 2


def convenience_store_resettable(kinds: frozenset[PinKind] | set[PinKind]) -> list[PinKind]:
    """Which of ``kinds`` a convenience store can also reset (R-PIN-2: the SIGNING PIN only),
    in the card's PIN order, for the screen that tells the resident."""
    return [kind for kind in PinKind if kind in kinds and pin_may_reset_at_convenience_store(kind)]
