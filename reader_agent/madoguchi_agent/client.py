"""Talking to the Madoguchi server: payloads of the push protocol and signed POSTs.

The protocol (also in README.md):
- POST /api/v1/reads       -> 201 created, 200 {"duplicate": true}, 400, 401
- POST /api/v1/heartbeats  -> 204
Every request is signed (httpsig.py); bodies are UTF-8 JSON.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import __version__
from .card import PIN_KEYS, CardRead, TextApData
from .errors import ServerRejected, ServerUnavailable
from .signing import RequestSigner

log = logging.getLogger(__name__)

READS_PATH = "/api/v1/reads"
HEARTBEATS_PATH = "/api/v1/heartbeats"

READER_OK = "ok"
READER_MISSING = "no_reader"
READER_PCSCD_DOWN = "pcscd_down"


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_json(payload: dict[str, Any]) -> bytes:
    # Compact and UTF-8 (not \u escapes): the bytes are what the Content-Digest covers.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_payload(
    *,
    card: CardRead | None,
    reader_name: str,
    text: TextApData | None = None,
    read_id: str | None = None,
    read_at: str | None = None,
) -> dict[str, Any]:
    """Body of POST /api/v1/reads. `kind` is "text" exactly when personal data is included."""
    return {
        "read_id": read_id or str(uuid.uuid4()),
        "kind": "text" if text is not None else "card",
        "read_at": read_at or utc_now_iso(),
        "reader_name": reader_name,
        "agent_version": __version__,
        "auth_certificate": (
            card.auth_certificate.to_json()
            if card is not None and card.auth_certificate is not None
            else None
        ),
        "pin_tries": card.pins.pin_tries() if card else dict.fromkeys(PIN_KEYS),
        "pin_blocked": card.pins.pin_blocked() if card else dict.fromkeys(PIN_KEYS, False),
        "text": text.to_json() if text is not None else None,
    }


def heartbeat_payload(*, reader_name: str | None, reader_status: str) -> dict[str, Any]:
    return {
        "sent_at": utc_now_iso(),
        "agent_version": __version__,
        "reader_name": reader_name,
        "reader_status": reader_status,
    }


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # stored (2xx) or already stored (duplicate): drop it
    RETRY = "retry"  # server away or not ready for us: keep it, try later, keep the order
    REJECTED = "rejected"  # the server will never take this body: set it aside


def classify(status: int, body: bytes = b"") -> Outcome:
    if 200 <= status < 300 or status == 409:
        return Outcome.DELIVERED
    if status >= 500 or status in (401, 403, 408, 425, 429):
        # 401/403: e.g. the device is still waiting for approval, or the clock is off. The read
        # stays queued until an administrator fixes it rather than being thrown away.
        return Outcome.RETRY
    return Outcome.REJECTED


class ServerClient:
    """Signed POSTs to one server. Thread-safe (httpx.Client is)."""

    def __init__(
        self,
        server: str,
        signer: RequestSigner,
        *,
        http: httpx.Client | None = None,
        timeout: float = 5.0,
        ca_bundle: str | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self._prefix = urlsplit(self.server).path
        self.signer = signer
        self._http = http or httpx.Client(timeout=timeout, verify=ca_bundle or True)

    def close(self) -> None:
        self._http.close()

    def post(self, path: str, body: bytes) -> httpx.Response:
        """Sign and POST; raise ServerUnavailable when the server could not be reached or
        answered 5xx (the caller decides whether to keep the body)."""
        full_path = self._prefix + path
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"madoguchi-agent/{__version__}",
            **self.signer.headers("POST", full_path, body),
        }
        try:
            resp = self._http.post(self.server + path, content=body, headers=headers)
        except httpx.TransportError as exc:
            # The exception text can include the URL only; bodies never reach the log.
            raise ServerUnavailable(f"POST {path}: {type(exc).__name__}") from None
        if resp.status_code >= 500:
            raise ServerUnavailable(f"POST {path}: HTTP {resp.status_code}")
        return resp

    def deliver(self, path: str, body: bytes) -> Outcome:
        """For the outbox: one attempt, classified."""
        try:
            resp = self.post(path, body)
        except ServerUnavailable as exc:
            # Debug only: the agent loop reports the outage once, not on every retry.
            log.debug("server unavailable: %s", exc.detail)
            return Outcome.RETRY
        outcome = classify(resp.status_code, resp.content)
        if outcome is not Outcome.DELIVERED:
            log.warning("POST %s -> HTTP %d (%s)", path, resp.status_code, outcome.value)
        return outcome

    def send_now(self, path: str, body: bytes) -> httpx.Response:
        """Send without the outbox (text reads: personal data never touches the disk).

        Raises ServerUnavailable or ServerRejected; the clerk is then asked to read again.
        """
        resp = self.post(path, body)
        if classify(resp.status_code) is not Outcome.DELIVERED:
            raise ServerRejected(f"POST {path}: HTTP {resp.status_code}", resp.status_code)
        return resp
