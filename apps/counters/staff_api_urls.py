"""Staff endpoints of the counters app, mounted at /api/counters/ (staff sessions)."""

from django.urls import path

from apps.counters import lift_api

app_name = "counters-staff-api"
urlpatterns = [
    path("suspension-lifts/", lift_api.SuspensionLiftView.as_view(), name="suspension-lift"),
]
