"""Reads of the certificates app."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.cards.models import Card
from apps.certificates.models import Certificate, PinState
from apps.residents.models import Resident


def cards_with_certificates(*, resident: Resident) -> QuerySet[Card]:
    """The resident page's cards: newest first, each with its certificates and PIN states.

    Here rather than in apps.residents: the resident app sits below cards and certificates and
    must not read them. The caller has already scoped the resident (residents_for).
    """
    return (
        Card.objects.filter(resident=resident)
        .select_related("resident")  # Card.name_shown (R-CHG-3)
        .order_by("-applied_on", "-created_at")
        .prefetch_related(
            Prefetch("certificates", queryset=Certificate.objects.order_by("kind", "-issued_on")),
            Prefetch("pin_states", queryset=PinState.objects.order_by("kind")),
            # Issue 10: the endorsement field as written (R-CHG-1…4).
            "endorsements",
        )
    )
