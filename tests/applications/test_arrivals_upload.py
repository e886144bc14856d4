"""Uploading the J-LIS arrivals file (R-ISS-1): a size limit with a clear message, the SHA-256
dedupe per office, a NUL byte reported as what it is, and the import as a Celery task that the
page follows with a progress bar (a 100,000-line file must not hold a request)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Office, User
from apps.applications import arrivals
from apps.applications.arrivals import (
    ArrivalFileError,
    arrival_import_run,
    arrival_import_submit,
    arrivals_import,
)
from apps.applications.models import Application, ArrivalImport, ArrivalUpload
from apps.applications.rules import ApplicationKind, ApplicationState
from apps.cards import services as card_services
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.notices.models import Notice
from apps.notices.rules import NoticeKind
from config.celery import app as celery_app
from tests.applications.helpers import arrivals_csv, receive
from tests.celery_workers import celery_workers

S = ArrivalImport.State


@pytest.fixture
def ordered(clerk_a: User, make_resident: Any, office_a: Office) -> list[Application]:
    return [
        receive(clerk_a, make_resident(office_a), ApplicationKind.FIRST_ISSUE) for _ in range(3)
    ]


def _file(applications: list[Application]) -> bytes:
    """Made and arrived today (the applications were received today)."""
    today = timezone.localdate()
    return arrivals_csv([(a.new_card_id, today, today) for a in applications])


# --- size, NUL bytes, per-office dedupe ------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_refused_with_a_message(
    settings: Any, clerk_a: User, ordered: list[Application], client_for: Any
) -> None:
    """The upload handler stops reading past the limit; form and API say so in Japanese."""
    settings.ARRIVALS_MAX_BYTES = settings.UPLOAD_MAX_BYTES = 4096
    big = _file(ordered) + b"\n" * 8192
    form = client_for(clerk_a).post(
        reverse("applications:arrivals"), {"file": SimpleUploadedFile("big.csv", big)}
    )
    assert form.status_code == 400
    assert "ファイルが大きすぎます（上限 4,096 バイト）" in form.content.decode()
    api = client_for(clerk_a).post(
        reverse("applications-api:arrivals"), {"file": SimpleUploadedFile("big.csv", big)}
    )
    assert api.status_code == 400
    assert "ファイルが大きすぎます" in api.json()["problems"][0]["message"]
    assert not ArrivalImport.objects.exists()
    assert not ArrivalUpload.objects.exists()
    # The service refuses on its own too (an upload that came another way).
    settings.UPLOAD_MAX_BYTES = 10**6
    with pytest.raises(ArrivalFileError, match="ファイルが大きすぎます"):
        arrival_import_submit(acting_user=clerk_a, content=big, filename="big.csv")


@pytest.mark.django_db
def test_a_nul_byte_is_reported_as_a_nul_byte(clerk_a: User, ordered: list[Application]) -> None:
    lines = _file(ordered).split(b"\n")
    lines[2] = lines[2][:10] + b"\x00" + lines[2][10:]
    with pytest.raises(ArrivalFileError) as refused:
        arrival_import_submit(acting_user=clerk_a, content=b"\n".join(lines), filename="nul.csv")
    assert refused.value.problems == [
        (
            3,
            "NUL文字（0x00）が含まれています。CSVのテキストファイルではないか、"
            "壊れている可能性があります。J-LISから受け取ったファイルを確かめてください。",
        )
    ]
    assert not ArrivalImport.objects.exists()


@pytest.mark.django_db
def test_the_same_file_at_another_office_is_that_offices_own_import(
    clerk_a: User, clerk_b: User, ordered: list[Application], client_for: Any
) -> None:
    """The dedupe is per office: office B's upload of office A's bytes is not answered with
    office A's import record (which named A's file, staff and counts)."""
    content = _file(ordered)
    first = arrivals_import(acting_user=clerk_a, content=content, filename="honcho.csv")
    assert first.record.applied_count == 3
    with pytest.raises(ArrivalFileError, match="発注中のカードがありません"):
        arrivals_import(acting_user=clerk_b, content=content, filename="shisho.csv")
    theirs = ArrivalImport.objects.get(office=clerk_b.office)
    assert theirs.pk != first.record.pk
    assert theirs.state == S.FAILED
    assert theirs.filename == "shisho.csv"
    page = client_for(clerk_b).get(reverse("applications:arrivals")).content.decode()
    assert "honcho.csv" not in page
    assert (
        client_for(clerk_b).get(reverse("applications:arrival", args=[first.record.pk])).status_code
        == 404
    )
    # The same office uploading the same bytes again changes nothing.
    again = arrivals_import(acting_user=clerk_a, content=content, filename="again.csv")
    assert not again.created
    assert again.record.pk == first.record.pk


# --- the import as a task, followed on the page ------------------------------------------------


@pytest.mark.django_db
def test_the_page_follows_the_import_with_a_progress_bar(
    clerk_a: User,
    ordered: list[Application],
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(clerk_a)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("applications:arrivals"),
            {"file": SimpleUploadedFile("jlis.csv", _file(ordered))},
        )
    assert len(queued) == 1  # the import goes to Celery after the commit, not in the request
    record = ArrivalImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:arrival", args=[record.pk])
    assert record.state == S.QUEUED
    assert Application.objects.filter(state=ApplicationState.ARRIVED).count() == 0

    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page
    assert 'hx-trigger="every 1s"' in page
    fragment = client.get(response["Location"], headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith("<section")  # the part, not the page

    run = arrival_import_run(import_id=record.pk)
    assert run is not None
    assert run.record.state == S.DONE
    done = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'data-import-state="done"' in done
    assert "hx-trigger" not in done  # the page stops asking
    assert "到着を記録 <strong>3件</strong>" in done
    assert not ArrivalUpload.objects.exists()  # the bytes are gone once imported
    assert arrival_import_run(import_id=record.pk) is None  # a second delivery does nothing


@pytest.mark.django_db
def test_a_refused_file_shows_its_lines_on_the_page(
    clerk_a: User, ordered: list[Application], client_for: Any
) -> None:
    today = timezone.localdate()
    rows = [(ordered[0].new_card_id, today, today), (uuid.uuid4(), today, today)]
    submitted = arrival_import_submit(
        acting_user=clerk_a, content=arrivals_csv(rows), filename="bad.csv", enqueue=False
    )
    arrival_import_run(import_id=submitted.record.pk)
    page = (
        client_for(clerk_a)
        .get(reverse("applications:arrival", args=[submitted.record.pk]))
        .content.decode()
    )
    assert 'data-import-state="failed"' in page
    assert (
        "<strong>3行目</strong>: card_id に該当する、この庁舎で発注中のカードがありません。" in page
    )
    assert Card.objects.filter(state=CardState.ARRIVED).count() == 0


@pytest.mark.django_db
def test_the_import_pages_and_api_for_each_persona(
    clerk_a: User,
    clerk_b: User,
    auditor: User,
    ordered: list[Application],
    client_for: Any,
) -> None:
    record = arrivals_import(acting_user=clerk_a, content=_file(ordered), filename="a.csv").record
    page = reverse("applications:arrival", args=[record.pk])
    api = reverse("applications-api:arrival", args=[record.pk])
    assert client_for(None).get(page).status_code == 302
    assert client_for(None).get(api).status_code in (401, 403)
    assert client_for(auditor).get(page).status_code == 403
    assert client_for(auditor).get(api).status_code == 403
    assert client_for(clerk_b).get(page).status_code == 404
    assert client_for(clerk_b).get(api).status_code == 404
    assert client_for(clerk_a).get(page).status_code == 200
    status = client_for(clerk_a).get(api).json()
    assert (status["state"], status["progress_percent"], status["applied_count"]) == (
        "done",
        100,
        3,
    )


@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_outside_the_import_while_it_runs(
    clerk_a: User, ordered: list[Application], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress a page polls is committed while the import's own transaction is open."""
    monkeypatch.setattr(card_services, "ARRIVE_CHUNK", 1)
    monkeypatch.setattr(arrivals, "_APPLICATION_CHUNK", 1)
    monkeypatch.setattr(arrivals._ProgressWriter, "min_interval", 0)
    submitted = arrival_import_submit(
        acting_user=clerk_a, content=_file(ordered), filename="p.csv", enqueue=False
    )
    seen: list[tuple[int, str]] = []
    write = arrivals._ProgressWriter.__call__

    def watched(self: Any, percent: int, phase: str, *, force: bool = False) -> None:
        write(self, percent, phase, force=force)
        observer = connections.create_connection("default")
        try:
            with observer.cursor() as cursor:
                cursor.execute(
                    "SELECT progress_percent, state FROM applications_arrivalimport WHERE id = %s",
                    [submitted.record.pk],
                )
                seen.append(cursor.fetchone())
        finally:
            observer.close()

    monkeypatch.setattr(arrivals._ProgressWriter, "__call__", watched)
    run = arrival_import_run(import_id=submitted.record.pk)
    assert run is not None
    assert run.record.state == S.DONE
    percents = [percent for percent, _ in seen]
    assert {state for _, state in seen} == {"running"}  # seen while the import ran
    assert percents == sorted(percents)
    assert any(0 < percent < 100 for percent in percents)
    assert percents[-1] == 100


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_the_upload_and_sends_pickup_notices(
    clerk_a: User, ordered: list[Application], client_for: Any, tmp_path: Path
) -> None:
    """The upload returns at once; a `celery worker` process imports it, then makes the
    pickup notices (R-ISS-1) from the task the import sends after its commit."""
    with celery_workers(tmp_path, count=1, prefix="arrivals-test") as (_, queue):
        previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
        celery_app.conf.task_always_eager = False
        celery_app.conf.task_default_queue = queue
        try:
            response = client_for(clerk_a).post(
                reverse("applications:arrivals"),
                {"file": SimpleUploadedFile("jlis.csv", _file(ordered))},
            )
            assert response.status_code == 302
            deadline = time.monotonic() + 60
            while (
                Notice.objects.filter(kind=NoticeKind.PICKUP).count() < len(ordered)
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
        finally:
            celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
    record = ArrivalImport.objects.get()
    assert (record.state, record.applied_count, record.progress_percent) == (S.DONE, 3, 100)
    assert Application.objects.filter(state=ApplicationState.ARRIVED).count() == 3
    assert Notice.objects.filter(kind=NoticeKind.PICKUP).count() == len(ordered)
