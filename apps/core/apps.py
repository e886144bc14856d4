from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from apps.core.errors import remember_uncaught_exception

        got_request_exception.connect(
            remember_uncaught_exception, dispatch_uid="core.remember_uncaught_exception"
        )
