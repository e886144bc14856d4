"""Tests of apps.certificates.rules: R-CRT-1 … R-CRT-3 and the R-PIN rules.

Pure functions: no database, no Django.
"""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.cards.rules import nth_birthday_after
from apps.certificates.rules import (
    CERTIFICATE_KIND_LABELS,
    PIN_KIND_LABELS,
    PIN_MAX_TRIES,
    CertificateKind,
    PinKind,
    certificate_expiry,
    may_issue,
    normalize_pin,
    pin_may_reset_at_convenience_store,
    under_certificate_age,
    validate_pin_format,
)
from apps.residents.rules import birthday_in_year

# --- R-CRT-1: certificate expiry ---------------------------------------------------------------


def test_r_crt_1_kinds_and_labels() -> None:
    """R-CRT-1: two certificates, SIGNING and AUTH, with their Japanese names."""
    assert set(CERTIFICATE_KIND_LABELS) == set(CertificateKind)
    assert CertificateKind.SIGNING.value == "signing"
    assert CertificateKind.AUTH.value == "auth"
    assert CertificateKind.SIGNING.label == "署名用電子証明書"
    assert CertificateKind.AUTH.label == "利用者証明用電子証明書"


def test_r_crt_1_fifth_birthday_after_issue() -> None:
    """R-CRT-1: valid to the 5th birthday after the issue date (worked-example holder)."""
    result = certificate_expiry(
        birth_date=date(1980, 10, 10),
        issued_on=date(2020, 5, 15),
        card_expires_on=date(2029, 10, 10),
    )
    assert result == date(2024, 10, 10)


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (date(2023, 10, 9), date(2027, 10, 10)),  # day before the birthday: it is the first
        (date(2023, 10, 10), date(2028, 10, 10)),  # on the birthday: 5 full years
        (date(2023, 10, 11), date(2028, 10, 10)),
    ],
)
def test_r_crt_1_after_excludes_the_issue_date(issued: date, expected: date) -> None:
    """R-CRT-1 with R-VAL-4: "after" excludes the issue date."""
    result = certificate_expiry(
        birth_date=date(1980, 10, 10), issued_on=issued, card_expires_on=date(2040, 1, 1)
    )
    assert result == expected


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (date(2024, 2, 28), date(2028, 2, 29)),  # 2024-02-29 first, 5th is 2028 (leap)
        (date(2024, 2, 29), date(2029, 2, 28)),
        (date(2023, 2, 28), date(2028, 2, 29)),  # on the non-leap birthday
        (date(2023, 2, 27), date(2027, 2, 28)),
    ],
)
def test_r_crt_1_born_on_29_february(issued: date, expected: date) -> None:
    """R-CRT-1 with R-VAL-5: 29 February births."""
    result = certificate_expiry(
        birth_date=date(2000, 2, 29), issued_on=issued, card_expires_on=date(2040, 1, 1)
    )
    assert result == expected


def test_r_crt_1_never_past_the_card_expiry() -> None:
    """R-CRT-1: capped at the card's expiry (e.g. a foreign resident's short card)."""
    result = certificate_expiry(
        birth_date=date(1980, 10, 10),
        issued_on=date(2023, 1, 10),
        card_expires_on=date(2025, 3, 31),
    )
    assert result == date(2025, 3, 31)
    on_card_day = certificate_expiry(
        birth_date=date(1980, 10, 10),
        issued_on=date(2023, 1, 10),
        card_expires_on=date(2027, 10, 10),
    )
    assert on_card_day == date(2027, 10, 10)


def test_r_crt_1_no_certificate_on_an_expired_card() -> None:
    """R-CRT-1/R-CRT-5: certificates end with the card, so none is issued after it expired."""
    with pytest.raises(ValueError, match="有効期限が切れたカード"):
        certificate_expiry(
            birth_date=date(1980, 10, 10),
            issued_on=date(2025, 4, 1),
            card_expires_on=date(2025, 3, 31),
        )
    # Issued on the card's last day is still allowed (one day of validity).
    assert certificate_expiry(
        birth_date=date(1980, 10, 10),
        issued_on=date(2025, 3, 31),
        card_expires_on=date(2025, 3, 31),
    ) == date(2025, 3, 31)


@given(st.data())
def test_r_crt_1_property_within_card_and_fifth_birthday(data: st.DataObject) -> None:
    """R-CRT-1 property: min(5th birthday after issue, card expiry), never before issue."""
    birth = data.draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2070, 12, 31)))
    issued = data.draw(st.dates(min_value=birth, max_value=date(2080, 12, 31)))
    card = data.draw(st.dates(min_value=issued, max_value=issued + timedelta(days=365 * 11)))
    result = certificate_expiry(birth_date=birth, issued_on=issued, card_expires_on=card)
    fifth = nth_birthday_after(birth_date=birth, after=issued, n=5)
    assert issued <= result <= card
    assert result == min(fifth, card)
    if result != card:
        assert result == birthday_in_year(birth, result.year)
        assert result > issued


