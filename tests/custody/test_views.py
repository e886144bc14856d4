"""The custody screens as a clerk, a supervisor and the auditor use them (R-HND, R-STK)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationState
from apps.audit.models import AccessLog, Action
from apps.custody.models import CardCustody, DailyCount, Destruction, Lot
from tests.custody.conftest import ARRIVED_ON
from tests.custody.helpers import new_serial, place_of, read_card, receive, set_up

pytestmark = pytest.mark.django_db
ClientFor = Callable[[User | None], Client]


def test_r_stk_1_the_application_page_shows_where_the_card_is(
    clerk_a: User, arrived: Application, client_for: ClientFor
) -> None:
    receive(clerk_a, arrived)
    page = client_for(clerk_a).get(reverse("applications:detail", args=[arrived.pk]))
    body = page.content.decode()
    assert 'id="card-custody"' in body
    assert "保管中：金庫" in body
    assert "交付前設定未" in body


def test_r_hnd_1_setup_screen_binds_and_refuses_a_chip_bound_elsewhere(
    clerk_a: User, make_arrived: Any, client_for: ClientFor
) -> None:
    first = make_arrived(family_name="一番", family_name_kana="アイ")
    second = make_arrived(family_name="二番", family_name_kana="イイ")
    receive(clerk_a, first)
    lot = Lot.objects.get()
    client = client_for(clerk_a)
    url = reverse("custody:setup", args=[lot.pk])
    page = client.get(url).content.decode()
    assert 'id="setup-name"' in page
    assert first.resident.full_name in page
    assert clerk_a.counter is not None
    serial = new_serial()
    read = read_card(clerk_a.counter, serial)
    page = client.get(url).content.decode()
    assert 'id="setup-bind"' in page
    done = client.post(url, {"card": str(first.new_card_id), "read": str(read.pk)}, follow=True)
    assert f"{first.resident.full_name}さんのカードを登録しました" in done.content.decode()
    assert CardCustody.objects.get(pk=first.new_card_id).auth_serial == serial
    # The same chip still on the reader: the next card's screen refuses it, in red, by name.
    page = client.get(url).content.decode()
    assert second.resident.full_name in page
    assert 'id="setup-refused"' in page
    assert f"既に {first.resident.full_name} さんのカード" in page
    refused = client.post(url, {"card": str(second.new_card_id), "read": str(read.pk)}, follow=True)
    assert "既に" in refused.content.decode()
    assert not CardCustody.objects.get(pk=second.new_card_id).is_set_up


def test_r_hnd_2_the_check_endpoint_answers_red_with_both_names(
    clerk_a: User, make_arrived: Any, client_for: ClientFor
) -> None:
    mine = make_arrived(family_name="正", given_name="一", family_name_kana="タダシ")
    other = make_arrived(family_name="誤", given_name="二", family_name_kana="アヤマリ")
    set_up(clerk_a, mine)
    theirs = set_up(clerk_a, other)
    assert clerk_a.counter is not None
    read_card(clerk_a.counter, theirs.auth_serial)
    client = client_for(clerk_a)
    answer = client.post(reverse("custody:handover-check", args=[mine.pk]))
    body = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-verdict="mismatch"' in body
    assert mine.resident.full_name in body
    assert other.resident.full_name in body
    assert AccessLog.objects.filter(action=Action.HANDOVER_BLOCKED).count() == 2
    handover = client.get(reverse("applications:handover", args=[mine.pk])).content.decode()
    assert 'data-verdict="mismatch"' in handover


def test_r_stk_1_the_auditor_reads_a_cards_custody_and_it_is_logged(
    clerk_a: User, auditor: User, arrived: Application, client_for: ClientFor
) -> None:
    receive(clerk_a, arrived)
    page = client_for(auditor).get(reverse("custody:card", args=[arrived.new_card_id]))
    assert page.status_code == 200
    assert "到着・受入" in page.content.decode()
    row = AccessLog.objects.filter(action=Action.VIEW_CUSTODY).get()
    assert row.actor == auditor
    assert row.resident_id == arrived.resident_id


def test_r_stk_2_count_then_resolve_on_the_screens(
    clerk_a: User, supervisor_a: User, arrived: Application, client_for: ClientFor
) -> None:
    receive(clerk_a, arrived)
    place = place_of(clerk_a)
    recorded = client_for(clerk_a).post(
        reverse("custody:counts"), {"place": str(place.pk), "counted": "0"}, follow=True
    )
    assert "差異は監督者が解決するまで残ります" in recorded.content.decode()
    count = DailyCount.objects.get()
    assert count.is_open
    page = client_for(clerk_a).get(reverse("custody:counts")).content.decode()
    assert "監督者の解決待ち" in page
    resolved = client_for(supervisor_a).post(
        reverse("custody:count-resolve", args=[count.pk]), {"note": "交付トレイにあった"}
    )
    assert resolved.status_code == 302
    count.refresh_from_db()
    assert not count.is_open


def test_r_stk_3_destruction_on_the_screens_by_two_staff(
    clerk_a: User, supervisor_a: User, arrived: Application, client_for: ClientFor, settings: Any
) -> None:
    receive(clerk_a, arrived)
    # The card has waited past the retention period by today's date.
    settings.CUSTODY_RETENTION_MONTHS = 1
    assert timezone.localdate() > ARRIVED_ON + timedelta(days=31)
    stock = client_for(clerk_a).get(reverse("custody:index")).content.decode()
    assert "past-retention" in stock
    client_for(clerk_a).post(reverse("custody:destroy-request", args=[arrived.new_card_id]))
    assert Destruction.objects.filter(approved_at__isnull=True).count() == 1
    page = client_for(supervisor_a).get(reverse("custody:index")).content.decode()
    assert "廃棄を承認" in page
    client_for(supervisor_a).post(reverse("custody:destroy-approve", args=[arrived.new_card_id]))
    assert Application.objects.get(pk=arrived.pk).state == ApplicationState.NOT_COLLECTED
