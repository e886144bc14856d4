from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from apps.accounts.models import Counter, Office, User


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
