"""Offices, their counters, and the staff who work there.

Why ``Counter`` lives here and not in ``apps.counters``: a counter is a place where staff work,
like the office it belongs to. A member of staff is assigned to one (``User.counter``), and the
money is counted per counter (fees' payments and daily closes), so the apps below the counter
floor need it. ``apps.counters`` sits near the top (it reads residents, cards and certificates
to match a card read) and holds what is *at* a counter: reader devices and their reads. Moving
the model there would make accounts and fees depend on that app, a cycle.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from apps.accounts.roles import Role


class Office(models.Model):
    """A place residents are served: the main city hall (本庁) or a branch (支所)."""

    class Kind(models.TextChoices):
        MAIN = "main", "本庁"
        BRANCH = "branch", "支所"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField("窓口コード", max_length=16, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("種別", max_length=10, choices=Kind.choices, default=Kind.MAIN)

    class Meta:
        verbose_name = "庁舎"
        verbose_name_plural = "庁舎"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Counter(models.Model):
    """One counter (窓口) of an office; reader devices and clerks' live panels attach here.

    Its home is this app, not apps.counters: see the module docstring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="counters")
    code = models.CharField("窓口番号", max_length=16)
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = "窓口"
        verbose_name_plural = "窓口"
        ordering = ["office__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["office", "code"], name="counter_code_unique_in_office")
        ]

    def __str__(self) -> str:
        return f"{self.office.name} {self.name}"


class StaffManager(UserManager["User"]):
    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra_fields: Any,
    ) -> User:
        """`manage.py createsuperuser` makes the city's first administrator: a superuser is a
        system administrator (Role.ADMIN), who needs no office. With the model's default
        role (a clerk, who must belong to an office) the command failed on the database's
        check constraint, and a new installation had no way to its first account."""
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A member of staff. There are no resident accounts and no self sign-up."""

    objects: ClassVar[StaffManager] = StaffManager()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField("役割", max_length=16, choices=Role.choices, default=Role.CLERK)
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属庁舎",
    )
    counter = models.ForeignKey(
        Counter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="担当窓口",
        help_text="この職員の画面に読み取り結果を表示する窓口",
    )
    # R-AUD-3: the city designates who may handle specific personal information (事務取扱担当者,
    # PPC guideline); only they may reveal a My Number. Granted by the administrator.
    designated_handler = models.BooleanField(
        "個人番号の事務取扱担当者",
        default=False,
        help_text="個人番号を表示できる職員(窓口職員・監督者のみ有効)",
    )

    class Meta:
        verbose_name = "職員"
        verbose_name_plural = "職員"
        constraints = [
            # Everyone who sees residents belongs to an office: scoping depends on it.
            models.CheckConstraint(
                condition=~models.Q(role__in=["clerk", "supervisor"])
                | models.Q(office__isnull=False),
                name="user_resident_roles_have_office",
            )
        ]
