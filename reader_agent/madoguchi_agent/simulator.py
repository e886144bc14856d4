"""A fictional My Number card for tests and demos. NEVER needed on a counter PC.

Two layers:
- `CardModel`: the card's file system and PIN logic; `process(apdu) -> response`, in process.
- `SimulatedCard`: connects a CardModel to pcscd's vpcd driver over TCP, so the whole real PC/SC
  stack (pcscd, pyscard) is exercised. Runs in a thread; `.insert()` / `.remove()` simulate the
  resident putting the card on the reader and taking it away.

All data is fictional: My Numbers satisfy the check digit (R-MYN-1) but belong to nobody, and
the certificates are self-signed by a CA named "FICTIONAL" created at startup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import socket
import struct
import threading
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from . import apdu, parsers

log = logging.getLogger(__name__)

DEFAULT_ATR = bytes.fromhex("3BE000FF8131FE4514")  # plausible T=1 ATR (CARD_PROTOCOL.md)
DEFAULT_VPCD_PORT = 35963

PERSONAS = ("ordinary", "locked_auth", "expired_cert", "child")


# --- persona data -------------------------------------------------------------------------------


def make_my_number(first_eleven: str) -> str:
    """A fictional but check-digit-valid My Number (R-MYN-1)."""
    return first_eleven + str(parsers.my_number_check_digit(first_eleven))


@dataclass(frozen=True)
class PersonaData:
    """Everything printed on or stored in a fictional card."""

    persona: str = "ordinary"
    my_number: str = "123456789018"
    name: str = "窓口　花子"
    address: str = "北海道見本市見本町１丁目２番３号"
    birth_date: str = "1985-04-01"  # YYYY-MM-DD
    sex: str = "2"
    pin: str = "1234"  # AUTH, input-assist and resident PINs (R-PIN: may be the same)
    signing_password: str = "ABC123"  # noqa: S105 - fictional test card
    auth_serial: int = 0x0A0001
    today: dt.date | None = None  # certificate validity is computed from this day

    def __repr__(self) -> str:
        return f"PersonaData(persona={self.persona!r}, auth_serial={self.auth_serial:x})"


# Distinct defaults per persona so that a test can tell reads apart by serial and number.
_PERSONA_DEFAULTS: dict[str, dict[str, object]] = {
    "ordinary": {},
    "locked_auth": {
        "my_number": make_my_number("98765432109"),
        "name": "見本　太郎",
        "birth_date": "1970-10-10",
        "sex": "1",
        "auth_serial": 0x0A0002,
    },
    "expired_cert": {
        "my_number": make_my_number("11122233344"),
        "name": "期限　切子",
        "birth_date": "1990-02-28",
        "sex": "2",
        "auth_serial": 0x0A0003,
    },
    "child": {
        "my_number": make_my_number("55566677788"),
        "name": "見本　小太郎",
        "birth_date": "2016-06-15",
        "sex": "1",
        "auth_serial": 0x0A0004,
    },
}


def persona_data(persona: str = "ordinary", **overrides: object) -> PersonaData:
    """Defaults of a persona, with any field overridden (None values are ignored)."""
    if persona not in PERSONAS:
        raise ValueError(f"unknown persona {persona!r}; choose one of {', '.join(PERSONAS)}")
    values = dict(_PERSONA_DEFAULTS[persona])
    values.update({k: v for k, v in overrides.items() if v is not None})
    data = PersonaData(persona=persona, **values)  # type: ignore[arg-type]
    if not parsers.is_valid_my_number(data.my_number):
        raise ValueError("my_number fails the check digit (R-MYN-1); fictional numbers must pass")
    if data.sex not in parsers.ISO_5218_CODES or len(data.sex) != 1:
        raise ValueError("sex must be one ISO 5218 digit (0, 1, 2, 9)")
    parsers.parse_birth_date(data.birth_date.replace("-", "").encode("ascii"))
    return data


# --- fictional certificates ---------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _rsa_key(slot: int) -> rsa.RSAPrivateKey:
    # RSA-2048 like the real JPKI, so certificate sizes (and chunked reads) are realistic.
    # Cached per process: key generation is the slow part of building a card.
    del slot
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def _cert(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    serial: int,
    not_before: dt.datetime,
    not_after: dt.datetime,
    key: rsa.RSAPrivateKey,
    signer: rsa.RSAPrivateKey,
    ca: bool,
) -> bytes:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(signer, hashes.SHA256()).public_bytes(Encoding.DER)


def _utc(d: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CardCertificates:
    auth: bytes
    auth_ca: bytes
    signing: bytes | None
    signing_ca: bytes


def make_certificates(data: PersonaData) -> CardCertificates:
    today = data.today or dt.datetime.now(dt.UTC).date()
    if data.persona == "expired_cert":
        # Issued 5 years + 40 days ago, ran out 10 days ago (R-CRT-1: 5 years).
        nb, na = today - dt.timedelta(days=5 * 365 + 40), today - dt.timedelta(days=10)
    else:
        nb, na = today - dt.timedelta(days=200), today + dt.timedelta(days=4 * 365)
    ca_key, user_key = _rsa_key(0), _rsa_key(1)
    auth_ca_name = _name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, "JPKI FICTIONAL"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for user authentication (TEST ONLY)"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Madoguchi card simulator"),
    )
    sign_ca_name = _name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, "JPKI FICTIONAL"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for digital signature (TEST ONLY)"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Madoguchi card simulator"),
    )
    ca_nb, ca_na = _utc(today - dt.timedelta(days=3000)), _utc(today + dt.timedelta(days=3000))
    auth_ca = _cert(
        subject=auth_ca_name,
        issuer=auth_ca_name,
        serial=1,
        not_before=ca_nb,
        not_after=ca_na,
        key=ca_key,
        signer=ca_key,
        ca=True,
    )
    sign_ca = _cert(
        subject=sign_ca_name,
        issuer=sign_ca_name,
        serial=2,
        not_before=ca_nb,
        not_after=ca_na,
        key=ca_key,
        signer=ca_key,
        ca=True,
    )
    # The real AUTH certificate carries no personal data (R-CRT-1): only an opaque subject.
    auth = _cert(
        subject=_name((NameOID.COUNTRY_NAME, "JP"), (NameOID.COMMON_NAME, f"{data.auth_serial:X}")),
        issuer=auth_ca_name,
        serial=data.auth_serial,
        not_before=_utc(nb),
        not_after=_utc(na, 14),
        key=user_key,
        signer=ca_key,
        ca=False,
    )
    signing = None
    if data.persona != "child":  # R-CRT-2: no SIGNING certificate under 15
        signing = _cert(
            subject=_name((NameOID.COUNTRY_NAME, "JP"), (NameOID.COMMON_NAME, data.name)),
            issuer=sign_ca_name,
            serial=data.auth_serial + 0x100000,
            not_before=_utc(nb),
            not_after=_utc(na, 14),
            key=user_key,
            signer=ca_key,
            ca=False,
        )
    return CardCertificates(auth=auth, auth_ca=auth_ca, signing=signing, signing_ca=sign_ca)


# --- the card's file system and PIN logic -------------------------------------------------------


@dataclass
class SimPin:
    value: bytes
    limit: int
    tries_left: int
    verified: bool = False

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


@dataclass
class SimEF:
    data: bytes = b""
    pin: str | None = None  # key of the PIN that protects READ BINARY
    pin_ref: str | None = None  # set on a PIN EF: which PIN VERIFY checks


@dataclass
class SimAP:
    efs: dict[int, SimEF] = field(default_factory=dict)


def _pad(data: bytes, size: int) -> bytes:
    # Real EFs have a fixed size; unused bytes read as FF.
    return data + b"\xff" * max(0, size - len(data))


class CardModel:
    """The card's logic, no I/O. Thread-safe: the vpcd thread and tests may both poke it."""

    def __init__(self, data: PersonaData | None = None) -> None:
        self.data = data or persona_data()
        self._lock = threading.RLock()
        self.pins: dict[str, SimPin] = {
            "auth": SimPin(self.data.pin.encode(), 3, 3),
            "signing": SimPin(self.data.signing_password.upper().encode(), 5, 5),
            "text": SimPin(self.data.pin.encode(), 3, 3),
            "resident": SimPin(self.data.pin.encode(), 3, 3),
        }
        if self.data.persona == "locked_auth":
            self.pins["auth"].tries_left = 0
        certs = make_certificates(self.data)
        self.certificates = certs
        jpki = SimAP(
            {
                apdu.EF_JPKI_AUTH_CERT: SimEF(_pad(certs.auth, 2048)),
                apdu.EF_JPKI_AUTH_CA_CERT: SimEF(_pad(certs.auth_ca, 2048)),
                apdu.EF_JPKI_SIGN_CA_CERT: SimEF(_pad(certs.signing_ca, 2048)),
                apdu.EF_JPKI_AUTH_PIN: SimEF(pin_ref="auth"),
            }
        )
        if certs.signing is not None:
            jpki.efs[apdu.EF_JPKI_SIGN_CERT] = SimEF(_pad(certs.signing, 2048), pin="signing")
            jpki.efs[apdu.EF_JPKI_SIGN_PIN] = SimEF(pin_ref="signing")
        else:
            # Child persona: neither the SIGNING certificate nor its password exists.
            del self.pins["signing"]
        basic = parsers.encode_basic_four(
            name=self.data.name,
            address=self.data.address,
            birth_date=self.data.birth_date,
            sex=self.data.sex,
        )
        text = SimAP(
            {
                apdu.EF_TEXT_PIN: SimEF(pin_ref="text"),
                apdu.EF_TEXT_MY_NUMBER: SimEF(
                    parsers.encode_my_number(self.data.my_number), "text"
                ),
                apdu.EF_TEXT_BASIC_FOUR: SimEF(_pad(basic, max(len(basic) + 16, 0x240)), "text"),
                # Integrity data (hashes + signature): fictional filler of a realistic size.
                apdu.EF_TEXT_INTEGRITY: SimEF(
                    _pad(b"\x30\x82\x01\x00" + bytes(256), 0x200), "text"
                ),
            }
        )
        resident = SimAP({apdu.EF_RESIDENT_PIN: SimEF(pin_ref="resident")})
        self.aps: dict[bytes, SimAP] = {
            apdu.AID_JPKI: jpki,
            apdu.AID_TEXT: text,
            apdu.AID_RESIDENT: resident,
        }
        self._ap: bytes | None = None
        self._ef: SimEF | None = None
        self.apdu_count = 0

    def reset(self) -> None:
        """Power off/on or reset: the verified state and the selection are lost, counters stay."""
        with self._lock:
            for pin in self.pins.values():
                pin.verified = False
            self._ap = None
            self._ef = None

    def process(self, raw: bytes) -> bytes:
        with self._lock:
            self.apdu_count += 1
            return self._process(raw).to_bytes()

    def transmit(self, command: bytes) -> apdu.Response:
        """In-process Transport for CardSession, without pcscd."""
        return apdu.Response.from_bytes(self.process(command))

    @staticmethod
    def _sw(sw: int, data: bytes = b"") -> apdu.Response:
        return apdu.Response(data, sw >> 8, sw & 0xFF)

    def _process(self, raw: bytes) -> apdu.Response:
        try:
            cmd = apdu.Command.parse(raw)
        except ValueError:
            return self._sw(apdu.SW_WRONG_LENGTH)
        if cmd.cla != 0x00:
            return self._sw(apdu.SW_CLA_NOT_SUPPORTED)
        if cmd.ins == 0xA4:
            return self._select(cmd)
        if cmd.ins == 0xB0:
            return self._read_binary(cmd)
        if cmd.ins == 0x20:
            return self._verify(cmd)
        return self._sw(apdu.SW_INS_NOT_SUPPORTED)

    def _select(self, cmd: apdu.Command) -> apdu.Response:
        if cmd.p1 == 0x04:
            ap = cmd.data
            if ap not in self.aps:
                return self._sw(apdu.SW_FILE_NOT_FOUND)
            if ap != self._ap:
                # Security state belongs to the DF: leaving it drops verified PINs, as real
                # cards do, so the agent must verify in the AP it reads from.
                for pin in self.pins.values():
                    pin.verified = False
            self._ap, self._ef = ap, None
            return self._sw(apdu.SW_OK)
        if cmd.p1 == 0x02:
            if len(cmd.data) != 2:
                return self._sw(apdu.SW_WRONG_LENGTH)
            if self._ap is None:
                return self._sw(apdu.SW_FILE_NOT_FOUND)
            ef = self.aps[self._ap].efs.get(int.from_bytes(cmd.data, "big"))
            if ef is None:
                return self._sw(apdu.SW_FILE_NOT_FOUND)
            self._ef = ef
            return self._sw(apdu.SW_OK)
        return self._sw(apdu.SW_WRONG_P1P2)

    def _read_binary(self, cmd: apdu.Command) -> apdu.Response:
        ef = self._ef
        if ef is None or ef.pin_ref is not None:
            return self._sw(apdu.SW_COMMAND_NOT_ALLOWED)
        if cmd.p1 & 0x80:
            return self._sw(apdu.SW_WRONG_P1P2)  # short EF ids are not simulated
        if ef.pin is not None and not self.pins[ef.pin].verified:
            return self._sw(apdu.SW_SECURITY_NOT_SATISFIED)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset >= len(ef.data):
            return self._sw(apdu.SW_WRONG_P1P2_OFFSET)
        le = cmd.le if cmd.le is not None else 256
        return self._sw(apdu.SW_OK, ef.data[offset : offset + le])

    def _verify(self, cmd: apdu.Command) -> apdu.Response:
        ef = self._ef
        if ef is None or ef.pin_ref is None or cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return self._sw(apdu.SW_COMMAND_NOT_ALLOWED)
        pin = self.pins[ef.pin_ref]
        if pin.blocked:
            return self._sw(apdu.SW_REFERENCE_DATA_BLOCKED)
        if not cmd.data:
            # Status only: no try spent.
            return self._sw(apdu.SW_OK if pin.verified else 0x63C0 | pin.tries_left)
        if cmd.data == pin.value:
            pin.tries_left = pin.limit
            pin.verified = True
            return self._sw(apdu.SW_OK)
        pin.tries_left -= 1
        pin.verified = False
        return self._sw(0x63C0 | pin.tries_left)


