from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Where each role lands after signing in (a floor above the counter apps it reads).

    The supervisor's home is the reports' home (apps.reports: ``reports:home``); this app
    sends supervisors there.
    """

    name = "apps.home"
    default_auto_field = "django.db.models.BigAutoField"
