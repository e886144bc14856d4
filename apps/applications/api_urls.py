from django.urls import path

from apps.applications import api, api_changes, card_service_api

app_name = "applications-api"
urlpatterns = [
    path("", api.ApplicationCreateView.as_view(), name="create"),
    path("arrivals/", api.ArrivalsImportView.as_view(), name="arrivals"),
    path("arrivals/<uuid:import_id>/", api.ArrivalImportView.as_view(), name="arrival"),
    path("uncollected/", api.UncollectedView.as_view(), name="uncollected"),
    path("payments/<uuid:payment_id>/void/", api.PaymentVoidView.as_view(), name="payment-void"),
    path("<uuid:application_id>/", api.ApplicationDetailView.as_view(), name="detail"),
    path("<uuid:application_id>/pay/", api.ApplicationPayView.as_view(), name="pay"),
    path(
        "<uuid:application_id>/approve-waiver/",
        api.ApplicationWaiverApproveView.as_view(),
        name="approve-waiver",
    ),
    path(
        "<uuid:application_id>/hand-over/", api.ApplicationHandOverView.as_view(), name="hand-over"
    ),
    path("<uuid:application_id>/cancel/", api.ApplicationCancelView.as_view(), name="cancel"),
    # Issue 10: card changes, continued use, express posting.
    path("changes/", api_changes.ChangeCreateView.as_view(), name="changes"),
    path(
        "continued-use/due/",
        api_changes.ContinuedUseDueView.as_view(),
        name="continued-use-due",
    ),
    path(
        "<uuid:application_id>/express/<slug:step>/",
        api_changes.ExpressStepView.as_view(),
        name="express-step",
    ),
    # Procedures on a card in use (apps.applications.card_service_api).
    path(
        "certificates/",
        card_service_api.CertificateProcedureView.as_view(),
        name="certificate-procedure",
    ),
    path("lock-releases/", card_service_api.LockReleaseView.as_view(), name="lock-release"),
    path(
        "<uuid:application_id>/lock-release/answer/",
        card_service_api.LockReleaseAnswerView.as_view(),
        name="lock-release-answer",
    ),
    path(
        "<uuid:application_id>/lock-release/complete/",
        card_service_api.LockReleaseCompleteView.as_view(),
        name="lock-release-complete",
    ),
    path("card-returns/", card_service_api.CardReturnView.as_view(), name="card-return"),
]
