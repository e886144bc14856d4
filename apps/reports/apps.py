from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Supervisor dashboards and exports (read only). Empty for now: it is not in
    INSTALLED_APPS until the reports issue fills it (config/settings.py)."""

    name = "apps.reports"
    default_auto_field = "django.db.models.BigAutoField"
