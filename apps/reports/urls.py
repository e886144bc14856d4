from django.urls import path

from apps.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("activity/", views.activity, name="activity"),
    path("stock/", views.stock, name="stock"),
    path("money/", views.money, name="money"),
    path("wave/", views.wave, name="wave"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/import/", views.reconciliation_import, name="reconciliation_import"),
    path("security/", views.security, name="security"),
    path("<slug:report>/export/", views.export, name="export"),
]
