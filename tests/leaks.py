"""Finding My Numbers in text that should hold none: a database dump, a log file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from apps.residents.rules import is_valid_my_number

# Identifiers that are not numbers: UUIDs (their last group is twelve hex digits, all decimal
# one time in 280), and hex tokens (ciphertexts, hashes, blind indexes).
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
_RUN = re.compile(r"(?<![0-9A-Za-z])\d{4}[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])")


def my_numbers_in(text: str) -> list[str]:
    """Every check-digit-valid My Number in `text` (also written 1234 5678 9018 or with -)."""
    text = _HEX.sub("", _UUID.sub("", text))
    found = []
    for run in _RUN.findall(text):
        digits = re.sub(r"[ -]", "", run)
        if is_valid_my_number(digits):
            found.append(run)
    return found


def main(paths: list[str]) -> int:
    """`python -m tests.leaks FILE …`: exit 1 when a file holds a My Number (CI's log scan)."""
    status = 0
    for name in paths:
        path = Path(name)
        if not path.exists():
            print(f"{name}: missing", file=sys.stderr)
            status = 1
            continue
        found = my_numbers_in(path.read_text(errors="replace"))
        if found:
            print(f"{name}: {len(found)} My Number(s) found", file=sys.stderr)
            status = 1
        else:
            print(f"{name}: no My Number")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
