from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from apps.accounts import views as account_views
from apps.core import views as core_views
from apps.home import views as home_views

# The admin signs in through the same form, limits and second factor as everyone else.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

# Staff only: no sign-up, no e-mail management and no self-service password reset (an
# administrator resets passwords). Not `include("allauth.urls")`, which brings all of those.
account_urls = [
    path("login/", allauth_views.login, name="account_login"),
    path("logout/", allauth_views.logout, name="account_logout"),
    path("inactive/", allauth_views.account_inactive, name="account_inactive"),
    path("reauthenticate/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path("password/change/", allauth_views.password_change, name="account_change_password"),
    path("keepalive/", account_views.keepalive, name="session_keepalive"),
    path("session/", account_views.status, name="session_status"),
    path("2fa/", include("allauth.mfa.urls")),
    path("sessions/", include("allauth.usersessions.urls")),
]

urlpatterns = [
    path("", home_views.home, name="home"),
    path("home/", include("apps.home.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("accounts/", include(account_urls)),
    path("residents/", include("apps.residents.urls")),
    path("audit/", include("apps.audit.urls")),
    path("applications/", include("apps.applications.urls")),
    path("fees/", include("apps.fees.urls")),
    path("api/applications/", include("apps.applications.api_urls")),
    path("api/fees/", include("apps.fees.api_urls")),
    path("notices/", include("apps.notices.urls")),
    path("counters/", include("apps.counters.urls")),
    path("reports/", include("apps.reports.urls")),
    path("custody/", include("apps.custody.urls")),
    path("api/v1/", include("apps.counters.api_urls")),
    path("api/v1/", include("apps.cards.api_urls")),  # the call centre's suspension feed
    path("cards/", include("apps.cards.urls")),
    path("api/counters/", include("apps.counters.staff_api_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]

# Japanese pages in the site's layout (apps.core.errors); also with DEBUG on.
handler403 = "apps.core.errors.permission_denied"
handler404 = "apps.core.errors.page_not_found"
handler500 = "apps.core.errors.server_error"
