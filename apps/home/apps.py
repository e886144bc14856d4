from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Where each role lands after signing in (a floor above the counter apps it reads).

    The supervisor's home is a selector (``selectors.supervisor_waiting``) and a template:
    the reports app can take both over when it grows the supervisor's dashboard.
    """

    name = "apps.home"
    default_auto_field = "django.db.models.BigAutoField"
