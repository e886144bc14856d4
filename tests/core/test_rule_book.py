"""docs/rules.md stays the rule book of this code: every rule id the code or the tests cite has
its entry, every path an entry names exists, and nothing points outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_BOOK = ROOT / "docs" / "rules.md"
RULE_ID = re.compile(r"\bR-(?:[A-Z]{3}-\d+|PIN table|REI table)")
SOURCES = ("apps", "config", "tests", "reader_agent/madoguchi_agent", "reader_agent/tests")


def _tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z", *patterns],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [ROOT / name for name in out.split("\0") if name]


def _entries() -> set[str]:
    return set(re.findall(r"(?m)^### (R-\S+(?: table)?)$", RULE_BOOK.read_text(encoding="utf-8")))


def test_every_rule_the_code_cites_is_in_the_rule_book() -> None:
    entries = _entries()
    missing: dict[str, list[str]] = {}
    for path in _tracked(*SOURCES):
        if path.suffix not in {".py", ".html", ".js"} or "migrations" in path.parts:
            continue
        for rule in set(RULE_ID.findall(path.read_text(encoding="utf-8"))):
            if rule not in entries:
                missing.setdefault(rule, []).append(str(path.relative_to(ROOT)))
    assert missing == {}, "add these rules to docs/rules.md"


def test_every_path_the_rule_book_names_exists() -> None:
    named = re.findall(r"`([\w./-]+\.(?:py|html|js|md))`", RULE_BOOK.read_text(encoding="utf-8"))
    assert named, "the rule book names no module"
    assert [name for name in named if not (ROOT / name).exists()] == []


def test_the_repository_stands_on_its_own() -> None:
    outside = "../" + "shared"  # written in two parts so that this file does not match itself
    offenders = [
        str(path.relative_to(ROOT))
        for path in _tracked()
        if path.suffix in {".py", ".md", ".html", ".js", ".toml", ".txt", ""}
        and path.is_file()
        and outside in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert offenders == []
