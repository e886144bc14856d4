"""PIN lock release and reset at the counter (R-PIN-1, R-PIN-2, R-PIN-3): the holder or a
legal representative in one visit; an ordinary proxy in two, tied by the inquiry-and-answer
letter's code; the release refused before the answer. Only *that* a PIN was reset is kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from apps.accounts.models import Office, User
from apps.applications.card_services import (
    Applicant,
    LockReleaseInput,
    lock_release_answer_record,
    lock_release_complete,
    lock_release_receive,
    normalize_letter_code,
)
from apps.applications.models import CardProcedure
from apps.applications.rules import (
    ApplicantType,
    ApplicationKind,
    ApplicationState,
    IdentityDocument,
    lock_release_needs_letter,
)
from apps.cards.models import Card
from apps.certificates.models import PinState
from apps.certificates.rules import PinKind, convenience_store_resettable
from apps.certificates.services import pin_state_observe, pin_states_initialize
from apps.residents.models import Resident
from tests.actors import FIXTURES

HOLDER = Applicant(documents=frozenset({IdentityDocument.MY_NUMBER_CARD}))
PROXY = Applicant(
    applicant_type=ApplicantType.PROXY,
    applicant_name="佐藤 次郎",
    documents=frozenset({IdentityDocument.DRIVERS_LICENSE, IdentityDocument.PROXY_LETTER}),
)
PROXY_DOCS = frozenset({IdentityDocument.DRIVERS_LICENSE, IdentityDocument.PROXY_LETTER})


@pytest.fixture
def locked_card(
    make_resident: Callable[..., Resident], make_card: Callable[..., Card], office_a: Office
) -> Card:
    card = make_card(make_resident(office_a), issued_on=date(2024, 5, 15))
    pin_states_initialize(acting_user=FIXTURES, card=card)
    pin_state_observe(acting_user=FIXTURES, card=card, kind=PinKind.AUTH, tries_left=0)
    pin_state_observe(acting_user=FIXTURES, card=card, kind=PinKind.TEXT, tries_left=0)
    return card


def _tries(card: Card) -> dict[str, int]:
    return dict(PinState.objects.filter(card=card).values_list("kind", "tries_left"))


def test_r_pin_1_one_visit_for_the_holder_two_for_an_ordinary_proxy() -> None:
    assert not lock_release_needs_letter(ApplicantType.HOLDER)
    assert not lock_release_needs_letter(ApplicantType.LEGAL_REP)
    assert lock_release_needs_letter(ApplicantType.PROXY)


def test_r_pin_2_only_the_signing_pin_at_a_convenience_store() -> None:
    assert convenience_store_resettable(set(PinKind)) == [PinKind.SIGNING]
    assert convenience_store_resettable({PinKind.AUTH, PinKind.TEXT}) == []


def test_r_pin_1_the_holder_has_the_locks_released_at_once(
    locked_card: Card, clerk_a: User
) -> None:
    application = lock_release_receive(
        acting_user=clerk_a,
        card=locked_card,
        data=LockReleaseInput(
            applicant=HOLDER, pins=frozenset({PinKind.AUTH, PinKind.TEXT}), card_presented=True
        ),
    )
    assert application.kind == ApplicationKind.LOCK_RELEASE
    assert application.state == ApplicationState.DONE
    assert _tries(locked_card) == {"auth": 3, "text": 3, "signing": 5, "resident": 3}
    procedure = CardProcedure.objects.get(application=application)
    assert procedure.pins == ["auth", "text"]
    assert procedure.pins_reset_at is not None
    assert procedure.letter_code is None


def test_r_pin_1_without_the_card_or_identity_nothing_is_released(
    locked_card: Card, clerk_a: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        lock_release_receive(
            acting_user=clerk_a,
            card=locked_card,
            data=LockReleaseInput(applicant=Applicant(), pins=frozenset({PinKind.AUTH})),
        )
    text = " ".join(refused.value.messages)
    assert "カードの持参" in text and "本人確認書類" in text  # noqa: PT018
    assert _tries(locked_card)["auth"] == 0


def test_r_pin_1_an_ordinary_proxy_across_two_visits(locked_card: Card, clerk_a: User) -> None:
    application = lock_release_receive(
        acting_user=clerk_a,
        card=locked_card,
        data=LockReleaseInput(applicant=PROXY, pins=frozenset({PinKind.AUTH}), card_presented=True),
    )
    assert application.state == ApplicationState.RECEIVED
    procedure = CardProcedure.objects.get(application=application)
    assert procedure.letter_code is not None
    assert procedure.awaiting_answer
    # The first visit ends with the letter posted: the release is refused before the answer.
    with pytest.raises(ValidationError, match="回答が届くまで"):
        lock_release_complete(acting_user=clerk_a, application=application)
    assert _tries(locked_card)["auth"] == 0
    # The second visit: a wrong code does not tie the visits.
    with pytest.raises(ValidationError, match="一致しません"):
        lock_release_answer_record(
            acting_user=clerk_a,
            application=application,
            letter_code="XXXX-2222",
            documents=PROXY_DOCS,
        )
    typed = f"{procedure.letter_code[:4].lower()}-{procedure.letter_code[4:]}"
    lock_release_answer_record(
        acting_user=clerk_a, application=application, letter_code=typed, documents=PROXY_DOCS
    )
    done = lock_release_complete(acting_user=clerk_a, application=application)
    assert done.state == ApplicationState.DONE
    assert _tries(locked_card)["auth"] == 3
    assert _tries(locked_card)["text"] == 0  # not asked for


def test_r_pin_1_the_database_refuses_a_release_before_the_answer(
    locked_card: Card, clerk_a: User
) -> None:
    application = lock_release_receive(
        acting_user=clerk_a,
        card=locked_card,
        data=LockReleaseInput(applicant=PROXY, pins=frozenset({PinKind.AUTH}), card_presented=True),
    )
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        CardProcedure.objects.filter(pk=application.pk).update(pins_reset_at=timezone.now())


def test_letter_codes_are_forgiving_to_type() -> None:
    assert normalize_letter_code("ａｂｃｄ－２３４５") == "ABCD2345"
    assert normalize_letter_code(" abcd 2345 ") == "ABCD2345"


def test_r_pin_1_the_letter_pdf_and_no_pin_anywhere(
    locked_card: Card, clerk_a: User, clerk_b: User, client_for: Callable[[User | None], Client]
) -> None:
    application = lock_release_receive(
        acting_user=clerk_a,
        card=locked_card,
        data=LockReleaseInput(applicant=PROXY, pins=frozenset({PinKind.AUTH}), card_presented=True),
    )
    response = client_for(clerk_a).get(f"/applications/{application.pk}/letter/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client_for(clerk_b).get(f"/applications/{application.pk}/letter/").status_code == 404
    # R-PIN-3: no form of the procedure asks for a PIN.
    page = client_for(clerk_a).get(
        f"/applications/new/{locked_card.resident_id}/card/lock-release/"
    )
    assert page.status_code == 200
    assert b'type="password"' not in page.content
    assert (
        "コンビニエンスストアで再設定できるのは署名用電子証明書暗証番号のみ"
        in page.content.decode()
    )


def test_the_resident_page_offers_the_lock_release_and_the_lifting(
    locked_card: Card, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    """A locked PIN leads to the lock release (R-PIN-1); a suspended card to the lifting
    (R-SUS-2): no more "ロック中" without an action."""
    from apps.cards.rules import CardState
    from apps.cards.services import card_change_state

    client = client_for(clerk_a)
    page = client.get(f"/residents/{locked_card.resident_id}/").content.decode()
    assert 'data-action="lock-release"' in page
    assert 'data-action="lift"' not in page
    card_change_state(
        acting_user=FIXTURES, card=locked_card, to_state=CardState.SUSPENDED, on=date(2026, 1, 1)
    )
    page = client.get(f"/residents/{locked_card.resident_id}/").content.decode()
    assert 'data-action="lift"' in page
    assert 'data-action="lock-release"' not in page


def test_r_pin_1_a_proxys_release_waiting_for_the_answer_can_be_withdrawn(
    locked_card: Card, clerk_a: User, client_for: Callable[[User | None], Client]
) -> None:
    application = lock_release_receive(
        acting_user=clerk_a,
        card=locked_card,
        data=LockReleaseInput(applicant=PROXY, pins=frozenset({PinKind.AUTH}), card_presented=True),
    )
    client = client_for(clerk_a)
    assert "手続を取り下げる" in client.get(f"/applications/{application.pk}/").content.decode()
    response = client.post(f"/applications/{application.pk}/cancel/", {"reason": "本人が来庁"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == ApplicationState.CANCELLED
    with pytest.raises(ValidationError):
        lock_release_complete(acting_user=clerk_a, application=application)
    assert _tries(locked_card)["auth"] == 0
