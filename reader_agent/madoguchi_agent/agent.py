"""The agent's long-running loop: watch the reader, read on insertion, push, heartbeat.

Two threads: the watcher (this module's `Agent.run`, in the caller's thread) talks to PC/SC;
the sender thread owns every network call for the outbox, so a slow server never delays the
next card read and the outbox is flushed by one thread only (order kept).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import pcsc
from .card import CardRead, TextApData, open_session
from .client import (
    HEARTBEATS_PATH,
    READER_MISSING,
    READER_OK,
    READER_PCSCD_DOWN,
    READS_PATH,
    ServerClient,
    encode_json,
    heartbeat_payload,
    read_payload,
)
from .errors import (
    AgentError,
    CardError,
    CardRemoved,
    NoCard,
    NoReader,
    PcscError,
    PcscUnavailable,
    PinBlocked,
    WrongPin,
)
from .outbox import Outbox

log = logging.getLogger(__name__)

Notify = Callable[[str], None]
PinSource = Callable[[], "str | None"]


def _default_notify(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class ReadOutcome:
    read_id: str
    card: CardRead
    elapsed_ms: float


def read_card_and_queue(
    ctx: Any, reader: str, outbox: Outbox, *, on_read: Callable[[CardRead], None] | None = None
) -> ReadOutcome:
    """Read AUTH certificate + PIN counters from the card in `reader` and queue the push."""
    t0 = time.perf_counter()
    with open_session(ctx, reader) as session:
        card = session.read_card()
    elapsed = (time.perf_counter() - t0) * 1000
    body = encode_json(read_payload(card=card, reader_name=reader))
    read_id = outbox.enqueue_read(READS_PATH, body)
    if on_read is not None:
        on_read(card)
    return ReadOutcome(read_id=read_id, card=card, elapsed_ms=elapsed)


def read_text_and_send(
    ctx: Any,
    reader: str,
    *,
    get_pin: PinSource,
    client: ServerClient,
    outbox: Outbox,
) -> tuple[str, CardRead] | None:
    """Read the text AP with the resident's PIN and send it at once (never to disk).

    Returns (read_id, card) when sent, None if no PIN was given. A wrong or locked PIN still
    queues a card read so the server shows the new retry counter. Raises WrongPin, PinBlocked,
    ServerUnavailable/ServerRejected (clerk retries), or PC/SC errors.
    """
    text: TextApData | None = None
    failure: AgentError | None = None
    with open_session(ctx, reader) as session:
        pin = get_pin()
        if not pin:
            return None
        try:
            text = session.read_text_ap(pin)
        except (WrongPin, PinBlocked) as exc:
            failure = exc
        finally:
            del pin
        card = session.read_card()
    if failure is not None:
        body = encode_json(read_payload(card=card, reader_name=reader))
        outbox.enqueue_read(READS_PATH, body)
        raise failure
    payload = read_payload(card=card, reader_name=reader, text=text)
    client.send_now(READS_PATH, encode_json(payload))
    return str(payload["read_id"]), card


def describe_read(card: CardRead) -> str:
    """One line for the clerk's console: validity and PIN state, no personal data."""
    cert = card.auth_certificate
    if cert is None:
        cert_txt = "利用者証明用電子証明書なし / no AUTH certificate"
    else:
        cert_txt = f"利用者証明用電子証明書 有効期限 {cert.not_after.date().isoformat()}"
    names = {"auth": "利用者証明", "signing": "署名", "text": "券面入力補助", "resident": "住基"}
    parts = []
    for key, label in names.items():
        state = getattr(card.pins, key)
        if state.tries is None:
            parts.append(f"{label}: -")
        elif state.blocked:
            parts.append(f"{label}: ロック中")
        else:
            parts.append(f"{label}: 残り{state.tries}回")
    return f"{cert_txt} / 暗証番号 " + ", ".join(parts)


