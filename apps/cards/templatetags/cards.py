"""``{% card_history resident %}``: the card history on the resident page (from the cards app,
so that the residents app, below it, never reads cards)."""

from __future__ import annotations

from typing import Any

from django import template

from apps.cards.selectors import card_history as card_history_of
from apps.residents.models import Resident

register = template.Library()


@register.inclusion_tag("cards/_history.html")
def card_history(resident: Resident) -> dict[str, Any]:
    return {"history": card_history_of(resident=resident)}
