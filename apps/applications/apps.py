from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "apps.applications"
    default_auto_field = "django.db.models.BigAutoField"
