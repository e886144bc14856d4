"""Pure rules about the resident: the My Number, status of residence, age.

No Django, no database, no clock: every date is a parameter. Rule ids refer to
``docs/rules.md``.

R-MYN-2: a My Number is specific personal information. Nothing in this module puts the
number, or any part of it, into an exception message; messages only describe what is wrong.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date
from typing import Final

# --- R-MYN-1: the My Number -------------------------------------------------------------------

MY_NUMBER_LENGTH: Final = 12

# Weights for d1..d11, left to right (個人番号の生成に関する省令 第5条).
_CHECK_WEIGHTS: Final = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# What a clerk may type besides ASCII digits. Kept as an explicit table rather than
# unicodedata.normalize/str.isdigit: NFKC and isdigit() also accept superscripts, Arabic-Indic
# digits and the like, which R-MYN-1 says must be an error, not silently become a number.
_FULL_WIDTH_DIGITS: Final = {chr(0xFF10 + i): str(i) for i in range(10)}
_SEPARATORS: Final = frozenset(
    {
        " ",  # ASCII space
        "\u3000",  # ideographic (full-width) space
        "\u00a0",  # no-break space, arrives when pasting from web pages and spreadsheets
        "-",  # ASCII hyphen-minus
        "\uff0d",  # － full-width hyphen-minus
        "\u30fc",  # ー katakana prolonged sound mark, the usual IME "hyphen"
        "\uff70",  # ｰ half-width katakana prolonged sound mark
        "\u2010",  # ‐ hyphen
        "\u2011",  # ‑ non-breaking hyphen
        "\u2012",  # ‒ figure dash
        "\u2013",  # – en dash
        "\u2014",  # — em dash
        "\u2015",  # ― horizontal bar
        "\u2212",  # − minus sign
    }
)


class InvalidMyNumberError(ValueError):
    """A My Number that fails R-MYN-1; ``code`` tells forms which mistake it was.

    The message is Japanese and never contains the number (R-MYN-2).
    """

    INVALID_CHARACTERS: Final = "invalid_characters"
    INVALID_LENGTH: Final = "invalid_length"
    CHECK_DIGIT_MISMATCH: Final = "check_digit_mismatch"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _is_ascii_digits(text: str, length: int) -> bool:
    # str.isdigit() alone accepts full-width and other Unicode digits.
    return len(text) == length and text.isascii() and text.isdigit()


def my_number_check_digit(first11: str) -> int:
    """Return the check digit for the first eleven digits of a My Number (R-MYN-1).

    r = Σ dᵢ·wᵢ mod 11 with weights 6,5,4,3,2,7,6,5,4,3,2 (left to right);
    the check digit is 0 when r ≤ 1, else 11 − r.
    """
    if not _is_ascii_digits(first11, MY_NUMBER_LENGTH - 1):
        raise ValueError("チェックデジットの計算には半角数字11桁が必要です。")
    remainder = sum(int(d) * w for d, w in zip(first11, _CHECK_WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(number: str) -> bool:
    """True if ``number`` is exactly 12 ASCII digits with a correct check digit (R-MYN-1).

    No normalisation happens here: use :func:`normalize_my_number` for clerk input.
    """
    if not _is_ascii_digits(number, MY_NUMBER_LENGTH):
        return False
    return my_number_check_digit(number[:-1]) == int(number[-1])


def normalize_my_number(raw: str) -> str:
    """Normalise a My Number typed by a clerk and validate it (R-MYN-1).

    Full-width digits become ASCII digits; spaces (ASCII, full-width, no-break) and hyphens
    (ASCII and the dashes a Japanese IME produces, such as ー, －, ‐) are dropped. What remains
    must be 12 ASCII digits with a correct check digit. Returns those 12 digits.

    Raises :class:`InvalidMyNumberError` (a ``ValueError``) with a Japanese message and a
    ``code`` of ``invalid_characters``, ``invalid_length`` or ``check_digit_mismatch``.
    The messages never repeat the number (R-MYN-2).
    """
    digits: list[str] = []
    for position, char in enumerate(raw, start=1):
        if "0" <= char <= "9":
            digits.append(char)
        elif char in _FULL_WIDTH_DIGITS:
            digits.append(_FULL_WIDTH_DIGITS[char])
        elif char in _SEPARATORS:
            continue
        else:
            # Naming the character is safe (it is not a digit, so not part of the number) and
            # tells the clerk what to fix, e.g. the letter O typed for a zero.
            shown = char if char.isprintable() else f"U+{ord(char):04X}"
            raise InvalidMyNumberError(
                f"個人番号に使用できない文字「{shown}」が含まれています（{position}文字目）。"
                "数字のみを入力してください（空白とハイフンは無視されます）。",
                code=InvalidMyNumberError.INVALID_CHARACTERS,
            )
    number = "".join(digits)
    if not number:
        raise InvalidMyNumberError(
            "個人番号が入力されていません。12桁の数字を入力してください。",
            code=InvalidMyNumberError.INVALID_LENGTH,
        )
    if len(number) != MY_NUMBER_LENGTH:
        raise InvalidMyNumberError(
            f"個人番号は12桁です（入力された数字は{len(number)}桁）。",
            code=InvalidMyNumberError.INVALID_LENGTH,
        )
    if not is_valid_my_number(number):
        raise InvalidMyNumberError(
            "個人番号のチェックデジット（12桁目）が一致しません。入力誤りがないか確認してください。",
            code=InvalidMyNumberError.CHECK_DIGIT_MISMATCH,
        )
    return number


def mask_my_number(number: str) -> str:
    """Show a stored My Number masked, last four digits visible: ``**** **** 9018`` (R-MYN-2).

    Expects the normalised 12-digit form; anything else is a ``ValueError`` whose message does
    not repeat the input.
    """
    if not _is_ascii_digits(number, MY_NUMBER_LENGTH):
        raise ValueError("マスク表示できるのは半角数字12桁の個人番号のみです。")
    return f"**** **** {number[-4:]}"


# --- R-VAL-6: status of residence --------------------------------------------------------------


class ResidenceCategory(enum.StrEnum):
    """How a foreign resident's card validity is decided (R-VAL-6)."""

    PERMANENT = "permanent"
    HIGHLY_SKILLED_2 = "highly_skilled_2"
    SPECIAL_PERMANENT = "special_permanent"
    MID_LONG_TERM = "mid_long_term"
    TEMPORARY_REFUGE = "temporary_refuge"
    PROVISIONAL_STAY = "provisional_stay"
    TRANSITIONAL_BIRTH = "transitional_birth"
    TRANSITIONAL_NATIONALITY_LOSS = "transitional_nationality_loss"

    @property
    def label(self) -> str:
        """The Japanese name a clerk sees."""
        return RESIDENCE_CATEGORY_LABELS[self]


