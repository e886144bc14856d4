from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.wareki import format_both, format_wareki, format_western

register = template.Library()


def _as_date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


@register.filter
def jdate(value: date | datetime | None) -> SafeString | str:
    """Both forms: 2026年11月27日 / 令和8年11月27日, kept on one line (``span.date``: a date
    broken after 年 in a narrow table column reads as two dates)."""
    day = _as_date(value)
    return format_html('<span class="date">{}</span>', format_both(day)) if day else "—"


@register.filter
def wareki(value: date | datetime | None) -> str:
    day = _as_date(value)
    return format_wareki(day) if day else "—"


@register.filter
def seireki(value: date | datetime | None) -> str:
    day = _as_date(value)
    return format_western(day) if day else "—"
