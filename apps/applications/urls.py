from django.urls import path

from apps.applications import card_service_views, views, views_changes

app_name = "applications"
urlpatterns = [
    path("new/<uuid:resident_id>/<slug:kind_slug>/", views.new, name="new"),
    path("uncollected/", views.uncollected, name="uncollected"),
    path("arrivals/", views.arrivals, name="arrivals"),
    path("arrivals/<uuid:import_id>/", views.arrival, name="arrival"),
    path("payments/<uuid:payment_id>/void/", views.payment_void, name="payment_void"),
    path("<uuid:application_id>/", views.detail, name="detail"),
    path("<uuid:application_id>/pay/", views.pay, name="pay"),
    path("<uuid:application_id>/approve-waiver/", views.approve_waiver, name="approve_waiver"),
    path("<uuid:application_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:application_id>/handover/", views.handover, name="handover"),
    # Issue 10: card changes, continued use, express posting.
    path(
        "changes/<uuid:resident_id>/<slug:kind_slug>/",
        views_changes.change_new,
        name="change_new",
    ),
    path("continued-use/due/", views_changes.continued_use_due, name="continued_use_due"),
    path(
        "<uuid:application_id>/express/<slug:step>/",
        views_changes.express_step,
        name="express_step",
    ),
    # Procedures on a card in use (apps.applications.card_service_views).
    path(
        "new/<uuid:resident_id>/card/<slug:kind_slug>/",
        card_service_views.card_service_new,
        name="card_service_new",
    ),
    path(
        "<uuid:application_id>/letter/",
        card_service_views.lock_release_letter,
        name="lock_release_letter",
    ),
    path(
        "<uuid:application_id>/answer/",
        card_service_views.lock_release_answer,
        name="lock_release_answer",
    ),
    path(
        "<uuid:application_id>/release/",
        card_service_views.lock_release_done,
        name="lock_release_done",
    ),
]
