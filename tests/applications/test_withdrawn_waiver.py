"""A withdrawn application no longer says "監督者の承認待ちです": nothing waits for a
supervisor once it is closed (R-REI-3 waivers are asked only of open applications)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Office, User
from apps.applications.rules import ApplicationKind
from apps.applications.services import application_cancel
from apps.fees.rules import ReissueReason
from tests.applications.helpers import receive


@pytest.mark.django_db
def test_a_withdrawn_application_waits_for_no_approval(
    clerk_a: User,
    supervisor_a: User,
    office_a: Office,
    make_resident: Callable[..., Any],
    make_card: Callable[..., Any],
    client_for: Callable[[User | None], Client],
) -> None:
    holder = make_resident(office_a)
    make_card(holder)
    application = receive(
        clerk_a,
        holder,
        ApplicationKind.REISSUE,
        reissue_reason=ReissueReason.NOT_HOLDER_FAULT,
        waiver_reason="ICチップ不良",
    )
    url = reverse("applications:detail", args=[application.pk])
    assert "監督者の承認待ちです" in client_for(clerk_a).get(url).content.decode()
    application_cancel(acting_user=clerk_a, application=application, reason="本人の申出")

    for user in (clerk_a, supervisor_a):
        page = client_for(user).get(url).content.decode()
        assert "監督者の承認待ちです" not in page
        assert "免除を承認する" not in page
        assert "免除は承認されないまま、申請は取下げとなりました。" in page
    api = client_for(clerk_a).get(reverse("applications-api:detail", args=[application.pk]))
    assert api.json()["waiver_pending"] is False
    home = client_for(supervisor_a).get(reverse("reports:home")).content.decode()
    assert "ICチップ不良" not in home  # not among what waits for the supervisor
