from django.urls import path

from apps.home import views

app_name = "home"
urlpatterns = [
    path("supervisor/", views.supervisor, name="supervisor"),
    path("admin/", views.admin, name="admin"),
]
