"""The call centre's feed, mounted at /api/v1/ (no trailing slash, as the agent's paths)."""

from django.urls import path

from apps.cards import api

app_name = "cards_api"
urlpatterns = [
    path("suspensions", api.SuspensionFeedView.as_view(), name="suspensions"),
]
