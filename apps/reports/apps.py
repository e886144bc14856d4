from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The supervisor's home and reports (read only; the auditor reads them too), and the
    reconciliation of J-LIS's posted expiry notices (R-NOT-4). The top floor but for the demo:
    it reads every app below it (docs/architecture.md)."""

    name = "apps.reports"
    default_auto_field = "django.db.models.BigAutoField"
