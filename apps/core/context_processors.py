from django.conf import settings
from django.http import HttpRequest


def city(request: HttpRequest) -> dict[str, str]:
    return {"CITY_NAME": settings.CITY_NAME}
