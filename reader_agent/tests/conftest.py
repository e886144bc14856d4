"""Shared fixtures. PC/SC tests (marker `pcsc`) need pcscd with vsmartcard-vpcd: they skip with
the reason when it is not reachable, except under CI=true, where they fail instead."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_helpers import FakeServer, wait_present

from madoguchi_agent.errors import PcscError
from madoguchi_agent.simulator import DEFAULT_VPCD_PORT, CardModel, SimulatedCard, build_card

VPCD_PORT = int(os.environ.get("MADOGUCHI_TEST_VPCD_PORT", str(DEFAULT_VPCD_PORT)))
# vpcd names its readers by port: 35963 -> "Virtual PCD 00 00", 35964 -> "Virtual PCD 00 01".
VPCD_READER = f"Virtual PCD 00 {VPCD_PORT - DEFAULT_VPCD_PORT:02d}"


def _pcsc_unavailable_reason() -> str | None:
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        return f"pyscard is not installed ({exc})"
    from madoguchi_agent.pcsc import PcscContext

    try:
        with PcscContext() as ctx:
            readers = ctx.list_readers()
    except PcscError as exc:
        return f"pcscd is not reachable ({exc.detail}); start it with `pcscd --foreground &`"
    if VPCD_READER not in readers:
        return (
            f"reader {VPCD_READER!r} not found (readers: {readers or 'none'});"
            " install vsmartcard-vpcd and restart pcscd"
        )
    return None


@pytest.fixture(scope="session")
def pcsc_reader() -> str:
    """Name of the vpcd reader, or skip (fail under CI=true) when PC/SC is not usable."""
    reason = _pcsc_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PC/SC required under CI=true: {reason}")
        pytest.skip(reason)
    return VPCD_READER


@pytest.fixture(scope="session")
def vpcd_card(pcsc_reader: str) -> Iterator[SimulatedCard]:
    """One simulated card connection for the whole session; tests swap personas on it."""
    card = SimulatedCard(build_card("ordinary"), port=VPCD_PORT, inserted=False).start()
    yield card
    card.stop()


@pytest.fixture
def pcsc_ctx(pcsc_reader: str) -> Iterator[Any]:
    from madoguchi_agent.pcsc import PcscContext

    with PcscContext() as ctx:
        yield ctx


@pytest.fixture
def insert_card(
    vpcd_card: SimulatedCard, pcsc_ctx: Any, pcsc_reader: str
) -> Callable[..., CardModel]:
    """insert_card(persona, **overrides) -> the CardModel now in the vpcd reader."""

    def insert(persona: str = "ordinary", **overrides: object) -> CardModel:
        vpcd_card.remove()
        wait_present(pcsc_ctx, pcsc_reader, False)
        model = build_card(persona, **overrides)
        vpcd_card.insert(model)
        wait_present(pcsc_ctx, pcsc_reader, True)
        return model

    return insert


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "agent-home"
