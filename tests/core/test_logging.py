"""R-MYN-2 / R-PIN-3: nothing sensitive reaches a log line or an error report."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory

from apps.core.logging import PersonalDataReporterFilter, ScrubMyNumberFilter, scrub


def test_scrub_removes_twelve_digit_numbers_in_any_spacing() -> None:
    for text in ("123456789018", "1234 5678 9018", "1234-5678-9018"):
        assert scrub(f"looked up {text} ok") == "looked up [REDACTED] ok"
    assert scrub("receipt 2026-000123") == "receipt 2026-000123"


def test_log_filter_rewrites_the_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("madoguchi.test")
    logger.addFilter(ScrubMyNumberFilter())
    try:
        with caplog.at_level(logging.INFO, logger="madoguchi.test"):
            logger.info("search for %s", "123456789018")
    finally:
        logger.filters.clear()
    assert "123456789018" not in caplog.text
    assert "[REDACTED]" in caplog.text


def test_error_reports_hide_my_number_and_pin_fields() -> None:
    request = RequestFactory().post(
        "/residents/", {"n-my_number": "123456789018", "pin": "1234", "k-kana": "ヤマダ"}
    )
    cleaned = PersonalDataReporterFilter().get_post_parameters(request)
    assert cleaned["n-my_number"] != "123456789018"
    assert cleaned["pin"] != "1234"
    assert cleaned["k-kana"] == "ヤマダ"
