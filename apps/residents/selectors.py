"""Every read of residents goes through `residents_for`, the one scoping selector.

Out-of-scope residents simply are not in the queryset, so views answer 404, never 403: a
clerk cannot even learn that a resident of another office exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.views.decorators.debug import sensitive_variables

from apps.accounts import policy
from apps.accounts.models import User
from apps.residents.crypto import my_number_index
from apps.residents.kana import normalize_kana
from apps.residents.models import Resident

# A screenful of results. A search that matches more says so and asks for the date of birth
# instead of paging through every 佐藤 of the office (clerks narrow by it anyway).
SEARCH_LIMIT = 20


def residents_for(user: User) -> QuerySet[Resident]:
    return policy.restrict(Resident.objects.all(), user)


def resident_get(*, user: User, resident_id: uuid.UUID) -> Resident:
    try:
        return residents_for(user).get(pk=resident_id)
    except Resident.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class ResidentSearch:
    """The first screenful of matches, and whether there are more than that."""

    residents: list[Resident]
    more: bool


def resident_search(*, user: User, kana: str, birth_date: date | None = None) -> ResidentSearch:
    """Kana prefix (family name, or family + given name) and optional date of birth.

    One index range, whatever the name: ``search_kana`` is in collation "C", so the prefix is
    a range of the office's kana index and the order is that index's order (Resident.Meta).
    Reads one row past the screenful to tell whether there are more; never counts them.
    """
    key = normalize_kana(kana)
    if not key and not birth_date:
        return ResidentSearch(residents=[], more=False)
    residents = residents_for(user)
    if key:
        residents = residents.filter(search_kana__startswith=key)
    if birth_date:
        residents = residents.filter(birth_date=birth_date)
    found = list(residents.order_by("search_kana", "birth_date")[: SEARCH_LIMIT + 1])
    return ResidentSearch(residents=found[:SEARCH_LIMIT], more=len(found) > SEARCH_LIMIT)


@sensitive_variables("my_number")
def resident_find_by_my_number(*, user: User, my_number: str) -> Resident | None:
    """Exact match through the blind index; `my_number` must already be normalised."""
    return residents_for(user).filter(my_number_index=my_number_index(my_number)).first()


def resident_detail(*, user: User, resident_id: uuid.UUID) -> Resident:
    """The resident page's resident. Its cards, certificates and card history are read by the
    apps above this one, through template tags on the page (apps.certificates, apps.cards)."""
    try:
        return (
            residents_for(user).select_related("office", "legal_representative").get(pk=resident_id)
        )
    except Resident.DoesNotExist:
        raise Http404 from None
