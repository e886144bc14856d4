"""Probes for the load balancer and the orchestrator: no sign-in, no personal data."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

# A probe must answer within the orchestrator's timeout even when a service hangs.
PROBE_TIMEOUT_SECONDS = 2.0


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no service, so an outage of PostgreSQL or Redis
    does not make the orchestrator kill (and restart, and restart) healthy web processes."""
    return JsonResponse({"status": "ok"})


def _database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        # The broken connection must not be reused by the next request of this thread.
        connection.close()
        return False
    return True


def _broker_ready() -> bool:
    if not settings.REDIS_URL:
        return True  # development without Redis: tasks run in-process (CELERY_TASK_ALWAYS_EAGER)
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the broker answer. 503 takes the process out of the
    proxy's rotation (and holds back a rolling deploy) until both are back."""
    checks = {"database": _database_ready(), "broker": _broker_ready()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            **{name: "ok" if ok else "down" for name, ok in checks.items()},
        },
        status=200 if ready else 503,
    )
