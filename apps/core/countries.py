"""Country names as a Japanese clerk reads them, from the ISO 3166-1 code stored on a record.

The names are CLDR's (Babel), the list every Japanese locale on a PC uses: ``PH`` → フィリピン.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale


@lru_cache(maxsize=1)
def _territories() -> dict[str, str]:
    return dict(Locale.parse("ja").territories)


def country_name_ja(code: str) -> str:
    """The Japanese name of ``code`` (``JP`` → 日本); an unknown code is shown as it is."""
    code = (code or "").strip().upper()
    if not code:
        return "—"
    return _territories().get(code, code)
