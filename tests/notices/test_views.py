"""Every notices page: anonymous → login, wrong role → 403, other office → 404, permitted.

Also the flows behind them: reference-code lookup, a returned letter flagging the address
(shown on the resident page), the batch workflow and the downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.audit.models import AccessLog, Action
from apps.cards.models import Card
from apps.notices.models import Notice, NoticeBatch
from apps.notices.services import batch_render, notices_run
from apps.residents.models import Resident

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], Client]


@pytest.fixture
def batch(
    office_a: Office, make_resident: Callable[..., Resident], card_expiring: Callable[..., Card]
) -> NoticeBatch:
    resident = make_resident(office_a, postal_code="053-0001")
    card_expiring(resident, date(2026, 5, 20))
    result = notices_run(on=date(2026, 3, 1), render=False)
    return NoticeBatch.objects.get(pk=result.batch_ids[0])


@pytest.fixture
def rendered(batch: NoticeBatch) -> NoticeBatch:
    assert batch_render(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def _batch_urls(batch: NoticeBatch) -> list[tuple[str, str]]:
    return [
        ("get", reverse("notices:batches")),
        ("get", reverse("notices:batch", args=[batch.pk])),
        ("get", reverse("notices:batch-progress", args=[batch.pk])),
        ("get", reverse("notices:batch-download", args=[batch.pk, "pdf"])),
        ("get", reverse("notices:batch-download", args=[batch.pk, "csv"])),
        ("post", reverse("notices:batch-render", args=[batch.pk])),
        ("post", reverse("notices:batch-printed", args=[batch.pk])),
        ("post", reverse("notices:batch-posted", args=[batch.pk])),
    ]


def test_anonymous_is_sent_to_login(client_for: ClientFor, rendered: NoticeBatch) -> None:
    client = client_for(None)
    for method, url in [
        *_batch_urls(rendered),
        ("get", reverse("notices:lookup")),
        ("post", reverse("notices:returned")),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_wrong_roles_get_403(
    client_for: ClientFor, rendered: NoticeBatch, clerk_a: User, auditor: User, admin_user: User
) -> None:
    for user in (clerk_a, auditor, admin_user):
        client = client_for(user)
        for method, url in _batch_urls(rendered):
            assert getattr(client, method)(url).status_code == 403, (user.username, url)
    for user in (auditor, admin_user):
        client = client_for(user)
        assert client.get(reverse("notices:lookup")).status_code == 403
        assert client.post(reverse("notices:returned")).status_code == 403


def test_other_office_supervisor_gets_404_and_an_empty_list(
    client_for: ClientFor, rendered: NoticeBatch, supervisor_b: User
) -> None:
    client = client_for(supervisor_b)
    listing = client.get(reverse("notices:batches"))
    assert listing.status_code == 200
    assert str(rendered.pk) not in listing.content.decode()
    for method, url in _batch_urls(rendered)[1:]:
        assert getattr(client, method)(url).status_code == 404, url
    rendered.refresh_from_db()
    assert rendered.state == NoticeBatch.State.GENERATED


def test_supervisor_lists_follows_progress_downloads_and_records_the_post(
    client_for: ClientFor, rendered: NoticeBatch, supervisor_a: User
) -> None:
    client = client_for(supervisor_a)
    listing = client.get(reverse("notices:batches")).content.decode()
    assert reverse("notices:batch", args=[rendered.pk]) in listing
    assert "有効期限通知書（カード）" in listing
    assert "定時実行" in listing or "コマンド" in listing  # the run trail

    progress = client.get(reverse("notices:batch-progress", args=[rendered.pk])).content.decode()
    assert "hx-trigger" not in progress  # done: the poll stops
    assert "作成完了" in progress

    pdf = client.get(reverse("notices:batch-download", args=[rendered.pk, "pdf"]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "no-store" in pdf["Cache-Control"]
    csv_response = client.get(reverse("notices:batch-download", args=[rendered.pk, "csv"]))
    assert csv_response.content.decode("utf-8-sig").startswith("整理番号,")
    assert AccessLog.objects.filter(actor=supervisor_a, action=Action.EXPORT).count() == 2
    assert (
        client.get(reverse("notices:batch-download", args=[rendered.pk, "exe"])).status_code == 404
    )

    # Posted before printed is refused with a message, nothing changes.
    response = client.post(reverse("notices:batch-posted", args=[rendered.pk]), follow=True)
    assert "印刷済の束だけ" in response.content.decode()
    client.post(reverse("notices:batch-printed", args=[rendered.pk]))
    client.post(reverse("notices:batch-posted", args=[rendered.pk]))
    rendered.refresh_from_db()
    assert rendered.state == NoticeBatch.State.POSTED
    assert rendered.printed_by == supervisor_a
    assert rendered.posted_by == supervisor_a


def test_progress_polls_while_rendering_and_rerender_runs_the_task(
    client_for: ClientFor,
    batch: NoticeBatch,
    supervisor_a: User,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(supervisor_a)
    NoticeBatch.objects.filter(pk=batch.pk).update(render_state="rendering", rendered_count=0)
    page = client.get(reverse("notices:batch", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "0 / 1通" in page
    # A render that is still running cannot be started twice.
    NoticeBatch.objects.filter(pk=batch.pk).update(render_started_at="2999-01-01T00:00:00Z")
    response = client.post(reverse("notices:batch-render", args=[batch.pk]), follow=True)
    assert "作成中です" in response.content.decode()

    NoticeBatch.objects.filter(pk=batch.pk).update(render_state="failed")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notices:batch-render", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.render_state == NoticeBatch.RenderState.DONE
    assert batch.rendered_count == 1
    # Printing needs a finished PDF; a generated batch can be printed now.
    client.post(reverse("notices:batch-printed", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.state == NoticeBatch.State.PRINTED


def test_lookup_by_reference_code(
    client_for: ClientFor, batch: NoticeBatch, clerk_a: User, clerk_b: User
) -> None:
    """R-ISS-1: the counter scans the code on the letter; other offices find nothing."""
    notice = Notice.objects.get(batch=batch)
    url = reverse("notices:lookup")
    assert client_for(clerk_a).get(url).status_code == 200

    found = client_for(clerk_a).post(url, {"code": notice.reference_code_display.lower()})
    assert found.status_code == 200
    body = found.content.decode()
    assert reverse("residents:detail", args=[notice.resident_id]) in body
    assert notice.reference_code_display in body

    elsewhere = client_for(clerk_b).post(url, {"code": notice.reference_code}).content.decode()
    assert "見つかりません" in elsewhere
    assert reverse("residents:detail", args=[notice.resident_id]) not in elsewhere

    typo = notice.reference_code[:-1] + str((int(notice.reference_code[-1]) + 1) % 10)
    wrong = client_for(clerk_a).post(url, {"code": typo}).content.decode()
    assert "検査数字が一致しません" in wrong
    assert AccessLog.objects.filter(actor=clerk_a, action=Action.SEARCH).count() == 1


def test_returned_letter_flags_the_address_on_the_resident_page(
    client_for: ClientFor, rendered: NoticeBatch, clerk_a: User, clerk_b: User, supervisor_a: User
) -> None:
    """宛所不明: recorded once, only for posted letters, and the resident page warns."""
    notice = Notice.objects.get(batch=rendered)
    clerk = client_for(clerk_a)
    data = {"code": notice.reference_code, "returned_on": "2026-03-10"}

    not_posted = clerk.post(reverse("notices:returned"), data)
    assert not_posted.status_code == 400
    assert "発送済として記録されていません" in not_posted.content.decode()

    NoticeBatch.objects.filter(pk=rendered.pk).update(state=NoticeBatch.State.POSTED)
    assert client_for(clerk_b).post(reverse("notices:returned"), data).status_code == 404

    no_date = clerk.post(reverse("notices:returned"), {"code": notice.reference_code})
    assert no_date.status_code == 400
    assert "この項目は必須です" in no_date.content.decode()  # shown with the notice again
    assert notice.reference_code_display in no_date.content.decode()
    future = clerk.post(
        reverse("notices:returned"), {"code": notice.reference_code, "returned_on": "2999-01-01"}
    )
    assert "未来の日付" in future.content.decode()

    response = clerk.post(reverse("notices:returned"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("residents:detail", args=[notice.resident_id])
    assert "宛所不明で戻っています" in response.content.decode()
    notice.refresh_from_db()
    assert notice.returned_on == date(2026, 3, 10)
    assert notice.returned_by == clerk_a
    assert Resident.objects.get(pk=notice.resident_id).address_flagged_on == date(2026, 3, 10)

    again = clerk.post(reverse("notices:returned"), data)
    assert again.status_code == 400
    assert "既に宛所不明として記録されています" in again.content.decode()

    detail = client_for(supervisor_a).get(reverse("notices:batch", args=[rendered.pk]))
    assert notice.reference_code_display in detail.content.decode()
