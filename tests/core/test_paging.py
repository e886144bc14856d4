"""Keyset paging (apps.core.paging): every row once, in order, both ways, whatever the ties."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.core import signing
from pytest_django import DjangoAssertNumQueries

from apps.accounts.models import Office
from apps.core.paging import Keyset, KeysetPage
from apps.notices.models import NoticeBatch

pytestmark = pytest.mark.django_db

# Mixed directions and ties in every leading field: the batch list's own ordering.
NEWEST_RUN_FIRST = ("-run_on", "kind", "sequence", "id")


@pytest.fixture
def batches(office_a: Office) -> list[NoticeBatch]:
    """23 batches over 4 days, two kinds, a few sequences each (so every key ties somewhere)."""
    rows = [
        NoticeBatch(
            office=office_a, kind=kind, run_on=date(2026, 1, 1) + timedelta(days=day), sequence=seq
        )
        for day, kind, seq in itertools.product(range(4), ("card_expiry", "pickup"), range(3))
    ][:23]
    return NoticeBatch.objects.bulk_create(rows)


def _ordered(keyset: Keyset, rows: list[NoticeBatch]) -> list[NoticeBatch]:
    return list(NoticeBatch.objects.filter(pk__in=[r.pk for r in rows]).order_by(*keyset.ordering))


def _walk_forward(keyset: Keyset, size: int) -> list[KeysetPage[NoticeBatch]]:
    pages = [keyset.page(NoticeBatch.objects.all(), params={}, size=size)]
    while pages[-1].has_next:
        cursor = pages[-1].next_cursor
        pages.append(keyset.page(NoticeBatch.objects.all(), params={"after": cursor}, size=size))
    return pages


def _walk_backward(keyset: Keyset, size: int) -> list[KeysetPage[NoticeBatch]]:
    pages = [keyset.page(NoticeBatch.objects.all(), params={"page": "last"}, size=size)]
    while pages[-1].has_previous:
        cursor = pages[-1].previous_cursor
        pages.append(keyset.page(NoticeBatch.objects.all(), params={"before": cursor}, size=size))
    return pages


@pytest.mark.parametrize("ordering", [NEWEST_RUN_FIRST, ("run_on", "id"), ("-run_on", "-id")])
@pytest.mark.parametrize("size", [1, 4, 5, 23, 50])
def test_walking_the_pages_either_way_lists_every_row_once_in_order(
    batches: list[NoticeBatch], ordering: tuple[str, ...], size: int
) -> None:
    keyset = Keyset(NoticeBatch, ordering)
    expected = [row.pk for row in _ordered(keyset, batches)]
    forward = _walk_forward(keyset, size)
    assert [row.pk for page in forward for row in page] == expected
    assert all(len(page) == size for page in forward[:-1])
    assert forward[0].is_first
    assert forward[-1].is_last
    backward = _walk_backward(keyset, size)
    assert [row.pk for page in reversed(backward) for row in page] == expected
    assert backward[0].is_last
    assert backward[-1].is_first
    assert len(backward[0]) == min(size, len(expected))  # the last page is full


def test_a_previous_page_after_going_forward_is_the_page_before(batches: list[NoticeBatch]) -> None:
    keyset = Keyset(NoticeBatch, NEWEST_RUN_FIRST)
    first = keyset.page(NoticeBatch.objects.all(), params={}, size=5)
    second = keyset.page(NoticeBatch.objects.all(), params={"after": first.next_cursor}, size=5)
    back = keyset.page(NoticeBatch.objects.all(), params={"before": second.previous_cursor}, size=5)
    assert [r.pk for r in back] == [r.pk for r in first]
    assert back.is_first


def test_the_page_reads_one_query_without_offset_or_count(
    batches: list[NoticeBatch], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    keyset = Keyset(NoticeBatch, NEWEST_RUN_FIRST)
    cursor = keyset.page(NoticeBatch.objects.all(), params={}, size=5).next_cursor
    with django_assert_num_queries(1) as captured:
        keyset.page(NoticeBatch.objects.all(), params={"after": cursor}, size=5)
    sql = captured.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
    assert "LIMIT 6" in sql  # one row past the page: is there a next one?


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        signing.dumps(["2026-01-01", "x"], salt="another list"),
        Keyset(NoticeBatch, ("run_on", "id")).cursor(NoticeBatch(run_on=date(2026, 1, 2))),
    ],
    ids=["garbage", "other salt", "other list"],
)
def test_a_cursor_that_is_not_this_lists_starts_at_the_first_page(
    batches: list[NoticeBatch], cursor: str
) -> None:
    keyset = Keyset(NoticeBatch, NEWEST_RUN_FIRST)
    first = keyset.page(NoticeBatch.objects.all(), params={}, size=5)
    for param in ("after", "before"):
        page = keyset.page(NoticeBatch.objects.all(), params={param: cursor}, size=5)
        assert [r.pk for r in page] == [r.pk for r in first]


def test_a_tampered_value_in_a_signed_cursor_is_refused(batches: list[NoticeBatch]) -> None:
    keyset = Keyset(NoticeBatch, NEWEST_RUN_FIRST)
    cursor = keyset.page(NoticeBatch.objects.all(), params={}, size=5).next_cursor
    assert cursor is not None
    value, _, signature = cursor.rpartition(":")
    forged = signing.dumps(["1999-01-01", "card_expiry", "0", str(batches[0].pk)]) + "x"
    for bad in (value + ":" + signature[::-1], forged):
        page = keyset.page(NoticeBatch.objects.all(), params={"after": bad}, size=5)
        assert page.is_first


def test_a_short_list_and_an_empty_one_have_no_links(office_a: Office) -> None:
    keyset = Keyset(NoticeBatch, NEWEST_RUN_FIRST)
    empty = keyset.page(NoticeBatch.objects.all(), params={"page": "last"}, size=5)
    assert list(empty) == []
    assert empty.is_first
    assert empty.is_last
    NoticeBatch.objects.create(office=office_a, kind="pickup", run_on=date(2026, 1, 1))
    for params in ({}, {"page": "last"}):
        page = keyset.page(NoticeBatch.objects.all(), params=params, size=5)
        assert len(page) == 1
        assert (page.previous_cursor, page.next_cursor) == (None, None)