# --- R-CRT-2 / R-CRT-3: who may have which certificate --------------------------------------

BIRTH = date(2010, 7, 1)
FIFTEENTH = date(2025, 7, 1)
DAY_BEFORE = FIFTEENTH - timedelta(days=1)


def test_r_crt_2_fifteenth_birthday_boundary() -> None:
    """R-CRT-2: under 15 on the day before the 15th birthday, 15 on the birthday itself."""
    assert under_certificate_age(birth_date=BIRTH, on=DAY_BEFORE)
    assert not under_certificate_age(birth_date=BIRTH, on=FIFTEENTH)
    assert not may_issue(
        kind=CertificateKind.SIGNING, birth_date=BIRTH, on=DAY_BEFORE, adult_ward=False
    )
    assert may_issue(kind=CertificateKind.SIGNING, birth_date=BIRTH, on=FIFTEENTH, adult_ward=False)
    assert not may_issue(
        kind=CertificateKind.AUTH, birth_date=BIRTH, on=DAY_BEFORE, adult_ward=False
    )
    assert may_issue(kind=CertificateKind.AUTH, birth_date=BIRTH, on=FIFTEENTH, adult_ward=False)


def test_r_crt_2_fifteenth_birthday_of_a_29_february_birth() -> None:
    """R-CRT-2 with R-VAL-5: born 2012-02-29, 15 on 2027-02-28 (a non-leap year)."""
    birth = date(2012, 2, 29)
    kind = CertificateKind.SIGNING
    assert not may_issue(kind=kind, birth_date=birth, on=date(2027, 2, 27), adult_ward=False)
    assert may_issue(kind=kind, birth_date=birth, on=date(2027, 2, 28), adult_ward=False)


@pytest.mark.parametrize(
    ("on", "adult_ward", "legal_rep", "signing", "auth"),
    [
        # 15 or over, not a ward: both, the representative does not matter.
        (FIFTEENTH, False, False, True, True),
        (FIFTEENTH, False, True, True, True),
        # Under 15: no SIGNING; AUTH only if the legal representative asks.
        (DAY_BEFORE, False, False, False, False),
        (DAY_BEFORE, False, True, False, True),
        # Adult ward: no SIGNING; AUTH only if the legal representative asks.
        (date(2040, 1, 1), True, False, False, False),
        (date(2040, 1, 1), True, True, False, True),
        # Both under 15 and a ward.
        (DAY_BEFORE, True, True, False, True),
    ],
)
def test_r_crt_2_signing_and_auth_matrix(
    on: date, adult_ward: bool, legal_rep: bool, signing: bool, auth: bool
) -> None:
    """R-CRT-2: no SIGNING under 15 or for an adult ward; AUTH then needs the legal rep."""
    for kind, expected in ((CertificateKind.SIGNING, signing), (CertificateKind.AUTH, auth)):
        result = may_issue(
            kind=kind, birth_date=BIRTH, on=on, adult_ward=adult_ward, legal_rep_requests=legal_rep
        )
        assert result is expected, kind


def test_r_crt_2_legal_rep_request_defaults_to_false() -> None:
    """R-CRT-2: without the representative's request an under-15 gets no AUTH certificate."""
    assert not may_issue(
        kind=CertificateKind.AUTH, birth_date=BIRTH, on=DAY_BEFORE, adult_ward=False
    )


def test_r_crt_3_signing_can_be_added_after_turning_15() -> None:
    """R-CRT-3: a holder who turns 15 can add SIGNING later at the counter."""
    card_issued = date(2021, 3, 1)
    assert not may_issue(
        kind=CertificateKind.SIGNING, birth_date=BIRTH, on=card_issued, adult_ward=False
    )
    assert may_issue(
        kind=CertificateKind.SIGNING, birth_date=BIRTH, on=date(2025, 8, 1), adult_ward=False
    )


# --- R-PIN -------------------------------------------------------------------------------------


def test_r_pin_table_kinds_labels_and_tries() -> None:
    """R-PIN table: four PINs; SIGNING locks after 5 wrong entries, the others after 3."""
    assert set(PIN_KIND_LABELS) == set(PinKind)
    assert PinKind.SIGNING.label == "署名用電子証明書暗証番号"
    assert PinKind.AUTH.label == "利用者証明用電子証明書暗証番号"
    assert PinKind.RESIDENT.label == "住民基本台帳用暗証番号"
    assert PinKind.TEXT.label == "券面事項入力補助用暗証番号"
    assert PIN_MAX_TRIES == {
        PinKind.SIGNING: 5,
        PinKind.AUTH: 3,
        PinKind.RESIDENT: 3,
        PinKind.TEXT: 3,
    }


