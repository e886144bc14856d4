"""Outbox: order kept across a server outage and an agent restart; nothing lost or doubled."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from agent_helpers import FakeServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi_agent.card import CardSession
from madoguchi_agent.client import (
    HEARTBEATS_PATH,
    READS_PATH,
    Outcome,
    ServerClient,
    classify,
    encode_json,
    heartbeat_payload,
    read_payload,
)
from madoguchi_agent.errors import ServerRejected, ServerUnavailable
from madoguchi_agent.outbox import Outbox
from madoguchi_agent.signing import RequestSigner
from madoguchi_agent.simulator import build_card


@pytest.fixture
def signer() -> RequestSigner:
    return RequestSigner(Ed25519PrivateKey.generate())


def _approve(server: FakeServer, signer: RequestSigner) -> None:
    server.keys[signer.keyid] = signer.public_key_bytes


def _card_body(serial: int) -> bytes:
    read = CardSession(build_card(auth_serial=serial)).read_card()
    return encode_json(read_payload(card=read, reader_name="Test Reader"))


def test_payload_shape() -> None:
    read = CardSession(build_card("locked_auth", auth_serial=0xBEEF)).read_card()
    p = json.loads(encode_json(read_payload(card=read, reader_name="R")))
    assert p["kind"] == "card"
    assert p["text"] is None
    assert p["auth_certificate"]["serial"] == "beef"
    assert p["pin_tries"] == {"auth": 0, "signing": 5, "text": 3, "resident": 3}
    assert p["pin_blocked"] == {"auth": True, "signing": False, "text": False, "resident": False}
    assert p["read_at"].endswith("Z")
    assert set(p) == {
        "read_id", "kind", "read_at", "reader_name", "agent_version",
        "auth_certificate", "pin_tries", "pin_blocked", "text",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (201, Outcome.DELIVERED), (200, Outcome.DELIVERED), (204, Outcome.DELIVERED),
        (409, Outcome.DELIVERED), (500, Outcome.RETRY), (503, Outcome.RETRY),
        (401, Outcome.RETRY), (429, Outcome.RETRY), (400, Outcome.REJECTED),
        (404, Outcome.REJECTED),
    ],
)  # fmt: skip
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_text_reads_never_written_to_disk(tmp_path: Path) -> None:
    # R-MYN-2: personal data from the text AP never goes into the outbox.
    session = CardSession(build_card())
    card = session.read_card()
    text = session.read_text_ap("1234")
    body = encode_json(read_payload(card=card, reader_name="R", text=text))
    with Outbox(tmp_path / "o.sqlite3") as box:
        with pytest.raises(ValueError, match="never written to disk"):
            box.enqueue_read(READS_PATH, body)
        assert box.count() == 0
    assert b"123456789018" not in (tmp_path / "o.sqlite3").read_bytes()


def test_order_kept_across_outage_and_restart(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner
) -> None:
    _approve(fake_server, signer)
    db = tmp_path / "outbox.sqlite3"
    client = ServerClient(fake_server.url, signer)
    expected: list[str] = []

    box = Outbox(db)
    for serial in (1, 2):
        expected.append(box.enqueue_read(READS_PATH, _card_body(serial)))
    assert box.flush(client.deliver).delivered == 2

    # Server goes away: reads wait, in order.
    fake_server.stop()
    for serial in (3, 4, 5):
        expected.append(box.enqueue_read(READS_PATH, _card_body(serial)))
    r = box.flush(client.deliver)
    assert (r.delivered, r.remaining, r.stopped_on_retry) == (0, 3, True)
    box.enqueue_heartbeat(HEARTBEATS_PATH, encode_json(heartbeat_payload(
        reader_name="R", reader_status="ok")), "hb-1")  # fmt: skip
    box.enqueue_heartbeat(HEARTBEATS_PATH, encode_json(heartbeat_payload(
        reader_name="R", reader_status="no_reader")), "hb-2")  # fmt: skip
    assert box.count("heartbeat") == 1  # only the latest heartbeat is kept

    # The agent restarts while the server is still down: a new Outbox on the same file.
    box.close()
    box = Outbox(db)
    assert [i.kind for i in box.pending()] == ["read", "read", "read", "heartbeat"]
    expected.append(box.enqueue_read(READS_PATH, _card_body(6)))
    assert box.flush(client.deliver).delivered == 0

    # Server back (same port); everything goes out oldest first.
    fake_server.start()
    client = ServerClient(fake_server.url, signer)
    r = box.flush(client.deliver)
    assert (r.delivered, r.remaining, r.rejected) == (5, 0, 0)
    assert [x["read_id"] for x in fake_server.reads] == expected
    assert [x["auth_certificate"]["serial"] for x in fake_server.reads] == list("123456")
    assert fake_server.duplicates == 0
    assert [h["reader_status"] for h in fake_server.heartbeats] == ["no_reader"]
    assert box.last_push_at is not None
    box.close()


def test_5xx_keeps_reads(tmp_path: Path, fake_server: FakeServer, signer: RequestSigner) -> None:
    _approve(fake_server, signer)
    client = ServerClient(fake_server.url, signer)
    with Outbox(tmp_path / "o.sqlite3") as box:
        rid = box.enqueue_read(READS_PATH, _card_body(7))
        fake_server.fail_with = 503
        assert box.flush(client.deliver).remaining == 1
        fake_server.fail_with = None
        assert box.flush(client.deliver).delivered == 1
    assert [x["read_id"] for x in fake_server.reads] == [rid]


def test_crash_after_send_before_delete_is_a_duplicate_not_a_loss(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner
) -> None:
    """The server stored the read but the agent died before deleting it: the resend is
    answered 200 duplicate and dropped; the server holds it once."""
    _approve(fake_server, signer)
    client = ServerClient(fake_server.url, signer)
    db = tmp_path / "o.sqlite3"
    box = Outbox(db)
    rid = box.enqueue_read(READS_PATH, _card_body(8))

    def deliver_then_crash(path: str, body: bytes) -> Outcome:
        client.deliver(path, body)
        raise KeyboardInterrupt  # the process dies here

    with pytest.raises(KeyboardInterrupt):
        box.flush(deliver_then_crash)
    box.close()
    box = Outbox(db)
    assert box.count() == 1
    assert box.flush(client.deliver).delivered == 1
    assert fake_server.duplicates == 1
    assert [x["read_id"] for x in fake_server.reads] == [rid]
    box.close()


def test_unapproved_device_keeps_reads_until_approved(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner
) -> None:
    client = ServerClient(fake_server.url, signer)
    with Outbox(tmp_path / "o.sqlite3") as box:
        box.enqueue_read(READS_PATH, _card_body(9))
        assert box.flush(client.deliver).remaining == 1
        assert fake_server.rejections == ["unknown_key"]
        _approve(fake_server, signer)
        assert box.flush(client.deliver).delivered == 1


def test_rejected_body_set_aside_and_queue_moves_on(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner
) -> None:
    _approve(fake_server, signer)
    client = ServerClient(fake_server.url, signer)
    with Outbox(tmp_path / "o.sqlite3") as box:
        box._insert("bad-1", "read", "/api/v1/nowhere", b"{}")
        rid = box.enqueue_read(READS_PATH, _card_body(10))
        r = box.flush(client.deliver)
        assert (r.delivered, r.rejected, r.remaining) == (1, 1, 0)
        assert box.rejected_count() == 1
    assert [x["read_id"] for x in fake_server.reads] == [rid]


def test_same_read_id_queued_twice_sent_once(
    tmp_path: Path, fake_server: FakeServer, signer: RequestSigner
) -> None:
    _approve(fake_server, signer)
    body = _card_body(11)
    with Outbox(tmp_path / "o.sqlite3") as box:
        box.enqueue_read(READS_PATH, body)
        box.enqueue_read(READS_PATH, body)
        assert box.count() == 1


def test_send_now_errors(fake_server: FakeServer, signer: RequestSigner) -> None:
    client = ServerClient(fake_server.url, signer)
    with pytest.raises(ServerRejected):
        client.send_now(READS_PATH, _card_body(12))  # unknown key -> 401
    fake_server.stop()
    with pytest.raises(ServerUnavailable):
        client.send_now(READS_PATH, _card_body(12))


def test_server_prefix_is_part_of_the_signed_path(signer: RequestSigner) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        assert request.headers["Content-Digest"].startswith("sha-256=:")
        return httpx.Response(201)

    client = ServerClient(
        "https://madoguchi.example/city",
        signer,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    assert client.deliver(READS_PATH, b"{}") is Outcome.DELIVERED
    assert seen == ["/city/api/v1/reads"]
