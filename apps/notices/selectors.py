"""Reads of the notices app, scoped to what the user may see (out of scope = not found)."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from apps.accounts import policy
from apps.accounts.models import User
from apps.notices.models import Notice, NoticeBatch, NoticeRun
from apps.notices.rules import parse_reference_code
from apps.residents.selectors import residents_for


def batches_for(user: User) -> QuerySet[NoticeBatch]:
    """Supervisors run the letters of their own office."""
    return (
        policy.restrict(NoticeBatch.objects.all(), user, allowed=policy.may_manage_notice_batches)
        .select_related("office", "printed_by", "posted_by")
        .annotate(returned_count=Count("notices", filter=Q(notices__returned_on__isnull=False)))
        # Meta.ordering is dropped by the GROUP BY of the annotation: say it again.
        .order_by("-run_on", "kind", "sequence")
    )


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