def build_card(persona: str = "ordinary", **overrides: object) -> CardModel:
    return CardModel(persona_data(persona, **overrides))


# --- vpcd connection ----------------------------------------------------------------------------

_CTRL_POWER_OFF = 0x00
_CTRL_POWER_ON = 0x01
_CTRL_RESET = 0x02
_CTRL_ATR = 0x04


def _set_low_latency(sock: socket.socket) -> None:
    # Without these each APDU waits for delayed ACKs: ~45 ms instead of well under 1 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quickack = getattr(socket, "TCP_QUICKACK", None)  # Linux only
    if quickack is not None:
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    quickack = getattr(socket, "TCP_QUICKACK", None)
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        if quickack is not None:
            # Linux drops quick-ACK mode after a while, so re-arm it after every read. vpcd
            # writes the length and the payload separately; with Nagle on its side the payload
            # waits until our ACK of the length arrives, i.e. ~40 ms of delayed ACK per frame.
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        buf += chunk
    return bytes(buf)


class SimulatedCard:
    """A CardModel attached to vpcd (pcscd's virtual reader) over TCP, in a background thread.

    Removal closes the TCP connection and insertion opens it again: vpcd then reports "no card"
    / "card" at its next presence poll (about every 0.44 s). An empty ATR in answer to the `04`
    poll, the documented "no card" answer, is NOT used: Debian's vsmartcard-vpcd 3.3 then waits
    in recv(size 0, MSG_WAITALL) for a byte that never comes, and pcscd keeps reporting the card
    as present (measured here). Reconnects by itself if pcscd restarts.
    """

    def __init__(
        self,
        model: CardModel | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_VPCD_PORT,
        inserted: bool = True,
        atr: bytes = DEFAULT_ATR,
    ) -> None:
        self._model = model or CardModel()
        self.host, self.port, self.atr = host, port, atr
        self._inserted = threading.Event()
        if inserted:
            self._inserted.set()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    # Programmatic control -------------------------------------------------------------------

    @property
    def model(self) -> CardModel:
        return self._model

    @model.setter
    def model(self, model: CardModel) -> None:
        """Swap the card (e.g. another persona); do it while removed, like a real swap."""
        with self._lock:
            self._model = model

    @property
    def inserted(self) -> bool:
        return self._inserted.is_set()

    def insert(self, model: CardModel | None = None) -> None:
        with self._lock:
            if model is not None:
                self._model = model
            self._model.reset()
        self._inserted.set()

    def remove(self) -> None:
        self._inserted.clear()
        with self._lock:
            self._model.reset()
        self._drop_connection()

    def _drop_connection(self) -> None:
        sock = self._sock
        if sock is not None:
            # Unblocks the serving thread's recv; it then closes the socket.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def start(self) -> SimulatedCard:
        self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """True once connected to vpcd (only happens while inserted)."""
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._inserted.set()  # wake the thread if it waits for an insertion
        self._drop_connection()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatedCard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_forever(self) -> None:
        """Run in the calling thread until stop() (used by the CLI)."""
        self._run()

    # Wire protocol --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._inserted.is_set():
                self._inserted.wait(0.5)
                continue
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
            except OSError:
                # pcscd not up yet (start order does not matter): try again shortly.
                self._stop.wait(0.5)
                continue
            sock.settimeout(None)
            _set_low_latency(sock)
            self._sock = sock
            if not self._inserted.is_set() or self._stop.is_set():
                # remove()/stop() raced with the connect: it could not see this socket.
                self._sock = None
                sock.close()
                continue
            self._connected.set()
            log.info("simulated card connected to vpcd at %s:%d", self.host, self.port)
            try:
                self._serve(sock)
            except OSError as exc:
                log.info("vpcd connection lost: %s", exc)
            finally:
                self._connected.clear()
                self._sock = None
                sock.close()
            if self._inserted.is_set():
                self._stop.wait(0.2)  # vpcd dropped us (e.g. pcscd restart): back off a little

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set() and self._inserted.is_set():
            head = _recv_exact(sock, 2)
            if head is None:
                return
            (length,) = struct.unpack(">H", head)
            payload = _recv_exact(sock, length) if length else b""
            if payload is None or not self._inserted.is_set():
                return
            with self._lock:
                model = self._model
            if len(payload) == 1:
                ctrl = payload[0]
                if ctrl in (_CTRL_POWER_OFF, _CTRL_POWER_ON, _CTRL_RESET):
                    model.reset()
                elif ctrl == _CTRL_ATR:
                    self._send(sock, self.atr)
                continue
            self._send(sock, model.process(payload))
