"""``{% load audit %}{{ row|access_detail }}``: an access-log row's detail as a sentence."""

from __future__ import annotations

from typing import Any

from django import template

from apps.audit.rules import describe_access

register = template.Library()


@register.filter
def access_detail(row: Any) -> str:
    return describe_access(row.action, row.detail) or "—"
