from django.urls import path

from apps.residents import views

app_name = "residents"
urlpatterns = [
    path("", views.search, name="search"),
    path("<uuid:resident_id>/", views.detail, name="detail"),
    path("<uuid:resident_id>/my-number/", views.reveal, name="reveal"),
]
