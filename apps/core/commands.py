"""What the project's management commands share."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError


def date_argument(value: str) -> date:
    """``--date YYYY-MM-DD`` (argparse ``type=``): a clear Japanese error for anything else."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--date は YYYY-MM-DD の形式で指定してください（{value!r}）。"
        ) from None