class Agent:
    def __init__(
        self,
        *,
        client: ServerClient,
        outbox: Outbox,
        reader: str | None = None,
        heartbeat_interval: float = 30.0,
        retry_interval: float = 5.0,
        notify: Notify = _default_notify,
        text_pin_prompt: PinSource | None = None,
        context_factory: Callable[[], Any] = pcsc.PcscContext,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.wanted_reader = reader
        self.heartbeat_interval = heartbeat_interval
        self.retry_interval = retry_interval
        self.notify = notify
        self.text_pin_prompt = text_pin_prompt
        self.context_factory = context_factory
        self.stop_event = stop or threading.Event()
        self.reader_name: str | None = None
        self.reader_status = READER_MISSING
        self.reads = 0
        self.server_ok = True
        self.last_read: ReadOutcome | None = None
        self._wake = threading.Event()
        self._warned_first_reader = False
        self._sender: threading.Thread | None = None

    # --- sender thread -----------------------------------------------------------------------

    def _queue_heartbeat(self) -> None:
        body = encode_json(
            heartbeat_payload(reader_name=self.reader_name, reader_status=self.reader_status)
        )
        self.outbox.enqueue_heartbeat(HEARTBEATS_PATH, body, str(uuid.uuid4()))

    def _sender_loop(self) -> None:
        next_heartbeat = 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now >= next_heartbeat:
                self._queue_heartbeat()
                next_heartbeat = now + self.heartbeat_interval
            try:
                result = self.outbox.flush(self.client.deliver)
            except Exception:  # keep the agent alive whatever the server sends back
                log.exception("outbox flush failed")
                result = None
            wait = max(0.0, next_heartbeat - time.monotonic())
            if result is not None and result.stopped_on_retry:
                wait = min(wait, self.retry_interval)
                if self.server_ok:
                    self.server_ok = False
                    log.warning(
                        "server not reachable; %d item(s) wait in the outbox", result.remaining
                    )
                    self.notify(
                        "サーバーに送信できません (接続不可、または端末が未承認)。読み取り結果は"
                        "保存され、後で送信されます / Cannot deliver (server down or device not"
                        " approved yet); reads are kept and sent later"
                    )
            elif result is not None and not self.server_ok:
                self.server_ok = True
                log.info("server reachable again; outbox drained")
                self.notify("サーバーに再接続しました / Server reachable again")
            self._wake.wait(wait)
            self._wake.clear()

    def wake_sender(self) -> None:
        self._wake.set()

    # --- watcher -----------------------------------------------------------------------------

    def _set_status(self, status: str, reader: str | None) -> None:
        changed = status != self.reader_status
        self.reader_status, self.reader_name = status, reader
        if changed:
            self.wake_sender_heartbeat()

    def wake_sender_heartbeat(self) -> None:
        # A status change is worth telling the server now rather than at the next beat.
        self._queue_heartbeat()
        self.wake_sender()

    def _pick_reader(self, ctx: Any) -> str:
        reader, warning = pcsc.pick_reader(ctx.list_readers(), self.wanted_reader)
        if warning and not self._warned_first_reader:
            self.notify(warning)
            self._warned_first_reader = True
        if reader.startswith("Virtual PCD"):
            log.warning(
                "reader %r is vsmartcard's virtual reader: never install vsmartcard-vpcd on a"
                " counter PC (it accepts cards from the network)",
                reader,
            )
        return reader

    def handle_insertion(self, ctx: Any, reader: str) -> None:
        try:
            outcome = read_card_and_queue(ctx, reader, self.outbox)
        except NoCard:
            return  # gone again before we connected: nothing to report
        except (CardRemoved, CardError) as exc:
            log.info("card read failed: %s", exc.detail)
            self.notify(exc.for_clerk())
            return
        self.reads += 1
        self.last_read = outcome
        self.wake_sender()
        self.notify(f"読み取りました ({outcome.elapsed_ms:.0f} ms): {describe_read(outcome.card)}")
        if self.text_pin_prompt is not None:
            self._prompt_text(ctx, reader)

    def _prompt_text(self, ctx: Any, reader: str) -> None:
        assert self.text_pin_prompt is not None  # noqa: S101 - guarded by the caller
        try:
            sent = read_text_and_send(
                ctx, reader, get_pin=self.text_pin_prompt, client=self.client, outbox=self.outbox
            )
        except AgentError as exc:
            self.wake_sender()
            self.notify(exc.for_clerk())
            return
        if sent is not None:
            self.notify("券面事項を送信しました / Card text sent")

    def run(self) -> None:
        """Watch until stop_event is set. Never returns on PC/SC trouble: waits and retries."""
        self._sender = threading.Thread(target=self._sender_loop, name="sender", daemon=True)
        self._sender.start()
        try:
            while not self.stop_event.is_set():
                try:
                    self._watch_once()
                except PcscUnavailable as exc:
                    log.info("PC/SC unavailable: %s", exc.detail)
                    if self.reader_status != READER_PCSCD_DOWN:
                        self.notify(exc.for_clerk())
                    self._set_status(READER_PCSCD_DOWN, None)
                except NoReader as exc:
                    log.info("no reader: %s", exc.detail)
                    if self.reader_status != READER_MISSING:
                        self.notify(exc.for_clerk())
                    self._set_status(READER_MISSING, None)
                except PcscError as exc:
                    log.warning("PC/SC error: %s", exc.detail)
                self.stop_event.wait(1.0)
        finally:
            self.stop_event.set()
            self.wake_sender()
            if self._sender is not None:
                self._sender.join(timeout=10)

    def _watch_once(self) -> None:
        ctx = self.context_factory()
        try:
            reader = self._pick_reader(ctx)
            self._set_status(READER_OK, reader)
            state = ctx.state(reader)
            was_present = False
            read_event: int | None = None
            while not self.stop_event.is_set():
                # A new card: it just appeared, or the insert/remove counter moved (a swap
                # between two polls). A card already in the reader at start is read too.
                if state.present and (not was_present or state.card_event != read_event):
                    read_event = state.card_event
                    self.handle_insertion(ctx, reader)
                was_present = state.present
                # Short timeout so stop and a reader unplug are noticed quickly.
                state = ctx.wait_for_change(state, 500)
        finally:
            ctx.close()
