"""`{% card_read_panel %}`: the live card-read panel of the signed-in clerk's counter.

A tag rather than view context so that any clerk page (the resident search, the counter page)
can carry the panel without its view knowing about counters.
"""

from __future__ import annotations

from typing import Any

from django import template

from apps.counters.selectors import live_counter, panel_start_after

register = template.Library()


@register.inclusion_tag("counters/_panel.html", takes_context=True)
def card_read_panel(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    counter = live_counter(user) if user is not None else None
    if counter is None:
        return {"counter": None}
    return {"counter": counter, "after": panel_start_after(counter=counter)}
