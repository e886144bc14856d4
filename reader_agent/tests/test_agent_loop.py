"""The run loop over a fake PC/SC stack: insertion -> signed push; trouble -> keeps running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_helpers import FakeContext, FakeServer, FakeWorld, wait_until
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi_agent.agent import Agent, read_text_and_send
from madoguchi_agent.client import ServerClient
from madoguchi_agent.errors import (
    CardRemoved,
    NoCard,
    NoReader,
    PcscUnavailable,
    ServerUnavailable,
    WrongPin,
)
from madoguchi_agent.outbox import Outbox
from madoguchi_agent.pcsc import raise_for
from madoguchi_agent.signing import RequestSigner
from madoguchi_agent.simulator import build_card


@pytest.fixture
def signer(fake_server: FakeServer) -> RequestSigner:
    s = RequestSigner(Ed25519PrivateKey.generate())
    fake_server.keys[s.keyid] = s.public_key_bytes
    return s


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld()


@pytest.fixture
def running_agent(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner, world: FakeWorld
) -> Iterator[tuple[Agent, list[str]]]:
    messages: list[str] = []
    outbox = Outbox(tmp_path / "o.sqlite3")
    agent = Agent(
        client=ServerClient(fake_server.url, signer),
        outbox=outbox,
        reader=world.reader,
        heartbeat_interval=0.2,
        retry_interval=0.1,
        notify=messages.append,
        context_factory=lambda: FakeContext(world),
    )
    t = threading.Thread(target=agent.run, daemon=True)
    t.start()
    yield agent, messages
    agent.stop_event.set()
    world.remove()  # wake the watcher
    t.join(timeout=10)
    assert not t.is_alive()
    outbox.close()


def test_insertion_is_read_and_pushed(
    running_agent: tuple[Agent, list[str]], fake_server: FakeServer, world: FakeWorld
) -> None:
    _agent, messages = running_agent
    world.insert(build_card("ordinary", auth_serial=0x51))
    assert wait_until(lambda: len(fake_server.reads) == 1)
    read = fake_server.reads[0]
    assert read["auth_certificate"]["serial"] == "51"
    assert read["reader_name"] == world.reader
    assert read["kind"] == "card"
    world.remove()
    world.insert(build_card("locked_auth", auth_serial=0x52))
    assert wait_until(lambda: len(fake_server.reads) == 2)
    assert fake_server.reads[1]["pin_blocked"]["auth"] is True
    assert any("読み取りました" in m for m in messages)
    assert wait_until(lambda: any(h["reader_status"] == "ok" for h in fake_server.heartbeats))
    assert fake_server.heartbeats[-1]["reader_name"] == world.reader


def test_card_left_in_reader_is_read_once(
    running_agent: tuple[Agent, list[str]], fake_server: FakeServer, world: FakeWorld
) -> None:
    world.insert(build_card())
    assert wait_until(lambda: len(fake_server.reads) == 1)
    assert not wait_until(lambda: len(fake_server.reads) > 1, timeout=0.8)


def test_pcscd_down_then_back(
    running_agent: tuple[Agent, list[str]], fake_server: FakeServer, world: FakeWorld
) -> None:
    _agent, messages = running_agent
    world.pcscd_up = False
    world.remove()
    assert wait_until(
        lambda: any(h["reader_status"] == "pcscd_down" for h in fake_server.heartbeats)
    )
    assert any("pcscd" in m for m in messages)
    world.pcscd_up = True
    world.insert(build_card())
    assert wait_until(lambda: len(fake_server.reads) == 1)


def test_reader_unplugged_then_back(
    running_agent: tuple[Agent, list[str]], fake_server: FakeServer, world: FakeWorld
) -> None:
    world.reader_attached = False
    world.remove()
    assert wait_until(
        lambda: any(h["reader_status"] == "no_reader" for h in fake_server.heartbeats)
    )
    world.reader_attached = True
    world.insert(build_card())
    assert wait_until(lambda: len(fake_server.reads) == 1)


def test_card_removed_mid_read_agent_keeps_going(
    running_agent: tuple[Agent, list[str]], fake_server: FakeServer, world: FakeWorld
) -> None:
    _agent, messages = running_agent
    world.remove_after_apdus = 4
    world.insert(build_card())
    assert wait_until(lambda: any("外されました" in m for m in messages))
    world.remove_after_apdus = None
    world.insert(build_card(auth_serial=0x77))
    assert wait_until(lambda: len(fake_server.reads) == 1)
    assert fake_server.reads[0]["auth_certificate"]["serial"] == "77"


def test_server_down_reads_wait_then_go_in_order(
    running_agent: tuple[Agent, list[str]], fake_server: FakeServer, world: FakeWorld
) -> None:
    agent, _ = running_agent
    fake_server.fail_with = 503
    for serial in (0x61, 0x62, 0x63):
        world.insert(build_card(auth_serial=serial))
        assert wait_until(lambda s=serial: agent.reads == s - 0x60)
        world.remove()
    assert agent.outbox.count("read") == 3
    fake_server.fail_with = None
    assert wait_until(lambda: len(fake_server.reads) == 3)
    assert [r["auth_certificate"]["serial"] for r in fake_server.reads] == ["61", "62", "63"]


def test_read_text_sent_directly(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner, world: FakeWorld
) -> None:
    world.insert(build_card(pin="2468"))
    ctx = FakeContext(world)
    with Outbox(tmp_path / "o.sqlite3") as box:
        sent = read_text_and_send(
            ctx, world.reader, get_pin=lambda: "2468",
            client=ServerClient(fake_server.url, signer), outbox=box,
        )  # fmt: skip
        assert sent is not None
        assert box.count() == 0
    read = fake_server.reads[0]
    assert read["kind"] == "text"
    assert read["text"]["my_number"] == "123456789018"
    assert read["text"]["birth_date"] == "1985-04-01"
    assert read["pin_tries"]["text"] == 3
    assert read["auth_certificate"] is not None


def test_read_text_wrong_pin_queues_counter_only(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner, world: FakeWorld
) -> None:
    world.insert(build_card(pin="2468"))
    client = ServerClient(fake_server.url, signer)
    with Outbox(tmp_path / "o.sqlite3") as box:
        with pytest.raises(WrongPin) as info:
            read_text_and_send(
                FakeContext(world), world.reader, get_pin=lambda: "1111", client=client, outbox=box
            )
        assert info.value.tries_left == 2
        assert box.count("read") == 1
        box.flush(client.deliver)
    assert fake_server.reads[0]["kind"] == "card"
    assert fake_server.reads[0]["pin_tries"]["text"] == 2
    assert fake_server.reads[0]["text"] is None


def test_read_text_server_down_nothing_on_disk(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner, world: FakeWorld
) -> None:
    world.insert(build_card())
    client = ServerClient(fake_server.url, signer)
    fake_server.stop()
    db = tmp_path / "o.sqlite3"
    with Outbox(db) as box:
        with pytest.raises(ServerUnavailable):
            read_text_and_send(
                FakeContext(world), world.reader, get_pin=lambda: "1234", client=client, outbox=box
            )
        assert box.count() == 0
    for f in tmp_path.iterdir():
        assert b"123456789018" not in f.read_bytes()
        assert "窓口".encode() not in f.read_bytes()


def test_read_text_skipped_without_pin(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner, world: FakeWorld
) -> None:
    world.insert(build_card())
    with Outbox(tmp_path / "o.sqlite3") as box:
        assert read_text_and_send(
            FakeContext(world), world.reader, get_pin=lambda: None,
            client=ServerClient(fake_server.url, signer), outbox=box,
        ) is None  # fmt: skip


def test_text_read_resets_card_after_verify(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner, world: FakeWorld
) -> None:
    """After a PIN was verified the card is reset on disconnect, so no other program can use
    the verified state."""
    model = build_card()
    world.insert(model)
    with Outbox(tmp_path / "o.sqlite3") as box:
        read_text_and_send(
            FakeContext(world), world.reader, get_pin=lambda: "1234",
            client=ServerClient(fake_server.url, signer), outbox=box,
        )  # fmt: skip
    assert not model.pins["text"].verified


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0x8010001D, PcscUnavailable),  # SCARD_E_NO_SERVICE: calls after pcscd went away
        (0x80100013, PcscUnavailable),  # SCARD_F_COMM_ERROR: the call pcscd went away under
        (0x80100003, PcscUnavailable),  # SCARD_E_INVALID_HANDLE: a context from before
        (0x80100009, NoReader),  # SCARD_E_UNKNOWN_READER
        (0x8010000C, NoCard),  # SCARD_E_NO_SMARTCARD
        (0x80100069, CardRemoved),  # SCARD_W_REMOVED_CARD
    ],
)
def test_result_codes_map_to_what_the_run_loop_does(code: int, expected: type) -> None:
    """pcscd stopping under a call in progress answers F_COMM_ERROR; the loop must take it for
    "pcscd is gone" (status to the server, message to the clerk), not a passing error."""
    with pytest.raises(expected) as raised:
        raise_for(code, "get status change")
    assert type(raised.value) is expected
    assert f"{code:#010x}" in raised.value.detail
    raise_for(0, "success raises nothing")
