"""R-MYN-2: the My Number at rest is AES-256-GCM ciphertext bound to its row, plus a blind index."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import override_settings

from apps.accounts.models import Office
from apps.residents.crypto import (
    MyNumberDecryptionError,
    ciphertext_key_id,
    decrypt_my_number,
    encrypt_my_number,
    my_number_index,
)
from apps.residents.models import Resident
from apps.residents.rules import is_valid_my_number
from tests.leaks import my_numbers_in

NUMBER = "123456789018"
OLD_KEY = base64.b64decode(base64.b64encode(b"o" * 32))
NEW_KEY = b"n" * 32


def test_r_myn_2_round_trip_and_fresh_nonce() -> None:
    rid = uuid.uuid4()
    first = encrypt_my_number(NUMBER, resident_id=rid)
    second = encrypt_my_number(NUMBER, resident_id=rid)
    assert first != second  # a fresh nonce each time: equal numbers do not look equal
    assert NUMBER.encode() not in first
    assert decrypt_my_number(first, resident_id=rid) == NUMBER


def test_r_myn_2_ciphertext_is_bound_to_its_row() -> None:
    blob = encrypt_my_number(NUMBER, resident_id=uuid.uuid4())
    with pytest.raises(MyNumberDecryptionError):
        decrypt_my_number(blob, resident_id=uuid.uuid4())


def test_r_myn_2_tampered_ciphertext_is_refused() -> None:
    rid = uuid.uuid4()
    blob = bytearray(encrypt_my_number(NUMBER, resident_id=rid))
    blob[-1] ^= 1
    with pytest.raises(MyNumberDecryptionError):
        decrypt_my_number(bytes(blob), resident_id=rid)


def test_r_myn_2_key_rotation_keeps_old_ciphertexts_readable() -> None:
    rid = uuid.uuid4()
    with override_settings(MY_NUMBER_KEYS={"k1": OLD_KEY}, MY_NUMBER_ACTIVE_KEY_ID="k1"):
        old_blob = encrypt_my_number(NUMBER, resident_id=rid)
    with override_settings(
        MY_NUMBER_KEYS={"k1": OLD_KEY, "k2": NEW_KEY}, MY_NUMBER_ACTIVE_KEY_ID="k2"
    ):
        new_blob = encrypt_my_number(NUMBER, resident_id=rid)
        assert ciphertext_key_id(old_blob) == "k1"
        assert ciphertext_key_id(new_blob) == "k2"
        assert decrypt_my_number(old_blob, resident_id=rid) == NUMBER
        assert decrypt_my_number(new_blob, resident_id=rid) == NUMBER
    with (
        override_settings(MY_NUMBER_KEYS={"k2": NEW_KEY}, MY_NUMBER_ACTIVE_KEY_ID="k2"),
        pytest.raises(MyNumberDecryptionError, match="k1"),
    ):
        decrypt_my_number(old_blob, resident_id=rid)


def test_r_myn_2_blind_index_is_keyed_and_deterministic() -> None:
    default = my_number_index(NUMBER)
    assert default == my_number_index(NUMBER)
    assert default != my_number_index("123456789026")
    with override_settings(MY_NUMBER_INDEX_KEY=b"x" * 32):
        assert my_number_index(NUMBER) != default
    # A plain SHA-256 of the number (guessable by brute force over 10^11) is not what we store.
    import hashlib

    assert my_number_index(NUMBER) != hashlib.sha256(NUMBER.encode()).hexdigest()


def _dump_all_rows() -> str:
    """Every row of every table as PostgreSQL's COPY writes it: what a data dump contains."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        raw = cursor.connection
        for table in tables:
            chunks.append(f"\n== {table}\n")
            with raw.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for data in copy:
                    chunks.append(bytes(data).decode("utf-8", errors="replace"))
    return "".join(chunks)


@pytest.mark.django_db
def test_r_myn_2_a_raw_dump_holds_no_plaintext_my_number(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    numbers = ["123456789018", "012345678912", "999999999998"]
    numbers = [n for n in numbers if is_valid_my_number(n)]
    for number in numbers:
        make_resident(office_a, my_number=number)
    dump = _dump_all_rows()
    assert Resident.objects.count() == len(numbers)
    assert dump  # the dump did read the residents' rows
    for number in numbers:
        assert number not in dump
        assert number.encode().hex() not in dump  # nor as the bytes of a bytea column
    # Nor any other valid My Number (outside UUIDs and hex tokens: tests/leaks.py).
    found = my_numbers_in(dump)
    assert found == [], [dump[max(0, dump.rfind("== ", 0, dump.find(c))) :][:300] for c in found]
