from django.urls import path

from apps.cards import views

app_name = "cards"
urlpatterns = [
    path("suspensions/imports/", views.suspension_imports, name="suspension_imports"),
    path(
        "suspensions/imports/<uuid:import_id>/", views.suspension_import, name="suspension_import"
    ),
]
