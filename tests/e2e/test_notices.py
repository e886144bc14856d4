"""In a real browser: the supervisor watches a batch render (htmx polling) and downloads it;
a clerk scans a returned letter's code and the resident page then warns about the address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.notices.models import Notice, NoticeBatch
from apps.notices.services import batch_render, notices_run
from apps.residents.models import Resident
from tests.e2e.conftest import open_menu_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def batch(
    settings: Any,
    tmp_path: Path,
    office_a: Office,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
) -> NoticeBatch:
    settings.MEDIA_ROOT = tmp_path / "media"  # rendered letters stay out of var/
    card = make_card(make_resident(office_a, postal_code="053-0001"), issued_on=date(2023, 5, 1))
    Card.objects.filter(pk=card.pk).update(expires_on=date(2026, 5, 20))
    result = notices_run(on=date(2026, 3, 1), render=False)
    return NoticeBatch.objects.get(pk=result.batch_ids[0])


def test_supervisor_sees_progress_then_downloads_and_records_printing(
    page: Any,
    login: Callable[..., None],
    live_server: Any,
    supervisor_a: User,
    batch: NoticeBatch,
) -> None:
    NoticeBatch.objects.filter(pk=batch.pk).update(render_state="rendering")
    login(page, "supervisor_a")
    open_menu_entry(page, "カード・通知書", "通知書の束")
    page.get_by_role("link", name="2026年3月1日 / 令和8年3月1日").click()
    page.wait_for_selector("text=作成中 0 / 1通")

    # A worker finishes the batch; the page notices by itself (htmx polls every second).
    NoticeBatch.objects.filter(pk=batch.pk).update(render_state="pending")
    assert batch_render(batch_id=batch.pk)
    page.wait_for_selector("text=作成完了", timeout=10_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.get_by_role("button", name="印刷済にする").click()
    page.wait_for_selector("text=印刷済として記録しました。")
    batch.refresh_from_db()
    assert batch.state == NoticeBatch.State.PRINTED


def test_clerk_scans_a_returned_letter_and_the_resident_page_warns(
    page: Any,
    login: Callable[..., None],
    live_server: Any,
    clerk_a: User,
    batch: NoticeBatch,
) -> None:
    NoticeBatch.objects.filter(pk=batch.pk).update(state=NoticeBatch.State.POSTED)
    notice = Notice.objects.get(batch=batch)
    login(page, "clerk_a")
    open_menu_entry(page, "カード・通知書", "通知書照会")
    # A barcode scanner types the code and Enter into the focused field.
    page.keyboard.type(notice.reference_code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text={notice.reference_code_display}")
    page.fill("#id_returned_on", "2026-03-10")
    page.get_by_role("button", name="宛所不明として記録").click()
    page.wait_for_selector("text=郵便物が宛所不明で戻っています")
    assert f"/residents/{notice.resident_id}/" in page.url
