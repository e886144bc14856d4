"""Every write of the notices app: the job, pickup notices, batch workflow, returned letters.

Each service is one transaction. The job's writes are set-based SQL (apps.notices.job); the
rest lock the rows they change. Rendering (PDF, CSV) runs after the commit, in a Celery task
that takes the batch id only.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts import policy
from apps.accounts.models import User
from apps.audit.models import Action
from apps.audit.services import access_log_record
from apps.cards.models import Card
from apps.core.service import SystemActor, service
from apps.notices import job
from apps.notices.models import Notice, NoticeBatch, NoticeRun
from apps.notices.rules import NoticeKind, expiry_window
from apps.notices.selectors import notice_find_by_reference
from apps.residents.services import resident_flag_address

logger = logging.getLogger(__name__)

# A render that has not finished after this long died with its worker; it may be claimed again.
RENDER_STALE_AFTER = timedelta(hours=1)

# Who the jobs act as when no member of staff started them (history and access rows name it).
NOTICE_JOB = SystemActor("notices.run")
RENDER_JOB = SystemActor("notices.render_batch")


@dataclass(frozen=True)
class NoticeRunResult:
    """What a run created: notices per kind (NoticeKind values) and the new batches."""

    run_id: int
    on: date
    created: dict[str, int] = field(default_factory=dict)
    batch_ids: tuple[uuid.UUID, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _batch_size() -> int:
    return int(settings.NOTICE_BATCH_SIZE)


def _run(
    *,
    on: date,
    trigger: NoticeRun.Trigger,
    render: bool,
    expiry: bool,
    pickup_card_ids: list[uuid.UUID] | None,
) -> NoticeRunResult:
    run = NoticeRun.objects.create(on=on, trigger=trigger)
    try:
        with transaction.atomic():
            # Runs queue here: each sees what the one before it committed, so a second run
            # (a retry, a second worker, the arrivals import) creates only what is missing.
            job.lock()
            created = job.Created.empty()
            if expiry:
                created.add(
                    job.create_expiry_notices(
                        on=on, window=expiry_window(on), batch_size=_batch_size()
                    )
                )
            created.add(
                job.create_pickup_notices(on=on, card_ids=pickup_card_ids, batch_size=_batch_size())
            )
            NoticeRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(),
                created=created.counts,
                batch_count=len(created.batch_ids),
            )
            batch_ids = tuple(created.batch_ids)
            if render and batch_ids:
                transaction.on_commit(lambda: batches_render_enqueue(batch_ids=batch_ids))
    except Exception as exc:
        # The trail shows the failure; the message may hold data, so only the error's kind.
        # Inside a caller's broken transaction this cannot be written: the original error
        # matters more than the record of it.
        with contextlib.suppress(DatabaseError):
            NoticeRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), error=type(exc).__name__
            )
        raise
    return NoticeRunResult(run_id=run.pk, on=on, created=dict(created.counts), batch_ids=batch_ids)


@service(atomic=False)
def notices_run(
    *,
    acting_user: User | SystemActor = NOTICE_JOB,
    on: date,
    trigger: NoticeRun.Trigger = NoticeRun.Trigger.COMMAND,
    render: bool = True,
) -> NoticeRunResult:
    """The whole daily job for ``on``: expiry notices, stay reminders and pickup notices.

    R-NOT-1: cards and certificates whose notice is due by ``on`` and which have not expired
    (an index range scan over the expiry dates); R-NOT-2: one notice per holder per event,
    whatever the number of runs; R-NOT-3: foreign residents whose card ends with their stay
    get the city's reminder instead of the national notice; R-ISS-1: any arrived card still
    without its pickup notice gets one. A card renewed (a newer card ordered or waiting),
    voided, returned or lost before the run gets none. New batches are rendered after the
    commit when ``render`` is true.
    """
    return _run(on=on, trigger=trigger, render=render, expiry=True, pickup_card_ids=None)


@service(atomic=False)
def pickup_notices_create_for_arrivals(
    *,
    acting_user: User | SystemActor = NOTICE_JOB,
    card_ids: list[uuid.UUID] | None = None,
    on: date,
) -> NoticeRunResult:
    """One pickup notice per arrived card, once (R-ISS-1, R-NOT-2).

    Called by the arrivals import with the cards it just moved to "arrived" (``card_ids``),
    or with None to catch up every arrived card that has no pickup notice yet. Cards that
    are not (or no longer) waiting at the city are skipped. Safe to call again and from
    inside the caller's transaction: rendering is queued for after the commit.
    """
    if card_ids is not None and not card_ids:
        return NoticeRunResult(run_id=0, on=on)
    return _run(
        on=on,
        trigger=NoticeRun.Trigger.ARRIVALS,
        render=True,
        expiry=False,
        pickup_card_ids=card_ids,
    )


# --- rendering ----------------------------------------------------------------------------------


CITY_LETTER_KINDS = {
    "card": NoticeKind.CITY_CARD_EXPIRY,
    "certificate": NoticeKind.CITY_CERTIFICATE_EXPIRY,
}


@service
def city_expiry_letters_create(
    *,
    acting_user: User,
    on: date,
    events: list[tuple[str, uuid.UUID, date]],
) -> dict[str, int]:
    """R-NOT-4: the city's own expiry letter to each holder J-LIS's list left out.

    ``events`` are (``"card"`` or ``"certificate"``, card id, expiry). One notice per card,
    kind and expiry (the ``notice_one_per_event`` index): a second reconciliation of the same
    month, or two at once, writes no second letter. Only cards of the supervisor's office; the
    batches are rendered after the commit. Returns the letters created per notice kind.
    """
    policy.check(policy.may_reconcile_notices(acting_user))
    if acting_user.office_id is None:  # a supervisor has an office (policy)
        raise PermissionDenied
    office_cards = set(
        Card.objects.filter(
            office_id=acting_user.office_id, pk__in={card_id for _, card_id, _ in events}
        ).values_list("pk", flat=True)
    )
    created = job.Created.empty()
    # Queue behind the daily job: it numbers the day's batches too.
    job.lock()
    for key, kind in CITY_LETTER_KINDS.items():
        mine = [(card_id, expires_on) for k, card_id, expires_on in events if k == key]
        mine = [(card_id, expires_on) for card_id, expires_on in mine if card_id in office_cards]
        if mine:
            created.add(
                job.create_city_letters(kind=kind, on=on, events=mine, batch_size=_batch_size())
            )
    batch_ids = tuple(created.batch_ids)
    if batch_ids:
        transaction.on_commit(lambda: batches_render_enqueue(batch_ids=batch_ids))
    return dict(created.counts)


def batches_render_enqueue(*, batch_ids: tuple[uuid.UUID, ...] | list[uuid.UUID]) -> None:
    """Send one render task per batch (ids only). Eager mode (no Redis) renders right here."""
    from apps.notices.tasks import batch_render_task

    for batch_id in batch_ids:
        batch_render_task.delay(str(batch_id))


def _claimable() -> Q:
    stale = timezone.now() - RENDER_STALE_AFTER
    return Q(
        render_state__in=[NoticeBatch.RenderState.PENDING, NoticeBatch.RenderState.FAILED]
    ) | Q(render_state=NoticeBatch.RenderState.RENDERING, render_started_at__lt=stale)


@service(atomic=False)
def batch_render(*, acting_user: SystemActor = RENDER_JOB, batch_id: uuid.UUID) -> bool:
    """Render a batch to one PDF and one CSV; False if another worker has it or it is done.

    Claiming is one conditional UPDATE, so two workers given the same batch render it once.
    Progress (``rendered_count``) is committed as it goes, for the supervisor's screen.
    """
    from apps.notices import letters

    claimed = (
        NoticeBatch.objects.filter(pk=batch_id)
        .filter(_claimable())
        .update(
            render_state=NoticeBatch.RenderState.RENDERING,
            render_started_at=timezone.now(),
            rendered_count=0,
            render_error="",
        )
    )
    if not claimed:
        return False
    batch = NoticeBatch.objects.select_related("office").get(pk=batch_id)

    def progress(done: int) -> None:
        NoticeBatch.objects.filter(pk=batch_id).update(rendered_count=done)

    try:
        pdf_bytes, count = letters.render_batch_pdf(batch=batch, progress=progress)
        csv_bytes = letters.batch_csv(batch=batch)
        pdf_name = default_storage.save(f"notices/batches/{batch.pk}.pdf", ContentFile(pdf_bytes))
        csv_name = default_storage.save(f"notices/batches/{batch.pk}.csv", ContentFile(csv_bytes))
        old = NoticeBatch.objects.filter(pk=batch_id).values_list("pdf", "csv").get()
        NoticeBatch.objects.filter(pk=batch_id).update(
            render_state=NoticeBatch.RenderState.DONE,
            rendered_count=count,
            pdf=pdf_name,
            csv=csv_name,
        )
        for stale_name in old:
            if stale_name and stale_name not in (pdf_name, csv_name):
                default_storage.delete(stale_name)
    except Exception as exc:
        # Only the error's kind: a message could quote a name or an address.
        logger.error("notice batch %s failed to render: %s", batch_id, type(exc).__name__)
        NoticeBatch.objects.filter(pk=batch_id).update(
            render_state=NoticeBatch.RenderState.FAILED, render_error=type(exc).__name__
        )
        return False
    return True


def _check_batch_manager(user: User, batch: NoticeBatch) -> None:
    policy.check(
        policy.may_manage_notice_batches(user) and policy.same_office(user, batch),
        "通知書の束を扱えるのは、その庁舎の監督者だけです。",
    )


@service
def batch_render_request(*, acting_user: User, batch: NoticeBatch) -> NoticeBatch:
    """A supervisor asks for the PDF/CSV again (after a failure, or a worker that died)."""
    _check_batch_manager(acting_user, batch)
    batch = NoticeBatch.objects.select_for_update().get(pk=batch.pk)
    started = batch.render_started_at
    running = batch.render_state == NoticeBatch.RenderState.RENDERING and (
        started is not None and started >= timezone.now() - RENDER_STALE_AFTER
    )
    if running:
        raise ValidationError("この束のPDFは作成中です。完了までお待ちください。")
    if batch.state != NoticeBatch.State.GENERATED:
        raise ValidationError("印刷済・発送済の束は作り直せません。")
    batch.render_state = NoticeBatch.RenderState.PENDING
    batch.rendered_count = 0
    batch.render_error = ""
    batch.save(update_fields=["render_state", "rendered_count", "render_error"])
    batch_ids = (batch.pk,)
    transaction.on_commit(lambda: batches_render_enqueue(batch_ids=batch_ids))
    return batch


# --- postal workflow ----------------------------------------------------------------------------


@service
def batch_mark_printed(*, acting_user: User, batch: NoticeBatch) -> NoticeBatch:
    """generated → printed; only a finished PDF can have been printed."""
    _check_batch_manager(acting_user, batch)
    batch = NoticeBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != NoticeBatch.State.GENERATED:
        raise ValidationError(f"この束は既に「{batch.get_state_display()}」です。")
    if batch.render_state != NoticeBatch.RenderState.DONE:
        raise ValidationError("PDFの作成が完了していないため、印刷済にできません。")
    batch.state = NoticeBatch.State.PRINTED
    batch.printed_at = timezone.now()
    batch.printed_by = acting_user
    batch.save(update_fields=["state", "printed_at", "printed_by"])
    return batch


@service
def batch_mark_posted(*, acting_user: User, batch: NoticeBatch) -> NoticeBatch:
    """printed → posted."""
    _check_batch_manager(acting_user, batch)
    batch = NoticeBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != NoticeBatch.State.PRINTED:
        raise ValidationError(
            f"発送済にできるのは印刷済の束だけです（現在は「{batch.get_state_display()}」）。"
        )
    batch.state = NoticeBatch.State.POSTED
    batch.posted_at = timezone.now()
    batch.posted_by = acting_user
    batch.save(update_fields=["state", "posted_at", "posted_by"])
    return batch


@service
def notice_mark_returned(*, acting_user: User, notice: Notice, on: date) -> Notice:
    """A posted letter came back undeliverable (宛所不明): record it and flag the address.

    Sets ``Resident.address_flagged_on`` so every clerk who opens the resident sees that the
    registered address needs checking (the warning on the resident page).
    """
    notice = (
        Notice.objects.select_for_update(of=("self",)).select_related("batch").get(pk=notice.pk)
    )
    policy.check(policy.may_work_on(acting_user, notice.resident))
    if notice.returned_on is not None:
        raise ValidationError("この通知書は既に宛所不明として記録されています。")
    if notice.batch is None or notice.batch.state != NoticeBatch.State.POSTED:
        raise ValidationError(
            "この通知書はまだ発送済として記録されていません。監督者に発送の記録を依頼してください。"
        )
    if on < notice.created_on:
        raise ValidationError("返戻日が通知書の作成日より前です。")
    if on > timezone.localdate():
        raise ValidationError("返戻日に未来の日付は指定できません。")
    notice.returned_on = on
    notice.returned_by = acting_user
    notice.save(update_fields=["returned_on", "returned_by"])
    resident_flag_address(acting_user=acting_user, resident=notice.resident, on=on)
    return notice


# --- looks at residents through the notices, each with its access-log row (R-AUD-1) ----------


@service
def notice_lookup_logged(
    *, acting_user: User, code: str, ip_address: str | None = None
) -> Notice | None:
    """The notice a reference code names, if the user may see its resident. Which resident the
    code led to is a look at that resident: logged like a search, in the same transaction."""
    notice = notice_find_by_reference(user=acting_user, code=code)
    access_log_record(
        actor=acting_user,
        action=Action.SEARCH,
        resident=notice.resident if notice else None,
        detail={"fields": ["reference_code"], "matched": 1 if notice else 0},
        ip_address=ip_address,
    )
    return notice


@service
def batch_download_logged(
    *, acting_user: User, batch: NoticeBatch, fmt: str, ip_address: str | None = None
) -> bytes:
    """A rendered batch's PDF or CSV (``fmt``). Names and addresses leave the system here:
    logged as an export. A batch is at most NOTICE_BATCH_SIZE letters (a few MB): read whole."""
    _check_batch_manager(acting_user, batch)
    name = batch.pdf if fmt == "pdf" else batch.csv
    access_log_record(
        actor=acting_user,
        action=Action.EXPORT,
        detail={"batch": str(batch.pk), "format": fmt, "letters": batch.notice_count},
        ip_address=ip_address,
    )
    with default_storage.open(name, "rb") as handle:
        return bytes(handle.read())
