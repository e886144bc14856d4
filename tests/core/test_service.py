"""apps.core.service: every write runs in one transaction and its history names the actor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pghistory
import pytest
from django.db import transaction

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.cards.services import card_order
from apps.core.service import SystemActor, actor_metadata, service
from apps.residents.models import Resident
from tests.actors import FIXTURES

pytestmark = pytest.mark.django_db


def _context_of(card: Card) -> dict[str, object]:
    event = card.events.order_by("-pgh_id").select_related("pgh_context").first()  # type: ignore[attr-defined]
    assert event is not None
    assert event.pgh_context is not None
    return dict(event.pgh_context.metadata)


def test_a_service_without_acting_user_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="acting_user"):

        @service
        def resident_nothing(*, resident: Resident) -> None:  # pragma: no cover - never runs
            return None


def test_only_a_system_actor_may_be_the_default() -> None:
    with pytest.raises(TypeError, match="SystemActor"):

        @service
        def card_nothing(*, acting_user: User | None = None) -> None:  # pragma: no cover
            return None


def test_a_call_without_an_actor_is_refused(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    resident = make_resident(office_a)
    with pytest.raises(TypeError, match="acting_user"):
        card_order(resident=resident, applied_on=date(2026, 1, 5))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="member of staff"):
        card_order(acting_user=None, resident=resident, applied_on=date(2026, 1, 5))  # type: ignore[arg-type]
    assert not Card.objects.exists()


def test_history_names_the_member_of_staff_and_the_service(
    make_resident: Callable[..., Resident], office_a: Office, clerk_a: User
) -> None:
    card = card_order(
        acting_user=clerk_a, resident=make_resident(office_a), applied_on=date(2026, 1, 5)
    )
    metadata = _context_of(card)
    assert metadata["user"] == str(clerk_a.pk)
    assert metadata["reason"] == "card_order"
    assert metadata["card_order"] is True


def test_history_names_a_job(make_resident: Callable[..., Resident], office_a: Office) -> None:
    job = SystemActor("notices.run_daily")
    card = card_order(
        acting_user=job, resident=make_resident(office_a), applied_on=date(2026, 1, 5)
    )
    metadata = _context_of(card)
    assert metadata["system"] == "notices.run_daily"
    assert "user" not in metadata


def test_nested_services_keep_the_outermost_reason_and_list_every_step(
    make_resident: Callable[..., Resident], office_a: Office, clerk_a: User
) -> None:
    @service
    def resident_two_cards(*, acting_user: User, resident: Resident) -> Card:
        card_order(acting_user=acting_user, resident=resident, applied_on=date(2026, 1, 5))
        return card_order(acting_user=acting_user, resident=resident, applied_on=date(2026, 1, 6))

    card = resident_two_cards(acting_user=clerk_a, resident=make_resident(office_a))
    metadata = _context_of(card)
    assert metadata["reason"] == "resident_two_cards"
    assert metadata["resident_two_cards"] is True
    assert metadata["card_order"] is True


def test_a_service_is_one_transaction(
    make_resident: Callable[..., Resident], office_a: Office
) -> None:
    resident = make_resident(office_a)

    @service
    def card_order_then_fail(*, acting_user: SystemActor, resident: Resident) -> None:
        card_order(acting_user=acting_user, resident=resident, applied_on=date(2026, 1, 5))
        raise RuntimeError("after the write")

    with pytest.raises(RuntimeError):
        card_order_then_fail(acting_user=FIXTURES, resident=resident)
    assert not Card.objects.filter(resident=resident).exists()


def test_inside_a_request_context_the_request_context_is_joined(
    make_resident: Callable[..., Resident], office_a: Office, clerk_a: User
) -> None:
    """The history middleware's context (url) gets the service's keys; one context per request."""
    with pghistory.context(url="/applications/x/pay/"), transaction.atomic():
        card = card_order(
            acting_user=clerk_a, resident=make_resident(office_a), applied_on=date(2026, 1, 5)
        )
    metadata = _context_of(card)
    assert metadata["url"] == "/applications/x/pay/"
    assert metadata["user"] == str(clerk_a.pk)


def test_actor_metadata_refuses_what_is_not_an_actor() -> None:
    with pytest.raises(TypeError):
        actor_metadata(None)
    with pytest.raises(TypeError):
        actor_metadata("clerk_a")
