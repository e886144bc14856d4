from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import Counter, Office, User
from apps.accounts.services import staff_deactivate


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin[Office]):
    list_display = ["code", "name", "kind"]


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin[Counter]):
    list_display = ["office", "code", "name"]
    list_filter = ["office"]


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ["username", "last_name", "first_name", "role", "office", "is_active"]
    list_filter = ["role", "office", "is_active"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        ("窓口", {"fields": ("role", "office", "counter")}),
    )
    actions = ["deactivate"]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            staff_deactivate(acting_user=request.user, user=obj)  # type: ignore[arg-type]

    @admin.action(description="選択した職員を無効にする(ログイン中のセッションも終了)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            staff_deactivate(acting_user=request.user, user=user)  # type: ignore[arg-type]
