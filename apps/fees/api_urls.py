from django.urls import path

from apps.fees import api

app_name = "fees-api"
urlpatterns = [
    path("quote/", api.FeeQuoteView.as_view(), name="quote"),
    path("schedules/", api.FeeScheduleView.as_view(), name="schedules"),
    path("payments/<uuid:payment_id>/", api.PaymentDetailView.as_view(), name="payment"),
    path("daily-closes/", api.DailyCloseView.as_view(), name="daily-closes"),
    path(
        "daily-closes/<uuid:close_id>/reopen/",
        api.DailyCloseReopenView.as_view(),
        name="daily-close-reopen",
    ),
]
