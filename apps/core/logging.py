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

    def get_post_parameters(self, request: Any) -> Any:
        params = super().get_post_parameters(request)
        if request is None or not params:
            return params
        cleansed = params.copy()
        for key in cleansed:
            if self._hidden_post.search(key):
                cleansed[key] = self.cleansed_substitute
        return cleansed
