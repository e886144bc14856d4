"""The reader agent's endpoints, mounted at /api/v1/ (no trailing slashes: the agent's paths)."""

from django.urls import path

from apps.counters import api

app_name = "counters_api"
urlpatterns = [
    path("devices/enroll", api.EnrollView.as_view(), name="enroll"),
    path("reads", api.ReadsView.as_view(), name="reads"),
    path("heartbeats", api.HeartbeatsView.as_view(), name="heartbeats"),
]
