from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    """1000 → "1,000円" (receipts and screens)."""
    if value is None:
        return "—"
    return f"{int(value):,}円"
