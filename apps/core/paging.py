"""Keyset paging for long lists: no OFFSET, no count.

A page is the ``size`` rows that follow (or precede) the last row shown in the list's order,
found by comparing the ordering key with that row's key. The database reads one page of an
index whatever the depth, where OFFSET reads every row before the page, and it never counts
the rows: a list of 2,000,000 access-log rows costs what a list of 200 does. The screens show
"newer / older" (or "first / last") links instead of a page count.

The rules for an ordering: every field NOT NULL, the last one unique (a tiebreaker such as
the primary key), and an index that starts with the list's filter and then the ordering's
fields, so that each page is one index range.

The position travels in the query string as a signed cursor (``?after=…``, ``?before=…``,
``?page=last``): the values of the ordering fields of the row it is next to, never personal
data (the orderings here are dates, times and ids). A cursor that was tampered with, or that
belongs to another list, is ignored and the list starts from its first page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Field, Model, Q, QuerySet

M = TypeVar("M", bound=Model)

AFTER, BEFORE, PAGE = "after", "before", "page"
LAST = "last"


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    """One page of rows, in the list's order, and where the neighbouring pages start."""

    rows: list[M]
    has_previous: bool
    has_next: bool
    previous_cursor: str | None
    next_cursor: str | None

    def __iter__(self) -> Iterator[M]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def is_first(self) -> bool:
        return not self.has_previous

    @property
    def is_last(self) -> bool:
        return not self.has_next


@dataclass(frozen=True)
class _Key:
    name: str
    descending: bool
    field: Field[Any, Any]


class Keyset:
    """An ordering that pages by keys, e.g. ``Keyset(AccessLog, ("-at", "-id"))``."""

    def __init__(self, model: type[Model], ordering: Sequence[str]) -> None:
        if not ordering:
            raise ValueError("a keyset needs an ordering")
        self.model = model
        self.ordering = tuple(ordering)
        self.keys = tuple(
            _Key(
                name=item.lstrip("-"),
                descending=item.startswith("-"),
                field=model._meta.get_field(item.lstrip("-")),  # type: ignore[arg-type]
            )
            for item in ordering
        )
        self._salt = f"madoguchi.keyset:{model._meta.label}:{','.join(ordering)}"

    # --- cursors -----------------------------------------------------------------------------

    def cursor(self, row: Model) -> str:
        values = [key.field.value_to_string(row) for key in self.keys]
        return signing.dumps(values, salt=self._salt)

    def _values(self, cursor: str) -> list[Any] | None:
        """The key a cursor names, or None for one that is not this list's."""
        try:
            raw = signing.loads(cursor, salt=self._salt)
        except signing.BadSignature:
            return None
        if not isinstance(raw, list) or len(raw) != len(self.keys):
            return None
        try:
            return [key.field.to_python(value) for key, value in zip(self.keys, raw, strict=True)]
        except ValidationError:
            return None

    # --- queries -----------------------------------------------------------------------------

    def _beyond(self, values: Sequence[Any], *, backwards: bool) -> Q:
        """Rows strictly after the key (before it when ``backwards``) in the list's order.

        (a, b, c) after (x, y, z) is a > x OR (a = x AND (b > y OR (b = y AND c > z))), each
        comparison flipped for a descending field. The leading field's bound is added on its
        own (a >= x) so that the database starts its index scan at the key, not at the end.
        """
        condition = Q()
        equal = Q()
        for key, value in zip(self.keys, values, strict=True):
            forward = key.descending == backwards
            condition |= equal & Q(**{f"{key.name}__{'gt' if forward else 'lt'}": value})
            equal &= Q(**{key.name: value})
        first, value = self.keys[0], values[0]
        forward = first.descending == backwards
        return condition & Q(**{f"{first.name}__{'gte' if forward else 'lte'}": value})

    def _reversed(self) -> list[str]:
        return [item[1:] if item.startswith("-") else "-" + item for item in self.ordering]

    def page(self, queryset: QuerySet[M], *, params: Mapping[str, Any], size: int) -> KeysetPage[M]:
        """The page the query string asks for: after or before a cursor, the last page, or
        (by default, and for a cursor that is not this list's) the first page."""
        after = self._values(str(params.get(AFTER, ""))) if params.get(AFTER) else None
        before = self._values(str(params.get(BEFORE, ""))) if params.get(BEFORE) else None
        if after is not None:
            found = list(
                queryset.filter(self._beyond(after, backwards=False)).order_by(*self.ordering)[
                    : size + 1
                ]
            )
            return self._made(found[:size], has_previous=True, has_next=len(found) > size)
        if before is not None or params.get(PAGE) == LAST:
            if before is not None:
                queryset = queryset.filter(self._beyond(before, backwards=True))
            found = list(queryset.order_by(*self._reversed())[: size + 1])
            rows = found[:size][::-1]
            return self._made(rows, has_previous=len(found) > size, has_next=before is not None)
        found = list(queryset.order_by(*self.ordering)[: size + 1])
        return self._made(found[:size], has_previous=False, has_next=len(found) > size)

    def _made(self, rows: list[M], *, has_previous: bool, has_next: bool) -> KeysetPage[M]:
        return KeysetPage(
            rows=rows,
            has_previous=has_previous and bool(rows),
            has_next=has_next and bool(rows),
            previous_cursor=self.cursor(rows[0]) if rows and has_previous else None,
            next_cursor=self.cursor(rows[-1]) if rows and has_next else None,
        )
