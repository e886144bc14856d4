from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from apps.core import views as core_views
from apps.home import views as home_views

urlpatterns = [
    path("", home_views.home, name="home"),
    path("home/", include("apps.home.urls")),
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

# Japanese pages in the site's layout (apps.core.errors); also with DEBUG on.
handler403 = "apps.core.errors.permission_denied"
handler404 = "apps.core.errors.page_not_found"
handler500 = "apps.core.errors.server_error"
