from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo city for `make run` (manage.py seed_demo): the top floor.

    It builds its data through every app's services, as the counter would; no app imports it.
    """

    name = "apps.demo"
    default_auto_field = "django.db.models.BigAutoField"
