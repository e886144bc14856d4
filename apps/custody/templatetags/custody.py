"""The handover interlock panel, for the handover screen of apps.applications (a lower app:
this higher one provides the tag, docs/architecture.md "Layout")."""

from __future__ import annotations

from typing import Any

from django import template

from apps.applications.models import Application
from apps.custody.selectors import interlock_view

register = template.Library()


@register.inclusion_tag("custody/_interlock.html", takes_context=True)
def handover_interlock(context: dict[str, Any], application: Application) -> dict[str, Any]:
    request = context["request"]
    return {"view": interlock_view(user=request.user, application=application), "request": request}
