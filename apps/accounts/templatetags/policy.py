"""``{% load policy %}``: hide what the user could not do, with the same rules the views use.

    {% if user|may:"void_payments" %}<a href="…">取消</a>{% endif %}

Names are the keys of ``apps.accounts.policy.RULES``; an unknown name fails loudly. A rule
about one object (``may_approve_waiver(user, waiver)``) is asked by the view, which passes the
answer to the template.
"""

from __future__ import annotations

from django import template

from apps.accounts import policy

register = template.Library()


@register.filter
def may(user: object, name: str) -> bool:
    return policy.allows(name, user)
