"""``{% resident_cards resident today %}``: the cards, certificates and PIN states on the
resident page (from the certificates app, the one that knows all three)."""

from __future__ import annotations

from typing import Any

from django import template

from apps.certificates.selectors import cards_with_certificates
from apps.residents.models import Resident

register = template.Library()


@register.inclusion_tag("certificates/_resident_cards.html")
def resident_cards(resident: Resident) -> dict[str, Any]:
    cards = list(cards_with_certificates(resident=resident))
    # The cards with a locked PIN offer the lock release (R-PIN-1); prefetched, no query more.
    locked = [card for card in cards if any(pin.locked for pin in card.pin_states.all())]
    return {"cards": cards, "locked_cards": locked}
