"""Pure rules of the card-read flow (apps/counters/rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.certificates.rules import PIN_MAX_TRIES, PinKind, newer_observation
from apps.counters.rules import (
    PIN_KEYS,
    ReadRejected,
    basic_four_mismatches,
    pin_readings,
    serial_candidates,
    shown_on_panel,
)

BLOCKED_NONE = dict.fromkeys(PIN_KEYS, False)
T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def test_r_pin_readings_of_a_fresh_card() -> None:
    readings = pin_readings({"auth": 3, "signing": 5, "text": 3, "resident": 3}, BLOCKED_NONE)
    assert {kind: r.tries_left for kind, r in readings.items()} == {
        PinKind.AUTH: 3,
        PinKind.SIGNING: 5,
        PinKind.TEXT: 3,
        PinKind.RESIDENT: 3,
    }


def test_r_pin_a_blocked_pin_has_no_tries_left_whatever_count_came() -> None:
    blocked = {**BLOCKED_NONE, "auth": True}
    readings = pin_readings({"auth": None, "signing": 5, "text": 3, "resident": 3}, blocked)
    assert readings[PinKind.AUTH].tries_left == 0


def test_r_crt_2_a_child_card_has_no_signing_pin() -> None:
    readings = pin_readings({"auth": 3, "signing": None, "text": 3, "resident": 3}, BLOCKED_NONE)
    assert readings[PinKind.SIGNING].tries_left is None


@pytest.mark.parametrize(
    ("key", "count"),
    [("auth", 4), ("text", 4), ("resident", 4), ("signing", 6), ("auth", -1)],
)
def test_r_pin_counts_beyond_the_limit_are_refused(key: str, count: int) -> None:
    tries: dict[str, object] = {"auth": 3, "signing": 5, "text": 3, "resident": 3}
    tries[key] = count
    with pytest.raises(ReadRejected, match=str(PIN_MAX_TRIES[PinKind(key)])):
        pin_readings(tries, BLOCKED_NONE)


@pytest.mark.parametrize(
    ("tries", "blocked"),
    [
        ({"auth": 3, "signing": 5, "text": 3}, BLOCKED_NONE),  # a PIN missing
        ({"auth": "3", "signing": 5, "text": 3, "resident": 3}, BLOCKED_NONE),
        ({"auth": True, "signing": 5, "text": 3, "resident": 3}, BLOCKED_NONE),
        ({"auth": 3, "signing": 5, "text": 3, "resident": 3}, {**BLOCKED_NONE, "auth": 1}),
    ],
)
def test_malformed_pin_counters_are_refused(
    tries: dict[str, object], blocked: dict[str, object]
) -> None:
    with pytest.raises(ReadRejected):
        pin_readings(tries, blocked)


def test_serial_candidates_cover_der_padding() -> None:
    assert serial_candidates("a0001") == ["a0001", "0a0001", "00a0001", "000a0001"]
    assert serial_candidates("00:8A:01") == ["8a01", "08a01", "008a01", "0008a01"]


@given(st.integers(min_value=1, max_value=2**159))
def test_serial_candidates_always_contain_the_agents_spelling(serial: int) -> None:
    spelled = format(serial, "x")
    assert spelled in serial_candidates(spelled)
    assert spelled in serial_candidates("00" + spelled)


def test_a_read_that_waited_in_the_outbox_is_not_shown() -> None:
    assert shown_on_panel(read_at=T0, received_at=T0 + timedelta(seconds=2), max_age_seconds=120)
    assert shown_on_panel(read_at=T0, received_at=T0 + timedelta(seconds=120), max_age_seconds=120)
    assert not shown_on_panel(
        read_at=T0, received_at=T0 + timedelta(seconds=121), max_age_seconds=120
    )


def test_only_a_newer_read_moves_a_pin_counter() -> None:
    assert newer_observation(read_at=T0, observed_at=None)
    assert newer_observation(read_at=T0, observed_at=T0)
    assert newer_observation(read_at=T0 + timedelta(seconds=1), observed_at=T0)
    assert not newer_observation(read_at=T0 - timedelta(seconds=1), observed_at=T0)


def test_r_chg_1_basic_four_compare_as_written_not_as_encoded() -> None:
    register = {
        "name": "山田 花子",
        "address": "みどり市旭町1丁目1番1号",
        "birth_date": "1985-10-10",
        "sex": "2",
    }
    card = {
        "name": "山田\u3000花子",
        "address": "みどり市旭町１丁目１番１号",
        "birth_date": "1985-10-10",
        "sex": "2",
    }
    assert basic_four_mismatches(card=card, register=register) == []
    moved = {**card, "address": "みどり市緑町２丁目３番４号"}
    assert basic_four_mismatches(card=moved, register=register) == ["address"]
    renamed = {**card, "name": "佐藤\u3000花子", "sex": "9"}
    assert basic_four_mismatches(card=renamed, register=register) == ["name", "sex"]
