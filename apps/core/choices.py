"""Django ``choices`` from the domain's enums (their ``label`` is the Japanese name)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Labelled(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


def choices_of(members: Iterable[Labelled]) -> list[tuple[str, str]]:
    """``[(value, label), …]`` of an enum (or some of its members), in their order."""
    return [(member.value, member.label) for member in members]
