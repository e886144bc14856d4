from django.urls import path

from apps.fees import views

app_name = "fees"
urlpatterns = [
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/new/", views.schedule_new, name="schedule_new"),
    path("quote/", views.quote, name="quote"),
    path("payments/", views.payments, name="payments"),
    path("payments/<uuid:payment_id>/receipt.pdf", views.receipt, name="receipt"),
    path("close/", views.close, name="close"),
    path("close/<uuid:close_id>/reopen/", views.reopen, name="reopen"),
]