@pytest.mark.parametrize(
    ("pin", "normalised"),
    [
        ("ABC123", "ABC123"),  # 6 characters
        ("abc123", "ABC123"),  # upper-cased
        ("A1B2C3D4E5F6G7H8", "A1B2C3D4E5F6G7H8"),  # 16 characters
        ("1a2345", "1A2345"),
    ],
)
def test_r_pin_signing_pin_valid(pin: str, normalised: str) -> None:
    """R-PIN table: SIGNING PIN is 6–16 of A–Z/0–9 with a letter and a digit."""
    validate_pin_format(PinKind.SIGNING, pin)
    assert normalize_pin(PinKind.SIGNING, pin) == normalised


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("ABC12", "6〜16文字"),  # 5 characters
        ("A1B2C3D4E5F6G7H8I", "6〜16文字"),  # 17 characters
        ("ABCDEF", "それぞれ1文字以上"),  # no digit
        ("123456", "それぞれ1文字以上"),  # no letter
        ("ABC-123", "英字（A〜Z）と数字"),
        ("ABC 123", "英字（A〜Z）と数字"),
        ("ＡＢＣ１２３", "半角英数字"),  # full-width
        ("ıbc123", "半角英数字"),  # dotless i upper-cases to ASCII I
        ("", "6〜16文字"),
    ],
)
def test_r_pin_signing_pin_invalid(pin: str, message: str) -> None:
    """R-PIN table: anything else is refused with a clear message."""
    with pytest.raises(ValueError, match=message):
        validate_pin_format(PinKind.SIGNING, pin)


@pytest.mark.parametrize("kind", [PinKind.AUTH, PinKind.RESIDENT, PinKind.TEXT])
def test_r_pin_four_digit_pins(kind: PinKind) -> None:
    """R-PIN table: the AUTH, resident-register and input-assist PINs are 4 digits."""
    validate_pin_format(kind, "0000")
    validate_pin_format(kind, "1234")
    assert normalize_pin(kind, "0912") == "0912"
    for bad in ["123", "12345", "12a4", "１２３４", "12 4", "", "١٢٣٤"]:
        with pytest.raises(ValueError, match="半角数字4桁"):
            validate_pin_format(kind, bad)


@pytest.mark.parametrize(
    ("kind", "pin"),
    [
        (PinKind.SIGNING, "SECRET9876543210X"),  # too long
        (PinKind.SIGNING, "SECRETPIN"),  # no digit
        (PinKind.SIGNING, "SECRET-98"),
        (PinKind.AUTH, "98765"),
    ],
)
def test_r_pin_3_messages_never_contain_the_pin(kind: PinKind, pin: str) -> None:
    """R-PIN-3: a PIN is never logged, so no error message repeats it."""
    with pytest.raises(ValueError, match=kind.label) as e:
        validate_pin_format(kind, pin)
    assert pin not in str(e.value)
    assert pin.upper() not in str(e.value)
    assert "SECRET" not in str(e.value)
    assert "9876" not in str(e.value)


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8
    ),
    st.text(alphabet="0123456789", min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_r_pin_property_signing_pins_with_letters_and_digits_pass(
    letters: str, digits: str, rnd: Random
) -> None:
    """R-PIN table property: 6–16 letters and digits with at least one of each are valid."""
    chars = list(letters + digits)
    rnd.shuffle(chars)
    pin = "".join(chars)
    if 6 <= len(pin) <= 16:
        assert normalize_pin(PinKind.SIGNING, pin) == pin.upper()
    else:
        with pytest.raises(ValueError, match="6〜16文字"):
            validate_pin_format(PinKind.SIGNING, pin)


@given(st.sampled_from([PinKind.AUTH, PinKind.RESIDENT, PinKind.TEXT]), st.text(max_size=6))
def test_r_pin_property_four_digit_pins_are_exactly_four_ascii_digits(
    kind: PinKind, pin: str
) -> None:
    """R-PIN table property: accepted iff exactly 4 ASCII digits."""
    expected = len(pin) == 4 and all("0" <= c <= "9" for c in pin)
    try:
        validate_pin_format(kind, pin)
    except ValueError:
        assert not expected
    else:
        assert expected


def test_r_pin_2_only_signing_pin_resets_at_a_convenience_store() -> None:
    """R-PIN-2: the SIGNING PIN can be reset at a convenience store; the 4-digit PINs cannot."""
    assert pin_may_reset_at_convenience_store(PinKind.SIGNING)
    for kind in (PinKind.AUTH, PinKind.RESIDENT, PinKind.TEXT):
        assert not pin_may_reset_at_convenience_store(kind)
