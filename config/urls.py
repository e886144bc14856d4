from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from apps.accounts import views as account_views
from apps.core import views as core_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("residents/", include("apps.residents.urls")),
    path("audit/", include("apps.audit.urls")),
    path("applications/", include("apps.applications.urls")),
    path("fees/", include("apps.fees.urls")),
    path("api/applications/", include("apps.applications.api_urls")),
    path("api/fees/", include("apps.fees.api_urls")),
    path("notices/", include("apps.notices.urls")),
    path("counters/", include("apps.counters.urls")),
    path("api/v1/", include("apps.counters.api_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
