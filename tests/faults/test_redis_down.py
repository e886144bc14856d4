"""Redis down: the pages keep working, and the jobs asked for meanwhile run once it is back.

The production stack (deploy/serve-prod.sh: gunicorn, a Celery worker, beat) on the test
database with a redis-server of the test's own. With Redis stopped, a signed-in supervisor
opens a resident and searches (no page needs Redis), and asks for a notice batch's letters:
the page answers with its Japanese confirmation instead of a 500 (apps.core.jobs.enqueue logs
the unreachable broker instead of raising) and the batch waits as pending; /readyz says 503
while /healthz stays 200. Redis comes back empty (the message was never sent) and beat's
resume sweep (notices.resume_renders, every JOBS_RESUME_SECONDS) sends it: the letters are
made. Without enqueue's guard the request is a 500; without the sweep the batch never renders.
A clerk signs in while Redis is down (the sign-in limits fall back to the process).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.notices.models import NoticeBatch
from apps.notices.services import notices_run
from apps.residents.models import Resident
from tests.auth import enrol_totp
from tests.faults.server import (
    Browser,
    RedisServer,
    production_password,
    serve_prod,
    wait_for,
)

ON = date(2027, 2, 28)


@pytest.mark.redis
def test_redis_down_pages_work_and_jobs_resume_when_it_returns(
    tmp_path: Path,
    transactional_db: Any,
    office_a: Office,
    supervisor_a: User,
    clerk_a: User,
    make_resident: Callable[..., Resident],
    card_expiring: Callable[..., Card],
) -> None:
    for user in (supervisor_a, clerk_a):
        enrol_totp(user)
        production_password(user)
    holder = make_resident(office_a, family_name_kana="ヤマダ", given_name_kana="ハナコ")
    for n in range(3):
        card_expiring(make_resident(office_a), date(2027, 5, 1 + n))
    card_expiring(holder, date(2027, 5, 20))
    (batch_id,) = notices_run(on=ON, render=False).batch_ids

    # A render that failed earlier: nothing renders it until the supervisor asks again.
    NoticeBatch.objects.filter(pk=batch_id).update(
        render_state=NoticeBatch.RenderState.FAILED, render_error="OSError"
    )

    redis = RedisServer(tmp_path)
    redis.start()
    # The sweep every 2 s, so that the test waits seconds, not the default 5 minutes.
    with serve_prod(tmp_path, redis=redis.url, extra={"JOBS_RESUME_SECONDS": "2"}) as server:
        browser = Browser(server.base)
        browser.sign_in(supervisor_a.username)

        redis.stop()
        assert httpx.get(server.base + "/healthz", timeout=5).status_code == 200
        # Signing in needs no Redis either: its limits count in the web process meanwhile
        # (apps.core.cache). Before that fallback, this sign-in was a 500.
        clerk = Browser(server.base)
        clerk.sign_in(clerk_a.username)
        assert clerk.get("/residents/").status_code == 200
        assert "shared cache unreachable" in server.log("web")
        ready = httpx.get(server.base + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["broker"] == "down"

        page = browser.get(f"/residents/{holder.pk}/")
        assert page.status_code == 200
        assert "ヤマダ" in page.text
        found = browser.post("/residents/", {"kana": "ヤマダ"})
        assert found.status_code in (200, 302)

        asked = browser.post(f"/notices/batches/{batch_id}/render/")
        assert asked.status_code == 302, asked.text[:2000]
        shown = browser.get(asked.headers["location"])
        assert shown.status_code == 200
        assert "PDFとCSVの作成を依頼しました。" in shown.text
        assert _state(batch_id) == NoticeBatch.RenderState.PENDING
        assert "not queued, broker unreachable" in server.log("web")

        redis.start()  # on the same port, empty: the request's message was never sent
        wait_for(lambda: _state(batch_id) == NoticeBatch.RenderState.DONE, seconds=120,
                 what="the batch to be rendered after Redis returned")  # fmt: skip
        assert httpx.get(server.base + "/readyz", timeout=10).status_code == 200
    redis.stop()
    batch = NoticeBatch.objects.get(pk=batch_id)
    assert batch.rendered_count == batch.notice_count == 4


def _state(batch_id: Any) -> str:
    return str(NoticeBatch.objects.values_list("render_state", flat=True).get(pk=batch_id))
