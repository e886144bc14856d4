"""Read-only views for the Django admin: approving and revoking go through the fleet page's
services (who approved, when), never through a model form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.counters.models import CardRead, Device


class _ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Device)
class DeviceAdmin(_ReadOnly):
    list_display = (
        "name",
        "state",
        "counter",
        "agent_version",
        "reader_status",
        "last_heartbeat_at",
    )
    list_filter = ("state",)
    search_fields = ("name", "fingerprint")
    exclude = ("public_key",)


@admin.register(CardRead)
class CardReadAdmin(_ReadOnly):
    list_display = ("read_at", "counter", "device", "kind", "match", "received_at")
    list_filter = ("kind", "match")
    # The resident column would be a look at personal data without an access-log row.
    exclude = ("resident", "card", "pins", "text_mismatches")
