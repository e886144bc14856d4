"""Kana normalisation for name search: what a clerk types and what is stored must meet."""

from __future__ import annotations

import unicodedata

_HIRAGANA_START, _HIRAGANA_END = 0x3041, 0x3096
_TO_KATAKANA = 0x60


def normalize_kana(text: str) -> str:
    """NFKC (half-width カナ → full-width), hiragana → katakana, spaces and middots removed."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for char in text:
        code = ord(char)
        if _HIRAGANA_START <= code <= _HIRAGANA_END:
            char = chr(code + _TO_KATAKANA)
        if char.isspace() or char in "・･":
            continue
        out.append(char)
    return "".join(out)
