from django.urls import path

from apps.counters import lift_views, views

app_name = "counters"
urlpatterns = [
    path("live/", views.live, name="live"),
    path("live/stream/", views.live_stream, name="live_stream"),
    path("devices/", views.devices, name="devices"),
    path("devices/<uuid:device_id>/approve/", views.device_approve_view, name="device_approve"),
    path("devices/<uuid:device_id>/revoke/", views.device_revoke_view, name="device_revoke"),
    path("lift/<uuid:resident_id>/", lift_views.suspension_lift, name="suspension_lift"),
]
