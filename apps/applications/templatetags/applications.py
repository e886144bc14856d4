"""The "手続" area on the resident page: start a procedure, see the recent applications."""

from __future__ import annotations

from typing import Any

from django import template

from apps.applications.rules import (
    CARD_SERVICE_SLUGS,
    CHANGE_KIND_SLUGS,
    KIND_SLUGS,
    ApplicationKind,
)
from apps.applications.selectors import recent_applications_of

register = template.Library()


@register.inclusion_tag("applications/_procedures.html", takes_context=True)
def counter_procedures(context: template.Context, resident: Any) -> dict[str, Any]:
    request = context["request"]
    return {
        "resident": resident,
        "kinds": [(slug, kind.label) for slug, kind in KIND_SLUGS.items()],
        # Issue 10: the changes to the card in use (apps.applications.views_changes).
        "change_kinds": [(slug, kind.label) for slug, kind in CHANGE_KIND_SLUGS.items()],
        # Procedures on a card in use; the lifting's screen is the counter's (card read).
        "card_services": [
            (slug, kind.label, kind is ApplicationKind.SUSPENSION_LIFT)
            for slug, kind in CARD_SERVICE_SLUGS.items()
        ],
        "applications": recent_applications_of(user=request.user, resident_id=resident.pk),
    }
