"""/healthz (the process answers) and /readyz (the database and the broker answer)."""

from __future__ import annotations

import socket
from typing import Any

from django.test import Client, override_settings
from django.urls import reverse


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_readyz_answers_ok_when_database_and_broker_answer(client: Client, db: Any) -> None:
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_broker_is_down_and_healthz_still_ok(
    client: Client, db: Any
) -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
        response = client.get(reverse("readyz"))
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}
        assert client.get(reverse("healthz")).status_code == 200
