"""Fee tests need the schedule that the data migration loads. A transactional test (live
server, concurrency) truncates every table when it ends, so the schedule is put back before
each test that touches the database."""

from __future__ import annotations

import pytest

from apps.fees.models import FeeSchedule
from apps.fees.services import fee_schedule_seed_default


def _database_fixture(request: pytest.FixtureRequest) -> str | None:
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if (
        "transactional_db" in names
        or "live_server" in names
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        return "transactional_db"
    if "db" in names or marker is not None:
        return "db"
    return None


@pytest.fixture(autouse=True)
def default_fee_schedule(request: pytest.FixtureRequest) -> FeeSchedule | None:
    fixture = _database_fixture(request)
    if fixture is None:
        return None
    request.getfixturevalue(fixture)
    return fee_schedule_seed_default()