RESIDENCE_CATEGORY_LABELS: Final[dict[ResidenceCategory, str]] = {
    ResidenceCategory.PERMANENT: "永住者",
    ResidenceCategory.HIGHLY_SKILLED_2: "高度専門職2号",
    ResidenceCategory.SPECIAL_PERMANENT: "特別永住者",
    ResidenceCategory.MID_LONG_TERM: "中長期在留者",
    ResidenceCategory.TEMPORARY_REFUGE: "一時庇護許可者",
    ResidenceCategory.PROVISIONAL_STAY: "仮滞在許可者",
    ResidenceCategory.TRANSITIONAL_BIRTH: "経過滞在者(出生)",
    ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS: "経過滞在者(国籍喪失)",
}

# R-VAL-6: these follow the national rule (R-VAL-2) with no own end date.
NATIONAL_RULE_CATEGORIES: Final = frozenset(
    {
        ResidenceCategory.PERMANENT,
        ResidenceCategory.HIGHLY_SKILLED_2,
        ResidenceCategory.SPECIAL_PERMANENT,
    }
)
# R-VAL-6: the card ends with the end of the period of stay / permit.
PERIOD_CATEGORIES: Final = frozenset(
    {
        ResidenceCategory.MID_LONG_TERM,
        ResidenceCategory.TEMPORARY_REFUGE,
        ResidenceCategory.PROVISIONAL_STAY,
    }
)
# R-VAL-6: the card ends 60 days after the birth or the loss of Japanese nationality.
EVENT_CATEGORIES: Final = frozenset(
    {
        ResidenceCategory.TRANSITIONAL_BIRTH,
        ResidenceCategory.TRANSITIONAL_NATIONALITY_LOSS,
    }
)


