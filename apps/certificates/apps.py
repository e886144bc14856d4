from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "apps.certificates"
    default_auto_field = "django.db.models.BigAutoField"
