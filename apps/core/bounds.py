"""Bounds on what a form or a request may send: every number a range, every text a length,
every date a plausible span, every JSON body a size and a depth.

Bad input is a clear Japanese message and nothing changed, never a 500: a count of 2³¹ yen
reached the database as "integer out of range", a JSON body nested 1,000 deep raised
RecursionError, a business date in year 0128 was accepted. The fields here carry their bounds
so that a test can walk every form and serializer and find one that has none
(tests/core/test_input_bounds.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import IO, Any

from django import forms
from django.conf import settings
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core.wareki import format_both

# No resident record, card, fee or notice of this system is older than this.
EARLIEST_DATE = date(1900, 1, 1)
# Dates after this many days from today are a typing slip (a fee schedule, a filter bound).
LATEST_DAYS_AHEAD = 5 * 366

DateBound = date | Callable[[], date]


def today() -> date:
    return timezone.localdate()


def latest_plausible() -> date:
    return today() + timedelta(days=LATEST_DAYS_AHEAD)


def _resolve(bound: DateBound) -> date:
    return bound() if callable(bound) else bound


def date_range_problem(value: date, *, earliest: DateBound, latest: DateBound) -> str | None:
    """Why ``value`` lies outside [earliest, latest] (None when it does not)."""
    low, high = _resolve(earliest), _resolve(latest)
    if low <= value <= high:
        return None
    if value > high and high == today():
        return "未来の日付は入力できません。"
    return f"{format_both(low)}から{format_both(high)}までの日付を入力してください。"


class _DateSpan:
    """The span a date field accepts; shared by the form field and the API field."""

    def __init__(
        self,
        *,
        earliest: DateBound = EARLIEST_DATE,
        latest: DateBound = latest_plausible,
        **kwargs: Any,
    ) -> None:
        self.earliest = earliest
        self.latest = latest
        super().__init__(**kwargs)

    def span_problem(self, value: date) -> str | None:
        return date_range_problem(value, earliest=self.earliest, latest=self.latest)


class PlausibleDateField(_DateSpan, forms.DateField):
    """A form date between ``earliest`` and ``latest`` (dates or callables, e.g. today)."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and (problem := self.span_problem(value)):
            raise forms.ValidationError(problem, code="out_of_range")


class PlausibleDateInput(_DateSpan, serializers.DateField):
    """The API's PlausibleDateField."""

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        if problem := self.span_problem(day):
            raise serializers.ValidationError(problem, code="out_of_range")
        return day


class BoundedDictField(serializers.DictField):
    """A JSON object with at most ``max_items`` keys of at most ``max_key_length`` characters."""

    def __init__(self, *, max_items: int, max_key_length: int = 64, **kwargs: Any) -> None:
        self.max_items = max_items
        self.max_key_length = max_key_length
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            if len(data) > self.max_items:
                raise serializers.ValidationError(f"項目は{self.max_items}個までです。")
            if any(len(str(key)) > self.max_key_length for key in data):
                raise serializers.ValidationError(f"項目名は{self.max_key_length}文字までです。")
        return super().to_internal_value(data)


# --- JSON bodies -----------------------------------------------------------------------------

_STRING = re.compile(r'"(?:\\.|[^"\\])*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply ``text`` nests arrays and objects, counted without parsing it (so a body
    nested deeper than Python's recursion limit is measured, not crashed on)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub('""', text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a size limit (``API_JSON_MAX_BYTES``) and a depth limit
    (``API_JSON_MAX_DEPTH``), both checked before the body is parsed."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return {}
        limit = int(settings.API_JSON_MAX_BYTES)
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise ParseError(f"本文が大きすぎます（上限 {limit:,} バイト）。")
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            raise ParseError("本文の文字コードが UTF-8 ではありません。") from None
        max_depth = int(settings.API_JSON_MAX_DEPTH)
        if json_depth(text) > max_depth:
            raise ParseError(f"JSON の入れ子が深すぎます（上限 {max_depth} 段）。")
        try:
            return json.loads(text) if text.strip() else {}
        except ValueError:
            raise ParseError("JSON の形式が正しくありません。") from None
