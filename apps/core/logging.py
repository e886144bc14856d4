"""Keep My Numbers and PINs out of logs and error reports (R-MYN-2, R-PIN-3)."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

# Twelve digits standing alone, with optional single separators between groups of four, as a
# clerk might type them. Over-matching (a 12-digit phone number) costs a redacted log line;
# under-matching would leak the most sensitive datum we hold.
MY_NUMBER_PATTERN = re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)")
REDACTED = "[REDACTED]"


def scrub(text: str) -> str:
    return MY_NUMBER_PATTERN.sub(REDACTED, text)


def scrub_value(value: Any) -> Any:
    """`value` with every string in it scrubbed (dicts, lists and tuples walked)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    return value


def redact_my_numbers(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the last step before rendering, for our events and the standard
    library's alike (the request path django-structlog logs, exception text …)."""
    return {key: scrub_value(value) for key, value in event_dict.items()}


_default_record_factory = logging.getLogRecordFactory()


def scrubbing_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record is scrubbed where it is made, so no handler (a test runner's capture,
    a library's own handler) can see a My Number, whatever its formatter."""
    record = _default_record_factory(*args, **kwargs)
    if isinstance(record.msg, dict):  # a structlog event on its way to ProcessorFormatter
        record.msg = scrub_value(record.msg)
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to logging's own error report
        return record
    cleaned = scrub(message)
    if cleaned != message:
        record.msg = cleaned
        record.args = None
    return record


def install_record_factory() -> None:
    if logging.getLogRecordFactory() is not scrubbing_record_factory:
        logging.setLogRecordFactory(scrubbing_record_factory)


class ScrubMyNumberFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Error reports hide My Number and PIN fields, whatever the view forgot to declare."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|MY_NUMBER|PIN", flags=re.IGNORECASE
    )
    _hidden_post = re.compile("my_number|pin|password", flags=re.IGNORECASE)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        """Besides @sensitive_variables: any variable named like a My Number or PIN, and any
        whose value shows a 12-digit number (a service wrapper's kwargs, a form's data)."""
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if self._hidden_post.search(str(name)) or MY_NUMBER_PATTERN.search(_safe_repr(value)):
                value = self.cleansed_substitute
            cleansed.append((name, value))
        return cleansed

    def get_post_parameters(self, request: Any) -> Any:
        params = super().get_post_parameters(request)
        if request is None or not params:
            return params
        cleansed = params.copy()
        for key in cleansed:
            if self._hidden_post.search(key):
                cleansed[key] = self.cleansed_substitute
        return cleansed


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:10_000]
    except Exception:  # a broken __repr__ must not break the error report
        return ""
