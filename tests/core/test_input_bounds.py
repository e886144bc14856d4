"""Bad input is a clear Japanese message, never a 500 and never stored unbounded.

Walks every form and every input serializer of the apps: each number has a range, each text
a length, each date a plausible span, each list and object a size. Then the cases that were
500s: a cash count of 2³¹ yen (form and API), a JSON body nested 1,000 deep (also on the
anonymous device-enrolment endpoint), a business date in year 0128.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

import apps
from apps.accounts.models import Counter, User
from apps.core.bounds import (
    BoundedDictField,
    BoundedJSONParser,
    PlausibleDateField,
    PlausibleDateInput,
    json_depth,
)
from apps.fees.forms import CloseForm, ScheduleForm
from apps.fees.models import DailyClose


def _modules(suffix: str) -> Iterator[Any]:
    """Each app's ``<suffix>`` module and its ``<suffix>_*`` siblings (``forms_changes``)."""
    for info in pkgutil.iter_modules(apps.__path__):
        name = f"apps.{info.name}.{suffix}"
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
        package = importlib.import_module(f"apps.{info.name}")
        for sub in pkgutil.iter_modules(package.__path__):
            if sub.name.startswith(f"{suffix}_"):
                yield importlib.import_module(f"apps.{info.name}.{sub.name}")


def _form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for module in _modules("forms"):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def _input_serializers() -> list[type[serializers.Serializer[Any]]]:
    found = []
    for module in _modules("api"):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, serializers.Serializer)
                and cls.__module__ == module.__name__
                and cls.__name__.endswith(("In", "Query"))
            ):
                found.append(cls)
    return found


def _form_field_problem(field: forms.Field) -> str | None:
    if isinstance(field, forms.IntegerField) and (
        field.min_value is None or field.max_value is None
    ):
        return "a number without a range"
    if (
        isinstance(field, forms.CharField)
        and not isinstance(field, forms.UUIDField)
        and field.max_length is None
    ):
        return "a text without a length"
    if isinstance(field, forms.DateField) and not isinstance(field, PlausibleDateField):
        return "a date without a plausible span"
    return None


def _serializer_field_problems(field: Any, path: str) -> Iterator[str]:
    if isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from _serializer_field_problems(child, f"{path}.{name}")
        return
    if isinstance(field, serializers.IntegerField) and (
        field.min_value is None or field.max_value is None
    ):
        yield f"{path}: a number without a range"
    elif isinstance(field, serializers.CharField) and field.max_length is None:
        yield f"{path}: a text without a length"
    elif isinstance(field, serializers.DateField) and not isinstance(field, PlausibleDateInput):
        yield f"{path}: a date without a plausible span"
    elif isinstance(field, serializers.ListField):
        if field.max_length is None:
            yield f"{path}: a list without a size"
        yield from _serializer_field_problems(field.child, f"{path}[]")
    elif isinstance(field, serializers.DictField):
        if not isinstance(field, BoundedDictField):
            yield f"{path}: an object without a size"
        yield from _serializer_field_problems(field.child, f"{path}{{}}")


def test_every_form_field_is_bounded() -> None:
    classes = _form_classes()
    assert len(classes) >= 10  # the walk found the forms
    problems = [
        f"{cls.__module__}.{cls.__name__}.{name}: {problem}"
        for cls in classes
        for name, field in getattr(cls, "base_fields", {}).items()
        if (problem := _form_field_problem(field))
    ]
    # Fields added when the form is built.
    built = {
        "ScheduleForm": ScheduleForm(initial_amounts={}),
        "CloseForm": CloseForm(counters=Counter.objects.none(), today=timezone.localdate()),
    }
    problems += [
        f"{label}.{name}: {problem}"
        for label, form in built.items()
        for name, field in form.fields.items()
        if (problem := _form_field_problem(field))
    ]
    assert problems == []


def test_every_input_serializer_field_is_bounded() -> None:
    classes = _input_serializers()
    assert len(classes) >= 10
    problems = [
        problem
        for cls in classes
        for name, field in cls().fields.items()
        for problem in _serializer_field_problems(field, f"{cls.__module__}.{cls.__name__}.{name}")
    ]
    assert problems == []


# --- the cases that were 500s ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_cash_count_of_two_to_the_31_is_a_message(
    clerk_a: User, counter_a: Counter, client_for: Any
) -> None:
    today = timezone.localdate()
    huge = 2**31
    form = client_for(clerk_a).post(
        reverse("fees:close"),
        {"counter": counter_a.pk, "business_date": today.isoformat(), "counted_cash_yen": huge},
    )
    assert form.status_code == 400
    assert "現金の実査額は0円以上10,000,000円以下で入力してください。" in form.content.decode()
    api = client_for(clerk_a).post(
        reverse("fees-api:daily-closes"),
        {
            "counter_id": str(counter_a.pk),
            "business_date": today.isoformat(),
            "counted_cash_yen": huge,
        },
        content_type="application/json",
    )
    assert api.status_code == 400
    assert "counted_cash_yen" in api.json()
    assert not DailyClose.objects.exists()


@pytest.mark.django_db
def test_a_business_date_in_year_0128_is_a_message(
    clerk_a: User, counter_a: Counter, client_for: Any
) -> None:
    for day in ("0128-11-27", (timezone.localdate() - timedelta(days=400)).isoformat()):
        form = client_for(clerk_a).post(
            reverse("fees:close"),
            {"counter": counter_a.pk, "business_date": day, "counted_cash_yen": 0},
        )
        assert form.status_code == 400
        api = client_for(clerk_a).post(
            reverse("fees-api:daily-closes"),
            {"counter_id": str(counter_a.pk), "business_date": day, "counted_cash_yen": 0},
            content_type="application/json",
        )
        assert api.status_code == 400
        assert "business_date" in api.json()
    listing = client_for(clerk_a).get(reverse("fees:payments"), {"business_date": "0128-11-27"})
    assert listing.status_code == 200  # a filter out of range shows today instead
    assert not DailyClose.objects.exists()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
def test_json_nested_1000_deep_is_a_message_even_for_anonymous_enrolment(
    clerk_a: User, counter_a: Counter, client_for: Any
) -> None:
    body = '{"counter_id": ' + _nested(1000) + "}"
    signed_in = client_for(clerk_a).post(
        reverse("fees-api:daily-closes"), body, content_type="application/json"
    )
    assert signed_in.status_code == 400
    assert "入れ子が深すぎます" in signed_in.json()["detail"]
    anonymous = client_for(None).post(
        reverse("counters_api:enroll"),
        '{"name": ' + _nested(1000) + "}",
        content_type="application/json",
    )
    assert anonymous.status_code == 400
    assert "入れ子が深すぎます" in anonymous.json()["detail"]


@pytest.mark.django_db
def test_a_json_body_over_the_size_limit_is_a_message(
    settings: Any, clerk_a: User, client_for: Any
) -> None:
    settings.API_JSON_MAX_BYTES = 2048
    body = '{"note": "' + "x" * 4096 + '"}'
    response = client_for(clerk_a).post(
        reverse("fees-api:daily-closes"), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "大きすぎます" in response.json()["detail"]


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert json_depth('{"a": [1, {"b": "[[[[[[["}]}') == 3
    assert json_depth('"\\"[[[["') == 0
    assert json_depth(_nested(5000)) == 5000
    assert BoundedJSONParser.media_type == "application/json"
