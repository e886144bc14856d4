"""The handover interlock panel, for the handover screen of apps.applications (a lower app:
this higher one provides the tag, docs/architecture.md "Layout")."""

from __future__ import annotations

from typing import Any

from django import template

from apps.applications.models import Application
from apps.custody.selectors import custody_for, interlock_view

register = template.Library()


@register.inclusion_tag("custody/_card_place.html", takes_context=True)
def card_custody(context: dict[str, Any], application: Application) -> dict[str, Any]:
    """Where the application's new card is kept now (R-STK-1), on the application page."""
    request = context["request"]
    custody = (
        custody_for(request.user).filter(pk=application.new_card_id).first()
        if application.new_card_id
        else None
    )
    return {"custody": custody}


@register.inclusion_tag("custody/_interlock.html", takes_context=True)
def handover_interlock(context: dict[str, Any], application: Application) -> dict[str, Any]:
    request = context["request"]
    return {"view": interlock_view(user=request.user, application=application), "request": request}
