"""pcscd restarted during a card read: the reader agent keeps running and the next read
reaches the server.

The real chain (tests/agent/harness.py): the simulated card on vsmartcard-vpcd, pcscd, the
agent's own `madoguchi-agent run`, the server. The card is inserted and pcscd is killed at
once (SIGTERM, as a package upgrade or a crash does), then started again. The agent meets
SCARD_E_NO_SERVICE (or a vanished handle) mid-read; its watch loop reports the reader as down
and establishes a new PC/SC context when pcscd is back (reader_agent/madoguchi_agent/agent.py:
run). Without that the agent exits and no later read arrives.

Restarts the machine's pcscd: run it under the PC/SC lock like every PC/SC test
(`flock /tmp/mg-pcsc.lock …`); it leaves a pcscd running as it found one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Office, User
from apps.cards.models import Card
from apps.certificates.rules import CertificateKind
from apps.certificates.services import certificate_issue, pin_states_initialize
from apps.counters.models import CardRead, Device
from apps.counters.services import device_approve
from apps.residents.models import Resident
from tests.actors import FIXTURES
from tests.agent.harness import (
    VPCD_PORT,
    Simulator,
    agent_enroll,
    agent_installed,
    agent_run,
    pcscd_with_vpcd,
    running,
    vpcd_reader_name,
)
from tests.faults.server import wait_for
from tests.services import require

pytestmark = [pytest.mark.pcsc]

SERIAL = "fa0017"


def _pcscd() -> tuple[int, list[str]]:
    found = subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True, text=True, check=False)
    pids = [int(p) for p in found.stdout.split()]
    assert len(pids) == 1, f"one pcscd expected, found {pids}"
    cmdline = Path(f"/proc/{pids[0]}/cmdline").read_bytes().split(b"\0")
    return pids[0], [part.decode() for part in cmdline if part]


def _restart_pcscd() -> None:
    """Stop the running pcscd and start it again the way it was started, detached (it
    outlives this test, as the machine's pcscd)."""
    pid, command = _pcscd()
    if "--foreground" not in command and "-f" not in command:
        command.append("--foreground")
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), seconds=20, what="pcscd to exit")
    Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
    with open("/tmp/pcscd.log", "ab") as log:  # noqa: S108 - where .ci/run logs pcscd
        subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    wait_for(pcscd_with_vpcd, seconds=30, what="pcscd (with vpcd) to be back")


@pytest.mark.django_db(transaction=True)
def test_pcscd_restarted_during_a_read_the_agent_runs_on_and_the_next_read_arrives(
    live_server: LiveServer,
    tmp_path: Path,
    clerk_a: User,
    admin_user: User,
    make_resident: Callable[..., Resident],
    make_card: Callable[..., Card],
    office_a: Office,
) -> None:
    require(pcscd_with_vpcd(), f"pcscd with vsmartcard-vpcd (port {VPCD_PORT})")
    require(agent_installed(), "the reader agent's venv (make agent-install) with pyscard")
    resident = make_resident(office_a, family_name="窓口", given_name="花子")
    card = make_card(resident, applied_on=date(2024, 4, 20), issued_on=date(2024, 5, 15))
    certificate_issue(
        acting_user=FIXTURES, card=card, kind=CertificateKind.AUTH, serial=SERIAL,
        issued_on=date(2024, 5, 15),
    )  # fmt: skip
    pin_states_initialize(acting_user=FIXTURES, card=card)
    home = tmp_path / "agent"
    fingerprint = agent_enroll(server=live_server.url, name="fault 1番窓口PC", home=home)
    assert clerk_a.counter is not None
    device_approve(
        acting_user=admin_user, device=Device.objects.get(fingerprint=fingerprint),
        counter=clerk_a.counter,
    )  # fmt: skip

    simulator = Simulator(home=home, auth_serial=SERIAL, persona="ordinary")
    agent = agent_run(home=home, reader=vpcd_reader_name(), heartbeat=1)
    with running(agent, simulator):
        simulator.insert()
        wait_for(lambda: CardRead.objects.count() == 1, seconds=60, what="the first read")
        simulator.remove()  # and out long enough for pcscd to see it (harness)

        simulator.insert()
        _restart_pcscd()  # during the read the insertion started
        # Whether the kill finds the agent waiting for a reader change (pcsc-lite answers
        # F_COMM_ERROR) or mid-read, the agent must take it for pcscd gone (pcsc.raise_for).
        wait_for(lambda: "PC/SC unavailable" in agent.output(), seconds=60,
                 what="the agent to notice pcscd went away", output=agent.output)  # fmt: skip
        restarted = time.time()
        simulator.remove()
        assert agent.process.poll() is None, "the agent keeps running:\n" + agent.output()

        simulator.insert()

        def arrived() -> bool:
            return CardRead.objects.filter(read_at__gte=_aware(restarted - 1)).exists()

        wait_for(arrived, seconds=90, what="a read after the restart", output=agent.output)
        assert agent.process.poll() is None, agent.output()
    reads = list(CardRead.objects.order_by("received_at"))
    assert len({read.read_id for read in reads}) == len(reads), "each read stored once"
    assert all(read.card == card for read in reads)


def _aware(timestamp: float) -> object:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)
