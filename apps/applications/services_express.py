"""Express issuance after the order (issue 10): J-LIS makes the card in about a week and
posts it by registered mail to the registered address; there is no counter handover. The city
records that it was posted and whether it was delivered or came back (R-EXP-3). Rule ids refer
to ``docs/rules.md``.

While in the post the card stays ORDERED (it is not in the city's stock: no pickup notice, not
on the uncollected list), with its issue date and expiry recorded. Delivered, it arrives and
is in use at once; returned undelivered, it arrives at the city and is handed over at the
counter through the ordinary handover (apps.applications.services.application_hand_over),
with the pickup notice that follows every arrival, or withdrawn.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.rules import ApplicationState
from apps.applications.services import _locked, _move, _require_staff_for, fee_settled
from apps.cards.models import Card
from apps.cards.rules import CardState
from apps.cards.services import card_arrive, card_hand_over, card_record_issued
from apps.certificates.services import card_end, pin_states_initialize
from apps.core.service import service


def _express(application: Application, *, acting_user: User) -> Application:
    application = _locked(application)
    _require_staff_for(acting_user, application.resident)
    if not application.express:
        raise ValidationError("特急発行の申請ではありません。")
    return application


@service
def application_express_posted(
    *, acting_user: User, application: Application, issued_on: date, posted_on: date
) -> Application:
    """J-LIS made the card on ``issued_on`` (R-VAL-1) and posted it on ``posted_on`` (R-EXP-3).

    The card records its issue date and expiry and stays ORDERED until the post office says
    what happened.
    """
    application = _express(application, acting_user=acting_user)
    _move(application, ApplicationState.POSTED)
    card = application.new_card
    if card is None or card.state != CardState.ORDERED:
        raise ValidationError("発注済のカードがありません。")
    if issued_on < application.received_on:
        raise ValidationError({"issued_on": "発行日が申請受付日より前になっています。"})
    if posted_on < issued_on:
        raise ValidationError({"posted_on": "発送日が発行日より前になっています。"})
    if posted_on > timezone.localdate():
        raise ValidationError({"posted_on": "発送日が今日より後になっています。"})
    card_record_issued(acting_user=acting_user, card=card, issued_on=issued_on)
    application.posted_on = posted_on
    application.save()
    return application


def _posted_card(application: Application) -> tuple[Card, date]:
    """The express card in the post, and the day J-LIS made it."""
    card = application.new_card
    if card is None or card.state != CardState.ORDERED or card.issued_on is None:
        raise ValidationError("発送済のカードがありません。")
    return card, card.issued_on


@service
def application_express_delivered(
    *, acting_user: User, application: Application, delivered_on: date
) -> Application:
    """The registered letter reached the holder (R-EXP-3): the new card is in use.

    The old card, if the holder still had one in use, is cancelled now that its replacement
    is in their hands (one current card per resident), its certificates with it (R-CRT-5); the
    holder returns it to the city later. The fee must be settled, as for a handover.
    """
    application = _express(application, acting_user=acting_user)
    _move(application, ApplicationState.DELIVERED)
    if not fee_settled(application):
        raise ValidationError("手数料の領収（または免除の承認）が済んでいません。")
    if application.posted_on is None or delivered_on < application.posted_on:
        raise ValidationError({"delivered_on": "配達日が発送日より前になっています。"})
    if delivered_on > timezone.localdate():
        raise ValidationError({"delivered_on": "配達日が今日より後になっています。"})
    card, issued_on = _posted_card(application)
    if application.old_card_id is not None:
        old = Card.objects.select_for_update().get(pk=application.old_card_id)
        if old.state in (CardState.ACTIVE, CardState.SUSPENDED, CardState.LOST):
            card_end(
                acting_user=acting_user,
                card=old,
                to_state=CardState.VOID,
                on=delivered_on,
                reason="特急発行のカードの配達により廃止",
            )
    # Delivered to the holder: the card "arrives" in their hands and is in use the same day.
    card = card_arrive(
        acting_user=acting_user, card=card, issued_on=issued_on, arrived_on=delivered_on
    )
    card_hand_over(acting_user=acting_user, card=card, on=delivered_on)
    pin_states_initialize(acting_user=acting_user, card=card)
    application.delivered_on = delivered_on
    application.save()
    return application


@service
def application_express_returned(
    *, acting_user: User, application: Application, returned_on: date
) -> Application:
    """The letter came back undelivered (R-EXP-3): the card waits at the city for the holder,
    who collects it at the counter (the ordinary handover checks)."""
    application = _express(application, acting_user=acting_user)
    _move(application, ApplicationState.RETURNED_UNDELIVERED)
    if application.posted_on is None or returned_on < application.posted_on:
        raise ValidationError({"returned_on": "返戻日が発送日より前になっています。"})
    if returned_on > timezone.localdate():
        raise ValidationError({"returned_on": "返戻日が今日より後になっています。"})
    card, issued_on = _posted_card(application)
    # Back at the city: in its stock from today, like any arrival (R-ISS-1).
    card_arrive(acting_user=acting_user, card=card, issued_on=issued_on, arrived_on=returned_on)
    application.returned_undelivered_on = returned_on
    application.save()
    return application
