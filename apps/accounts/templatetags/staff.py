"""``{% load staff %}{{ user|staff_name }}``: a member of staff as the counter knows them.

Screens show the name (山田 太郎), never the sign-in name: a clerk reads who did something,
not an account. An account without a name falls back to its sign-in name.
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def staff_name(user: object) -> str:
    if user is None:
        return "—"
    name = f"{getattr(user, 'last_name', '')} {getattr(user, 'first_name', '')}".strip()
    return name or str(getattr(user, "username", "")) or "—"
