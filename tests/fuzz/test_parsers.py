"""Property tests on every parser of outside input: whatever arrives, the parser answers with
its own refusal (a clear error) or a value, never another exception (which would be a 500).

Outside input here: the reader agent's card reads (the JSON body, its signature headers, the
PIN counters), the J-LIS arrivals CSV, the reference code typed or scanned from a letter,
the My Number typed into the search, the call centre's suspension CSV (R-SUS-1).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.applications.arrivals import HEADER, ArrivalFileError, arrivals_import
from apps.counters import httpsig
from apps.counters.api import ReadIn
from apps.counters.rules import ReadRejected, pin_readings
from apps.notices.rules import InvalidReferenceCodeError, parse_reference_code
from apps.residents.rules import InvalidMyNumberError, normalize_my_number


@dataclass(frozen=True)
class Refused:
    message: str

    def __bool__(self) -> bool:
        return bool(self.message)


def _outcome(parse: Any, *args: Any, refusal: Any) -> Any:
    """The parser's value, or Refused(message) for its own refusal; anything else propagates."""
    try:
        return parse(*args)
    except refusal as error:
        return Refused(" ".join(getattr(error, "messages", None) or [str(error)]))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
KEYS = [
    "read_id",
    "read_at",
    "auth_certificate",
    "text",
    "pin_tries",
    "pin_blocked",
    "serial",
    "my_number",
    "name",
    "address",
    "birth_date",
    "sex",
    "reader_name",
]


@st.composite
def read_bodies(draw: Any) -> Any:
    """Mostly dicts with the real keys and wild values, sometimes anything at all."""
    if draw(st.booleans()):
        return draw(JSON)
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS)))
    body = {key: draw(JSON) for key in keys}
    if "text" in body and draw(st.booleans()):
        body["text"] = {
            k: draw(JSON) for k in ["my_number", "name", "address", "birth_date", "sex"]
        }
    return body


@settings(max_examples=300, deadline=None)
@given(body=read_bodies())
def test_a_card_read_body_is_valid_or_refused(body: Any) -> None:
    serializer = ReadIn(data=body)
    if serializer.is_valid():
        serializer.to_read_data()
    else:
        assert serializer.errors


HEADER_NAMES = ["signature", "signature-input", "content-digest", "x-device-nonce", "date"]


@settings(max_examples=300, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(HEADER_NAMES) | st.text(max_size=10),
        st.text(max_size=120)
        | st.sampled_from(['sig1=("@method");created=1;keyid="k"', "sig1=:AAAA:"]),
        max_size=5,
    )
)
def test_signature_headers_parse_or_are_refused(headers: dict[str, str]) -> None:
    with contextlib.suppress(httpsig.SignatureRejected):
        httpsig.parse(headers)


@settings(max_examples=300, deadline=None)
@given(
    tries=st.dictionaries(st.text(max_size=10), JSON, max_size=5),
    blocked=st.dictionaries(st.text(max_size=10), JSON, max_size=5),
)
def test_pin_counters_parse_or_are_refused(
    tries: dict[str, object], blocked: dict[str, object]
) -> None:
    try:
        readings = pin_readings(tries, blocked)
    except ReadRejected:
        return
    assert all(0 <= r.tries_left <= 10 for r in readings.values() if r.tries_left is not None)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=40))
def test_a_reference_code_parses_or_is_refused(text: str) -> None:
    outcome = _outcome(parse_reference_code, text, refusal=InvalidReferenceCodeError)
    assert outcome > 0 if isinstance(outcome, int) else outcome


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=40) | st.from_regex(r"[0-9０-９ ー-]{10,16}", fullmatch=True))
def test_a_typed_my_number_normalises_or_is_refused_without_echo(text: str) -> None:
    outcome = _outcome(normalize_my_number, text, refusal=InvalidMyNumberError)
    if isinstance(outcome, Refused):
        digits = "".join(c for c in text if c.isdigit())
        assert len(digits) < 12 or digits not in outcome.message  # R-MYN-2: never repeated
        return
    assert len(outcome) == 12
    assert outcome.isascii()
    assert outcome.isdigit()


LINE = st.tuples(
    st.uuids().map(str) | st.text(max_size=40),
    st.dates().map(date.isoformat) | st.text(max_size=12),
    st.dates().map(date.isoformat) | st.text(max_size=12),
).map(lambda row: ",".join(row))


@st.composite
def arrival_files(draw: Any) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return bytes(draw(st.binary(max_size=300)))
    lines = draw(st.lists(LINE | st.text(max_size=60), max_size=6))
    header = HEADER if kind > 1 else draw(st.text(max_size=30))
    text = "\n".join([header, *lines])
    if kind == 3:
        text = "\ufeff" + text.replace("\n", "\r\n")
    return text.encode("utf-8", errors="surrogatepass")


@pytest.mark.django_db
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=arrival_files())
def test_an_arrivals_file_imports_or_is_refused_with_a_reason(
    clerk_a: User, content: bytes
) -> None:
    outcome = _outcome(
        lambda: arrivals_import(acting_user=clerk_a, content=content, filename="a.csv"),
        refusal=(ArrivalFileError, ValidationError),
    )
    assert outcome


FEED_LINE = st.tuples(
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | st.text(max_size=70),
    st.from_regex(r"[0-9]{11}", fullmatch=True) | st.text(max_size=12),
    st.datetimes().map(lambda at: at.isoformat() + "+09:00") | st.text(max_size=25),
    st.sampled_from(["lost", "stolen", "other"]) | st.text(max_size=8),
).map(lambda row: ",".join(row))


@st.composite
def feed_files(draw: Any) -> bytes:
    if draw(st.booleans()) and draw(st.booleans()):
        return bytes(draw(st.binary(max_size=300)))
    from apps.cards.suspensions import FEED_HEADER

    header = ",".join(FEED_HEADER) if draw(st.booleans()) else draw(st.text(max_size=40))
    lines = draw(st.lists(FEED_LINE | st.text(max_size=60), max_size=6))
    return "\n".join([header, *lines]).encode("utf-8", errors="surrogatepass")


@settings(max_examples=400, deadline=None)
@given(content=feed_files())
def test_r_sus_1_a_call_centre_file_parses_line_by_line_or_is_refused(content: bytes) -> None:
    """Each line is a record or a line problem in words; a wrong file is one clear refusal."""
    from apps.cards.suspensions import parse_feed_csv

    outcome = _outcome(parse_feed_csv, content, refusal=ValidationError)
    if isinstance(outcome, Refused):
        assert outcome.message
        return
    for number, record, problem in outcome:
        assert number >= 2
        assert (record is None) == bool(problem)
