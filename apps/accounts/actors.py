"""Who did it, as a screen says it: the member of staff by name, a job by what it is.

History rows carry their actor in the pghistory context (apps.core.service): ``user`` (the
pk) for a member of staff, ``system`` (the job's name) for a job. This turns either into what a
clerk reads, and looks the staff up in one query for a whole list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apps.accounts.models import User

# The jobs' names (SystemActor) as the screens say them; a prefix names a family of jobs.
SYSTEM_ACTOR_LABELS = {
    "manage.py seed_demo": "デモデータの読込",
    "test fixtures": "テストデータ",
    "cards.expire_due": "有効期限の日次処理",
    "certificates.expire_due": "有効期限の日次処理",
    "manage.py expire_due": "有効期限の処理",
    "notices.": "通知書の処理",
    "manage.py notices_run": "通知書の処理",
    "counters.": "読取端末",
    "fees.seed_default_schedule": "初期データ",
}


def system_actor_label(name: str) -> str:
    if name in SYSTEM_ACTOR_LABELS:
        return SYSTEM_ACTOR_LABELS[name]
    for prefix, label in SYSTEM_ACTOR_LABELS.items():
        if prefix.endswith(".") and name.startswith(prefix):
            return label
    return "システム"


def staff_display_name(user: User) -> str:
    return f"{user.last_name} {user.first_name}".strip() or user.username


def actor_labels(contexts: Iterable[Mapping[str, Any] | None]) -> list[str]:
    """One label per history context, in order ("—" when a row names nobody)."""
    contexts = list(contexts)
    user_ids = {str(meta["user"]) for meta in contexts if meta and meta.get("user")}
    users = {str(user.pk): user for user in User.objects.filter(pk__in=user_ids)}
    labels = []
    for meta in contexts:
        if meta and meta.get("user"):
            user = users.get(str(meta["user"]))
            labels.append(staff_display_name(user) if user else "（削除された職員）")
        elif meta and meta.get("system"):
            labels.append(system_actor_label(str(meta["system"])))
        else:
            labels.append("—")
    return labels
