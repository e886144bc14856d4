from django.apps import AppConfig


class CustodyConfig(AppConfig):
    """Card custody (R-STK) and the handover interlock (R-HND).

    Sits above apps.counters (it reads the counter's card reads) and apps.applications (it
    closes uncollected applications). The handover checklist lives below, in
    apps.applications; this app registers its gate there, so that every handover, by the
    screen or the API, passes R-HND-1…5.
    """

    name = "apps.custody"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "カードの保管と交付の照合"

    def ready(self) -> None:
        from apps.applications.services import handover_gate_register
        from apps.custody.services import handover_gate

        handover_gate_register(handover_gate)
