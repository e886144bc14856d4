"""Reads of the notices app, scoped to what the user may see (out of scope = not found)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from apps.accounts import policy
from apps.accounts.models import User
from apps.core.paging import Keyset, KeysetPage
from apps.notices.models import Notice, NoticeBatch, NoticeRun
from apps.notices.rules import parse_reference_code
from apps.residents.selectors import residents_for


def batches_for(user: User) -> QuerySet[NoticeBatch]:
    """Supervisors run the letters of their own office; each batch comes with how many of its
    letters came back undeliverable.

    The count is a subquery per batch on the partial index notice_returned_by_batch (only the
    returned letters, a per-cent or so), not a join with every letter of every batch.
    """
    returned = (
        Notice.objects.filter(batch=OuterRef("pk"), returned_on__isnull=False)
        .order_by()
        .values("batch")
        .annotate(count=Count("*"))
        .values("count")
    )
    return (
        policy.restrict(NoticeBatch.objects.all(), user, allowed=policy.may_manage_notice_batches)
        .select_related("office", "printed_by", "posted_by")
        .annotate(returned_count=Coalesce(Subquery(returned), 0))
        .order_by("-run_on", "kind", "sequence")
    )


BATCH_PAGE_SIZE = 50
# Newest run first; within a run by kind and sequence; the id breaks any tie. The office's
# index noticebatch_office_run serves the leading key.
_BATCHES = Keyset(NoticeBatch, ("-run_on", "kind", "sequence", "id"))


def batch_page(*, user: User, params: Mapping[str, Any]) -> KeysetPage[NoticeBatch]:
    """A page of the office's batches from the query string's cursor (apps.core.paging)."""
    return _BATCHES.page(batches_for(user), params=params, size=BATCH_PAGE_SIZE)


def batch_get(*, user: User, batch_id: uuid.UUID) -> NoticeBatch:
    try:
        return batches_for(user).get(pk=batch_id)
    except NoticeBatch.DoesNotExist:
        raise Http404 from None


def runs_recent(*, limit: int = 20) -> list[NoticeRun]:
    """The job's trail; counts only, no personal data, the same for every office."""
    return list(NoticeRun.objects.order_by("-started_at")[:limit])


def notice_find_by_reference(*, user: User, code: str) -> Notice | None:
    """The notice a scanned or typed reference code names, if the user may see its resident.

    Raises ``InvalidReferenceCodeError`` (a ``ValueError``) for a code that cannot be one.
    Another office's notice is simply not found (never "forbidden"): the code must not tell
    a clerk that a resident exists elsewhere.
    """
    number = parse_reference_code(code)
    return (
        Notice.objects.filter(pk=number, resident__in=residents_for(user))
        .select_related("resident", "card", "batch", "returned_by")
        .first()
    )
