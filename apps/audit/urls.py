from django.urls import path

from apps.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.log, name="log"),
    path("export.csv", views.export, name="export"),
    path("by-resident-code/", views.by_resident_code, name="by_resident_code"),
    path("alerts/<int:alert_id>/ack/", views.alert_ack, name="alert_ack"),
]
