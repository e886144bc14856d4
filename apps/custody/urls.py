from django.urls import path

from apps.custody import views

app_name = "custody"
urlpatterns = [
    path("", views.index, name="index"),
    path("places/", views.places, name="places"),
    path("lots/receive/", views.lot_receive_view, name="lot-receive"),
    path("lots/<uuid:lot_id>/setup/", views.setup, name="setup"),
    path("cards/<uuid:card_id>/", views.card, name="card"),
    path("cards/<uuid:card_id>/move/", views.move, name="move"),
    path("cards/<uuid:card_id>/destroy/", views.destroy_request, name="destroy-request"),
    path("cards/<uuid:card_id>/destroy/approve/", views.destroy_approve, name="destroy-approve"),
    path("counts/", views.counts, name="counts"),
    path("counts/<uuid:count_id>/resolve/", views.count_resolve, name="count-resolve"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("handover/<uuid:application_id>/check/", views.handover_check, name="handover-check"),
    path(
        "handover/<uuid:application_id>/second-check/",
        views.second_check_request_view,
        name="second-check-request",
    ),
    path("second-checks/", views.second_checks, name="second-checks"),
    path(
        "second-checks/<uuid:check_id>/confirm/",
        views.second_check_confirm_view,
        name="second-check-confirm",
    ),
]
