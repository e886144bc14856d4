"""Test doubles: a small signed-request HTTP server and a fake PC/SC context."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from server_httpsig import SignatureRejected, verify_request

from madoguchi_agent import apdu
from madoguchi_agent.errors import NoCard, NoReader, PcscUnavailable
from madoguchi_agent.simulator import CardModel


class FakeServer:
    """The server side of the push protocol, verifying every signature with the server's code.

    `stop()` closes the port (connection refused, as when the server is down); `start()` binds
    the same port again. `fail_with = 503` answers every request with that status instead.
    """

    def __init__(self, *, auto_approve: bool = True) -> None:
        self.auto_approve = auto_approve
        self.keys: dict[str, bytes] = {}  # approved: keyid -> raw public key
        self.pending: dict[str, dict[str, Any]] = {}
        self.reads: list[dict[str, Any]] = []  # stored, in arrival order
        self.read_ids: set[str] = set()
        self.duplicates = 0
        self.heartbeats: list[dict[str, Any]] = []
        self.rejections: list[str] = []
        self.nonces: set[tuple[str, str]] = set()
        self.fail_with: int | None = None
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def approve(self, keyid: str) -> None:
        self.keys[keyid] = base64.b64decode(self.pending[keyid]["public_key"])

    def _seen_nonce(self, keyid: str, nonce: str) -> bool:
        with self._lock:
            if (keyid, nonce) in self.nonces:
                return True
            self.nonces.add((keyid, nonce))
            return False

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        if self.fail_with is not None:
            return self.fail_with, b""
        if path == "/api/v1/devices/enroll":
            data = json.loads(body)
            self.pending[data["fingerprint"]] = data
            if self.auto_approve:
                self.approve(data["fingerprint"])
            return 201, b"{}"
        try:
            verify_request(
                method=method,
                path=path,
                headers=headers,
                body=body,
                public_key_lookup=self.keys.get,
                now=time.time(),
                seen_nonce=self._seen_nonce,
            )
        except SignatureRejected as exc:
            self.rejections.append(exc.code)
            return 401, json.dumps({"error": exc.code}).encode()
        data = json.loads(body)
        with self._lock:
            if path == "/api/v1/reads":
                if data["read_id"] in self.read_ids:
                    self.duplicates += 1
                    return 200, b'{"duplicate": true}'
                self.read_ids.add(data["read_id"])
                self.reads.append(data)
                return 201, b"{}"
            if path == "/api/v1/heartbeats":
                self.heartbeats.append(data)
                return 204, b""
        return 404, b""

    def start(self) -> FakeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status, out = server.handle(
                    "POST", self.path, {k: v for k, v in self.headers.items()}, body
                )
                self.send_response(status)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        httpd = self._httpd
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.05), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# --- a fake PC/SC context over an in-process CardModel ------------------------------------------


@dataclass(frozen=True)
class FakeState:
    reader: str
    present: bool
    generation: int

    @property
    def card_event(self) -> int:
        return self.generation


@dataclass
class FakeWorld:
    """What the fake PC/SC stack sees: one reader, maybe a card, maybe pcscd down."""

    reader: str = "Fake Reader 0"
    model: CardModel | None = None
    pcscd_up: bool = True
    reader_attached: bool = True
    generation: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    remove_after_apdus: int | None = None  # pull the card out in the middle of a read

    def insert(self, model: CardModel) -> None:
        with self.changed:
            model.reset()
            self.model = model
            self.generation += 1
            self.changed.notify_all()

    def remove(self) -> None:
        with self.changed:
            self.model = None
            self.generation += 1
            self.changed.notify_all()


class FakeConnection:
    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.sent = 0
        self.closed_with_reset: bool | None = None

    def transmit(self, command: bytes) -> apdu.Response:
        from madoguchi_agent.errors import CardRemoved

        model = self.world.model
        if model is None:
            raise CardRemoved("card removed")
        if self.world.remove_after_apdus is not None and self.sent >= self.world.remove_after_apdus:
            self.world.remove()
            raise CardRemoved("card removed")
        self.sent += 1
        return model.transmit(command)

    def close(self, *, reset: bool = False) -> None:
        self.closed_with_reset = reset
        if reset and self.world.model is not None:
            self.world.model.reset()


class FakeContext:
    def __init__(self, world: FakeWorld) -> None:
        if not world.pcscd_up:
            raise PcscUnavailable("establish context: PC/SC error 0x8010001d")
        self.world = world

    def close(self) -> None:
        pass

    def _check(self) -> None:
        if not self.world.pcscd_up:
            raise PcscUnavailable("service gone")
        if not self.world.reader_attached:
            raise NoReader("reader gone")

    def list_readers(self) -> list[str]:
        if not self.world.pcscd_up:
            raise PcscUnavailable("service gone")
        return [self.world.reader] if self.world.reader_attached else []

    def state(self, reader: str) -> FakeState:
        self._check()
        w = self.world
        return FakeState(reader, w.model is not None, w.generation)

    def wait_for_change(self, last: FakeState, timeout_ms: int) -> FakeState:
        with self.world.changed:
            self.world.changed.wait_for(
                lambda: self.world.generation != last.generation, timeout=timeout_ms / 1000
            )
        return self.state(last.reader)

    def connect(self, reader: str) -> FakeConnection:
        self._check()
        if self.world.model is None:
            raise NoCard("no card")
        return FakeConnection(self.world)


# --- real PC/SC helpers ---------------------------------------------------------------------


def wait_present(ctx: Any, reader: str, present: bool, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    state = ctx.state(reader)
    while state.present != present:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"reader {reader!r} did not become present={present}")
        state = ctx.wait_for_change(state, int(min(left, 1.0) * 1000))


def connect_with_retry(ctx: Any, reader: str, timeout: float = 5.0) -> Any:
    """The first connect() after the card program starts can raise NoCard: poll."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return ctx.connect(reader)
        except NoCard:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