@dataclass(frozen=True, slots=True)
class Residence:
    """A foreign resident's status as far as card validity needs it (R-VAL-6).

    ``period_ends_on`` is the end of the period of stay (or of the temporary-refuge /
    provisional-stay permit) and is required exactly for those categories; ``event_on`` is the
    date of birth or of the loss of Japanese nationality and is required exactly for the two
    transitional categories. A date given for a category that does not use it is rejected
    rather than ignored: it would mean the category or the date is wrong, and silently
    ignoring it would hide that.
    """

    category: ResidenceCategory
    period_ends_on: date | None = None
    event_on: date | None = None

    def __post_init__(self) -> None:
        label = self.category.label
        if self.category in PERIOD_CATEGORIES:
            if self.period_ends_on is None:
                raise ValueError(f"{label}は在留期間（許可期間）の満了日が必要です。")
        elif self.period_ends_on is not None:
            raise ValueError(f"{label}には在留期間の満了日を指定できません。")
        if self.category in EVENT_CATEGORIES:
            if self.event_on is None:
                raise ValueError(f"{label}は出生日または国籍喪失日が必要です。")
        elif self.event_on is not None:
            raise ValueError(f"{label}には出生日・国籍喪失日を指定できません。")

    @property
    def follows_national_rule(self) -> bool:
        """True when the card validity is the national one (R-VAL-6 → R-VAL-2)."""
        return self.category in NATIONAL_RULE_CATEGORIES


# --- R-VAL-2 / R-VAL-5: age and birthdays ------------------------------------------------------


def birthday_in_year(birth_date: date, year: int) -> date:
    """The holder's birthday in ``year`` (R-VAL-5).

    Policy R-VAL-5: someone born on 29 February has the birthday on 28 February in a
    non-leap year. Every date rule here (age, card and certificate expiry) goes through this
    function so the policy lives in one place.
    """
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birth_date.replace(year=year)


def age_on(*, birth_date: date, on: date) -> int:
    """Completed years of age on ``on`` (R-VAL-2 policy, R-VAL-5).

    A birthday counts as reached on the birthday itself, and a 29 February birth reaches it on
    28 February in a non-leap year (R-VAL-5). (The civil-law rule that one ages on the day
    before the birthday is deliberately not used: docs/rules.md fixes this policy.)
    """
    if on < birth_date:
        raise ValueError("基準日が生年月日より前です。")
    years = on.year - birth_date.year
    if on < birthday_in_year(birth_date, on.year):
        years -= 1
    return years


# R-ISS-2: under this age the legal representative applies for the card and comes to the
# handover (letters say so too). R-CRT-2's certificate age is the same number by coincidence of
# law, and stays its own rule (apps.certificates.rules.CERTIFICATE_MIN_AGE).
LEGAL_REPRESENTATIVE_AGE: Final = 15


def needs_legal_representative(*, birth_date: date, on: date) -> bool:
    """R-ISS-2: the holder is under 15 on ``on``, so the legal representative acts."""
    return age_on(birth_date=birth_date, on=on) < LEGAL_REPRESENTATIVE_AGE
