from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    """1000 → "1,000円" (receipts and screens)."""
    if value is None:
        return "—"
    return f"{int(value):,}円"


@register.filter
def rule_id(rule: str) -> str:
    """ "R-REI table / R-REI-2: renewal with …" → "R-REI table / R-REI-2" (the citation only:
    the clerk reads the Japanese row label next to it)."""
    return rule.split(":", 1)[0].strip()
